import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { checkNodeDefinitionFile } from '../../../src/descriptors/schema/node-definitions.js';
import { configManagerTypes, resourceTypeInfo, resourceTypes, type ResourceType } from '../../../src/drivers/registry.js';
import { contextualisationTypes } from '../../../src/resolution/contextualisation/registry.js';
import { assertSomeMessage, fakeDoc, messagesOf } from './helpers.js';

/** Every documented key of each type (formats §3.3), with realistic values. */
const full: Record<ResourceType, Record<string, unknown>> = {
  ec2: {
    type: 'ec2',
    endpoint: 'https://ec2.eu-west-1.amazonaws.com',
    regionname: 'eu-west-1',
    image_id: 'ami-12345678',
    instance_type: 't2.small',
    key_name: 'mykey',
    security_group_ids: ['sg-1', 'sg-2'],
    subnet_id: 'subnet-1',
    name: 'my_ec2_cloud',
    tags: { owner: 'me', cost_centre: 42 },
  },
  nova: {
    type: 'nova',
    endpoint: 'https://keystone.example.org:5000/v3',
    image_id: '6bba6dc3-b6d5-4b15-942e-61e0ef2f93cb',
    flavor_name: 3,
    project_id: 'a9c30db63ddf47a98045ef9c726c7436',
    server_name: 'jupyter-{{cut(infra_id,0,4)}}',
    key_name: 'mykey',
    security_groups: ['default'],
    floating_ip: 'yes',
    name: 'sztaki',
    tenant_name: 'ignored',
    user_domain_name: 'Default',
    network_id: 'net-1',
    floating_ip_pool: 'public',
    region_name: 'RegionOne',
    volume_size: 20,
    volume_persist: false,
  },
  azure_vm: {
    type: 'azure_vm',
    endpoint: 'https://management.azure.com',
    resource_group: 'rg',
    location: 'westeurope',
    vm_size: 'Standard_B1s',
    publisher: 'Canonical',
    offer: 'UbuntuServer',
    sku: '18.04-LTS',
    version: 'latest',
    username: 'occopus',
    public_ip_needed: true,
    vnet_name: 'vnet',
    subnet_name: 'subnet',
    customdata: 'unused',
    server_name: 'vm1',
    password: 'secret',
    ssh_key_data: 'ssh-rsa AAAA',
  },
  azure_aci: {
    type: 'azure_aci',
    endpoint: 'https://management.azure.com',
    resource_group: 'rg',
    location: 'westeurope',
    cpu_cores: 1,
    memory: 1.5,
    image: 'nginx:alpine',
    os_type: 'linux',
    network_type: 'Public',
    gpu_type: 'K80',
    gpu_count: 1,
    ports: [80, '53/UDP'],
    vnet_name: 'vnet',
    subnet_name: 'subnet',
  },
  cloudsigma: {
    type: 'cloudsigma',
    endpoint: 'https://zrh.cloudsigma.com/api/2.0',
    libdrive_id: 'drive-1',
    description: { cpu: 2000, mem: 1073741824, vnc_password: 'secret', pubkeys: ['k'], nics: [{ ip_v4_conf: { conf: 'dhcp' } }] },
    name: 'my_cloudsigma_cloud',
  },
  cloudbroker: {
    type: 'cloudbroker',
    endpoint: 'https://cola-prototype.cloudbroker.com',
    description: { deployment_id: 'd-1', instance_type_id: 'i-1', key_pair_id: 'k-1', opened_port: '22,80' },
    name: 'cb',
    start_in_vpc: false,
  },
  docker: {
    type: 'docker',
    endpoint: 'unix:///var/run/docker.sock',
    origin: 'https://s3.example.org/busybox.tar',
    image: 'busybox',
    tag: 'latest',
    name: 'local-docker',
  },
  local: { type: 'local', name: 'here' },
  dummy: {
    type: 'dummy',
    name: 'fake',
    create_delay: 0.1,
    ready_delay: 0,
    failure_rate: 0.5,
    address_pattern: '10.0.{n}.{m}',
    endpoint: 'dummy://',
  },
};

const required: Record<ResourceType, string[]> = {
  ec2: ['endpoint', 'regionname', 'image_id', 'instance_type'],
  nova: ['endpoint', 'image_id', 'flavor_name', 'project_id'],
  azure_vm: ['endpoint', 'resource_group', 'location', 'vm_size', 'publisher', 'offer', 'sku', 'version', 'username'],
  azure_aci: ['endpoint', 'resource_group', 'location', 'cpu_cores', 'memory', 'image', 'os_type', 'network_type'],
  cloudsigma: ['endpoint', 'libdrive_id', 'description'],
  cloudbroker: ['endpoint', 'description'],
  docker: ['endpoint', 'origin', 'image', 'tag'],
  local: [],
  dummy: [],
};

function resourceMessages(resource: Record<string, unknown>): string[] {
  return messagesOf(() => checkNodeDefinitionFile(fakeDoc({ 'node_def:web': [{ resource }] })));
}
function accepts(resource: Record<string, unknown>): void {
  checkNodeDefinitionFile(fakeDoc({ 'node_def:web': [{ resource }] }));
}
const PREFIX = "'resource' section of node 'web'[0]: ";

describe('driver registry', () => {
  it('knows the Occopus resource types plus local and dummy', () => {
    assert.deepEqual(Object.keys(resourceTypes), ['ec2', 'nova', 'azure_vm', 'azure_aci', 'cloudsigma', 'cloudbroker', 'docker', 'local', 'dummy']);
    assert.deepEqual(Object.keys(configManagerTypes), ['dummy', 'chef', 'puppet_solo']);
    assert.deepEqual(Object.keys(contextualisationTypes), ['cloudinit', 'docker', 'basic']);
  });

  it('names the auth_data keys of each type', () => {
    assert.deepEqual(resourceTypes.ec2.authKeys, ['accesskey', 'secretkey']);
    assert.deepEqual(resourceTypes.nova.authKeys, ['username', 'password']);
    assert.deepEqual(resourceTypes.azure_aci.authKeys, ['tenant_id', 'client_id', 'client_secret', 'subscription_id']);
    assert.deepEqual(resourceTypes.cloudsigma.authKeys, ['email', 'password']);
    assert.deepEqual(resourceTypes.docker.authKeys, []);
    assert.deepEqual(configManagerTypes.chef.authKeys, ['client_name', 'client_key']);
  });

  it('looks types up without falling for inherited properties', () => {
    assert.equal(resourceTypeInfo('ec2')?.type, 'ec2');
    assert.equal(resourceTypeInfo('constructor'), undefined);
    assert.equal(resourceTypeInfo(5), undefined);
  });
});

describe('resource section per type', () => {
  for (const type of Object.keys(full) as ResourceType[]) {
    describe(type, () => {
      it('accepts every documented key', () => {
        accepts(full[type]);
      });

      it('accepts only the required keys', () => {
        const minimal: Record<string, unknown> = { type };
        for (const k of required[type]) minimal[k] = full[type][k];
        if (type === 'azure_vm') minimal.password = 'secret';
        accepts(minimal);
      });

      for (const key of required[type]) {
        it(`reports a missing ${key}`, () => {
          const { [key]: _dropped, ...rest } = full[type];
          assert.deepEqual(resourceMessages(rest), [`${PREFIX}Missing key(s): ${key}`]);
        });
      }

      it('rejects a key of another type', () => {
        const foreign = type === 'nova' ? 'regionname' : 'flavor_name';
        assert.deepEqual(resourceMessages({ ...full[type], [foreign]: 'x' }), [`${PREFIX}Unknown key(s): ${foreign}`]);
      });
    });
  }
});

describe('resource values', () => {
  it('nova: tolerates empty optional keys, an integer flavor and any floating_ip', () => {
    accepts({ ...full.nova, network_id: null, key_name: null, security_groups: null, flavor_name: 3, floating_ip: false });
  });

  it('nova: volume_size must be a non-negative integer (a string of digits is fine)', () => {
    accepts({ ...full.nova, volume_size: '10' });
    accepts({ ...full.nova, volume_size: 0 });
    assert.deepEqual(resourceMessages({ ...full.nova, volume_size: -1 }), [`${PREFIX}volume_size must be a non-negative integer`]);
    assert.deepEqual(resourceMessages({ ...full.nova, volume_size: 'big' }), [`${PREFIX}volume_size must be a non-negative integer`]);
  });

  it('ec2: tags as a mapping or as the documented list of {Key, Value}', () => {
    accepts({ ...full.ec2, tags: { a: 'b' } });
    accepts({ ...full.ec2, tags: [{ Key: 'owner', Value: 'me' }] });
    assertSomeMessage(resourceMessages({ ...full.ec2, tags: [{ Key: 'owner' }] }), 'Missing key(s) in tags[0]: Value');
    assertSomeMessage(resourceMessages({ ...full.ec2, tags: 'owner=me' }), 'tags must be a mapping of tag names to values, or a list of {Key, Value} mappings');
  });

  it('ec2: security_group_ids must be a list', () => {
    assertSomeMessage(resourceMessages({ ...full.ec2, security_group_ids: 'sg-1' }), 'security_group_ids must be a list');
  });

  it('azure_vm: needs a password or an ssh key; nic_name is not accepted', () => {
    const { password: _p, ssh_key_data: _s, ...noCredential } = full.azure_vm;
    assertSomeMessage(resourceMessages(noCredential), "either 'password' or 'ssh_key_data'");
    accepts({ ...noCredential, ssh_key_data: 'ssh-rsa AAAA' });
    assert.deepEqual(resourceMessages({ ...full.azure_vm, nic_name: 'nic' }), [`${PREFIX}Unknown key(s): nic_name`]);
  });

  it('azure_vm: the credential rule is reported together with other problems', () => {
    const { password: _p, ssh_key_data: _s, location: _l, ...rest } = full.azure_vm;
    const ms = resourceMessages(rest);
    assertSomeMessage(ms, 'Missing key(s): location');
    assertSomeMessage(ms, "either 'password' or 'ssh_key_data'");
  });

  it('azure_aci: network_type is Public or Private in any case; ports are numbers or port/protocol', () => {
    accepts({ ...full.azure_aci, network_type: 'private' });
    assertSomeMessage(resourceMessages({ ...full.azure_aci, network_type: 'internal' }), "network_type must be 'Public' or 'Private'");
    assertSomeMessage(resourceMessages({ ...full.azure_aci, ports: ['http'] }), 'ports[0] must be like 80');
  });

  it('cloudbroker and cloudsigma: the description needs its own keys but is otherwise free-form', () => {
    assertSomeMessage(resourceMessages({ ...full.cloudbroker, description: { instance_type_id: 'i' } }), 'Missing key(s) in description: deployment_id');
    assertSomeMessage(resourceMessages({ ...full.cloudsigma, description: { cpu: 1, mem: 2 } }), 'Missing key(s) in description: vnc_password');
    assertSomeMessage(resourceMessages({ ...full.cloudsigma, description: 'small' }), 'description must be a mapping');
  });

  it('docker: origin must not be empty (it does not mean Docker Hub)', () => {
    assertSomeMessage(resourceMessages({ ...full.docker, origin: '' }), 'origin must be');
    accepts({ ...full.docker, origin: 'dockerhub', tag: 1.0 });
  });

  it('dummy: delays are non-negative seconds and failure_rate is between 0 and 1', () => {
    const ms = resourceMessages({ type: 'dummy', create_delay: -1, ready_delay: 'soon', failure_rate: 1.5 });
    assert.deepEqual(ms, [
      `${PREFIX}create_delay must be a non-negative number of seconds`,
      `${PREFIX}ready_delay must be a non-negative number of seconds`,
      `${PREFIX}failure_rate must be a number from 0 to 1`,
    ]);
  });

  it('local: only a name besides the type', () => {
    assert.deepEqual(resourceMessages({ type: 'local', workdir: '/tmp' }), [`${PREFIX}Unknown key(s): workdir`]);
  });

  it('endpoints must be non-empty strings', () => {
    assertSomeMessage(resourceMessages({ ...full.ec2, endpoint: 5 }), 'endpoint must be the URL of the EC2 API');
  });
});
