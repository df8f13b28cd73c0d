import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { sharedExamples } from '../../helpers/cli.js';
import type { AttributeMapping, NodeDescription } from '../../../src/compiler/types.js';
import type { NodeDefinition, NodeDefinitionFile } from '../../../src/descriptors/types.js';
import { loadYamlFile } from '../../../src/descriptors/load.js';
import { NodeContextSchemaError, SchemaError, TemplateError } from '../../../src/errors.js';
import { resolveNode, type AddressLookup, type InstanceAddresses, type ResolveOptions } from '../../../src/resolution/resolve.js';

const EXAMPLES = sharedExamples;

function definitionOf(example: string, type: string): NodeDefinition {
  const file = loadYamlFile(path.join(EXAMPLES, example, 'nodes', 'node_definitions.yaml')).value as NodeDefinitionFile;
  const impls = file[`node_def:${type}`];
  assert.ok(impls?.[0], `${example} defines ${type}`);
  return impls[0];
}

/** The node description the compiler would make for `name` of an example infra (variables merged). */
function nodeOf(example: string, name: string, mappings: NodeDescription['mappings'] = { inbound: {}, outbound: {} }): NodeDescription {
  const infraFile = path.join(EXAMPLES, example, `infra-${example}.yaml`);
  const infra = loadYamlFile(infraFile).value as { infra_name: string; user_id: string; variables?: object; nodes: { name: string; type: string; variables?: object }[] };
  const entry = infra.nodes.find((n) => n.name === name);
  assert.ok(entry, `${example} has node ${name}`);
  return {
    name: entry.name,
    type: entry.type,
    variables: { ...(infra.variables ?? {}), ...(entry.variables ?? {}) },
    infra_id: '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d',
    infra_name: infra.infra_name,
    user_id: infra.user_id,
    mappings,
  };
}

function lookupOf(table: Record<string, InstanceAddresses[]>): AddressLookup {
  return { instancesOf: (name) => (name ? table[name] ?? [] : Object.values(table).flat()) };
}

const receiverUp = lookupOf({ 'ping-receiver': [{ public: ['10.1.2.3'], private: ['192.168.1.3'] }] });

function options(node: NodeDescription, definition: NodeDefinition, extra: Partial<ResolveOptions> = {}): ResolveOptions {
  return { nodeId: 'node-id-1', node, definition, lookup: receiverUp, allowCmd: false, ...extra };
}

test('ec2-ping sender: the cloud-config gets the receiver address and the message', () => {
  const definition = definitionOf('ec2-ping', 'ec2_ping_sender_node');
  const node = nodeOf('ec2-ping', 'ping-sender', { inbound: { 'ping-receiver': [] }, outbound: {} });
  const before = structuredClone({ definition, node });
  const resolved = resolveNode(options(node, definition));

  assert.ok(resolved.context?.startsWith('#cloud-config\n'));
  assert.ok(resolved.context?.includes('ping 10.1.2.3 -c 5 > /tmp/ping-result.txt 2>&1'));
  const cloudConfig = YAML.parse(resolved.context ?? '') as { write_files: { content: string; permissions: unknown }[]; runcmd: string[] };
  assert.equal(cloudConfig.write_files[0]?.content, 'Hello World! I am the sender node created by Occopus.\n');
  assert.equal(cloudConfig.write_files[0]?.permissions, '0644');
  assert.equal(resolved.node_id, 'node-id-1');
  assert.equal(resolved.name, 'ping-sender');
  assert.equal(resolved.infra_name, 'ec2-ping-infra');
  assert.equal(resolved.resource.name, 'my_ec2_cloud');
  assert.deepEqual(resolved.contextualisation, { type: 'cloudinit' });
  assert.deepEqual(resolved.attributes, { connections: [] });
  assert.deepEqual(resolved.synch_attrs, []);
  assert.equal(resolved.create_timeout, null);
  assert.deepEqual({ definition, node }, before, 'inputs are not modified');
});

test('ec2-ping sender before its receiver exists: a TemplateError that names the template and the node', () => {
  const definition = definitionOf('ec2-ping', 'ec2_ping_sender_node');
  assert.throws(
    () => resolveNode(options(nodeOf('ec2-ping', 'ping-sender'), definition, { lookup: lookupOf({}) })),
    (e: unknown) =>
      e instanceof TemplateError &&
      e.message.includes("contextualisation.context_template of node 'ping-sender'") &&
      e.message.includes("No node exists with the given name: 'ping-receiver'"),
  );
});

test("nova-ping sender: getip(variables.targetnode) reads the node name from the variables", () => {
  const resolved = resolveNode(options(nodeOf('nova-ping', 'ping-sender'), definitionOf('nova-ping', 'nova_ping_sender_node')));
  assert.deepEqual((YAML.parse(resolved.context ?? '') as { runcmd: string[] }).runcmd, ['ping 10.1.2.3 -c 5 > /tmp/ping-result.txt 2>&1']);
  assert.equal(resolved.resource.server_name, 'mypingsender');
});

test('helloworld examples (ec2, nova): the message lands in the written file', () => {
  for (const [example, type, file] of [
    ['ec2-helloworld', 'ec2_helloworld_node', '/tmp/helloworld.txt'],
    ['nova-helloworld', 'nova_helloworld_node', '/tmp/helloworld.txt'],
  ] as const) {
    const resolved = resolveNode(options(nodeOf(example, 'helloworld'), definitionOf(example, type)));
    const cc = YAML.parse(resolved.context ?? '') as { write_files: { content: string; path: string }[] };
    assert.equal(cc.write_files[0]?.content, 'Hello World! I have been created by Occopus\n', example);
    assert.equal(cc.write_files[0]?.path, file);
  }
});

test('docker-ping sender: env gets target_ip, no user data, resource left as written', () => {
  const definition = definitionOf('docker-ping', 'docker_ping_sender_node');
  const resolved = resolveNode(options(nodeOf('docker-ping', 'ping-sender'), definition));
  assert.deepEqual(resolved.attributes, { env: ['target_ip=10.1.2.3'], command: 'sh -c /root/start.sh', connections: [] });
  assert.equal(resolved.context, undefined);
  assert.deepEqual(resolved.resource, definition.resource);
  assert.deepEqual(resolved.health_check, { ping: false });
  assert.deepEqual(definition.contextualisation?.['env'], ["target_ip={{getip('ping-receiver')}}"], 'definition untouched');
});

test('docker-helloworld: the message variable is rendered into env', () => {
  const resolved = resolveNode(options(nodeOf('docker-helloworld', 'helloworld'), definitionOf('docker-helloworld', 'docker_helloworld_node')));
  assert.deepEqual(resolved.attributes['env'], ['message=Hello World! I have been created by Occopus.']);
});

test('docker context_variables: parsed and visible as names and as context_variables', () => {
  const definition: NodeDefinition = {
    resource: { type: 'docker', image: '{{ not_rendered }}' },
    contextualisation: {
      type: 'docker',
      env: ['A={{ port }}', 'B={{ context_variables.host }}', 'C={{ secret | b64encode }}'],
      context_variables: 'port: {{ variables.port }}\nhost: "{{ getip(\'ping-receiver\') }}"\nsecret: s3\n',
    },
  };
  const node = { ...nodeOf('docker-ping', 'ping-sender'), variables: { port: 8080 } };
  const resolved = resolveNode(options(node, definition));
  assert.deepEqual(resolved.attributes['env'], ['A=8080', 'B=10.1.2.3', `C=${Buffer.from('s3').toString('base64')}`]);
  assert.equal(resolved.attributes['command'], null);
  assert.equal(resolved.resource['image'], '{{ not_rendered }}');
  assert.equal(resolved.contextualisation?.['context_variables'], undefined);

  const mappingForm: NodeDefinition = {
    resource: { type: 'docker' },
    contextualisation: { type: 'docker', env: ['X={{ x }}'], command: 'run', context_variables: { x: '{{ variables.port }}' } },
  };
  assert.deepEqual(resolveNode(options(node, mappingForm)).attributes['env'], ['X=8080']);

  const broken: NodeDefinition = {
    resource: { type: 'docker' },
    contextualisation: { type: 'docker', env: [], context_variables: 'a: [unclosed' },
  };
  assert.throws(() => resolveNode(options(node, broken)), NodeContextSchemaError);
});

test('a rendered #cloud-config that is not YAML is a NodeContextSchemaError with the line', () => {
  const definition: NodeDefinition = {
    resource: { type: 'ec2' },
    contextualisation: { type: 'cloudinit', context_template: '#cloud-config\nbootcmd: {{ variables.cmd }}\n' },
  };
  const node = { ...nodeOf('ec2-ping', 'ping-sender'), variables: { cmd: 'a: b: c' } };
  assert.throws(
    () => resolveNode(options(node, definition)),
    (e: unknown) =>
      e instanceof NodeContextSchemaError &&
      e.code === 'E_CONTEXT_SCHEMA' &&
      e.message.startsWith('Schema error in context of node definition at line 1.') &&
      e.message.includes("'ping-sender'"),
  );
  // A shell script is not checked.
  const script: NodeDefinition = {
    resource: { type: 'ec2' },
    contextualisation: { type: 'cloudinit', context_template: '#!/bin/sh\necho {{ variables.cmd }}\n' },
  };
  assert.equal(resolveNode(options(node, script)).context, '#!/bin/sh\necho a: b: c');
});

test('flowbster-style text template: .in attribute, for/if defined, getipall as a Python list', () => {
  const contextTemplate = [
    '#cloud-config',
    'write_files:',
    '- content: |',
    '        inputs: {% for item in variables.flowbster.app.in %}',
    '            -',
    '                name: {{item.name}} {% if item.collector is defined %}',
    '                collector: {{item.collector}} {% endif %} {% endfor %}',
    '        outputs: {% for item in variables.flowbster.app.out %}',
    "            -",
    '                targetip  : {% if item.targetnode is defined %}{{getipall(item.targetnode)}}{% else %}{{item.targetip}}{% endif %}{% endfor %}',
    '  path: /etc/flowbster-config-app.yaml',
    '',
  ].join('\n');
  const definition: NodeDefinition = { resource: { type: 'ec2' }, contextualisation: { type: 'cloudinit', context_template: contextTemplate } };
  const node = {
    ...nodeOf('ec2-ping', 'ping-sender'),
    variables: { flowbster: { app: { in: [{ name: 'a', collector: 'true' }, { name: 'b' }], out: [{ targetnode: 'VINA' }] } } },
  };
  const lookup = lookupOf({ VINA: [{ public: ['10.0.0.1'], private: [] }, { public: ['10.0.0.2'], private: [] }] });
  const resolved = resolveNode(options(node, definition, { lookup }));
  const content = (YAML.parse(resolved.context ?? '') as { write_files: { content: string }[] }).write_files[0]?.content ?? '';
  assert.match(content, /targetip {2}: \['10\.0\.0\.1', '10\.0\.0\.2'\]/);
  assert.deepEqual(YAML.parse(content), {
    inputs: [{ name: 'a', collector: true }, { name: 'b' }],
    outputs: [{ targetip: ['10.0.0.1', '10.0.0.2'] }],
  });
});

test('context_template: a string is used verbatim, null gives empty user data', () => {
  const node = nodeOf('ec2-ping', 'ping-sender');
  const text: NodeDefinition = { resource: { type: 'ec2' }, contextualisation: { type: 'cloudinit', context_template: '#!/bin/sh\n{{ name }}\n\n' } };
  assert.equal(resolveNode(options(node, text)).context, '#!/bin/sh\nping-sender\n');
  const none: NodeDefinition = { resource: { type: 'ec2' }, contextualisation: { type: 'cloudinit', context_template: null } };
  assert.equal(resolveNode(options(node, none)).context, '');
});

test('cloudinit renders resource and config_management strings; puppet names use Python reprs', () => {
  const definition: NodeDefinition = {
    resource: { type: 'nova', server_name: 'jupyterlab-{{cut(infra_id,0,4)}}', flavor_name: 3, security_groups: ['{{ variables.sg }}'] },
    config_management: {
      type: 'puppet_solo',
      manifests: ['https://example.org/site.pp'],
      modules: ['puppetlabs-mysql', 'puppetlabs-apache'],
      attributes: [{ dbuser: '{{ variables.user }}' }, { mysqlhost: "{{getip('ping-receiver')}}" }],
    },
    contextualisation: {
      type: 'cloudinit',
      context_template: {
        runcmd: ['echo {{ resource.server_name }}', 'echo {{ puppet.modules }}'],
        write_files: [{ path: '/tmp/hiera.sh', content: 'echo "{{ puppet.attributes }}" | sed s/x/y/\n' }],
      },
    },
  };
  const node = { ...nodeOf('ec2-ping', 'ping-sender'), variables: { sg: 'default', user: 'wp' } };
  const resolved = resolveNode(options(node, definition));
  assert.equal(resolved.resource.server_name, 'jupyterlab-0b1c');
  assert.equal(resolved.resource['flavor_name'], 3);
  assert.deepEqual(resolved.resource['security_groups'], ['default']);
  assert.deepEqual(resolved.config_management?.['attributes'], [{ dbuser: 'wp' }, { mysqlhost: '10.1.2.3' }]);
  const cc = YAML.parse(resolved.context ?? '') as { runcmd: string[]; write_files: { content: string }[] };
  assert.deepEqual(cc.runcmd, ['echo jupyterlab-0b1c', 'echo puppetlabs-mysql puppetlabs-apache']);
  assert.equal(cc.write_files[0]?.content, `echo "{'dbuser': 'wp'} {'mysqlhost': '10.1.2.3'}" | sed s/x/y/\n`);
});

test('the template context has node_id, the description fields and the definition sections', () => {
  const definition: NodeDefinition = {
    resource: { type: 'ec2', name: 'cloud-a' },
    contextualisation: { type: 'cloudinit', context_template: '{{node_id}}|{{name}}|{{infra_id}}|{{infra_name}}|{{user_id}}|{{type}}|{{resource.name}}|{{contextualisation.type}}|{{ip}}' },
  };
  const resolved = resolveNode(options(nodeOf('ec2-ping', 'ping-sender'), definition));
  assert.equal(
    resolved.context,
    'node-id-1|ping-sender|0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d|ec2-ping-infra|somebody@somewhere.com|ec2_ping_sender_node|cloud-a|cloudinit|',
  );
});

test('attributes: each string rendered, connections from inbound mappings, synch_attrs from outbound ones', () => {
  const mapping = (src: string, dst: string, synch = false): AttributeMapping => ({ attributes: [src, dst], synch });
  const node = nodeOf('ec2-ping', 'ping-sender', {
    inbound: { 'mysql-server': [mapping('fqdn', 'wordpress.db.host')], cache: [mapping('ip', 'cache.host'), mapping('port', 'cache.port')] },
    outbound: { frontend: [mapping('url', 'backend.url', true), mapping('x', 'y')] },
  });
  const definition: NodeDefinition = {
    resource: { type: 'ec2' },
    contextualisation: {
      type: 'cloudinit',
      context_template: null,
      attributes: { wordpress: { db: { user: '{{ variables.message }}', port: 3306 } }, list: ['{{ name }}', true] },
    },
  };
  const resolved = resolveNode(options(node, definition));
  const iid = node.infra_id;
  assert.deepEqual(resolved.attributes, {
    wordpress: { db: { user: 'Hello World! I am the sender node created by Occopus.', port: 3306 } },
    list: ['ping-sender', true],
    connections: [
      { source_role: `${iid}_mysql-server`, source_attribute: 'fqdn', destination_attribute: 'wordpress.db.host' },
      { source_role: `${iid}_cache`, source_attribute: 'ip', destination_attribute: 'cache.host' },
      { source_role: `${iid}_cache`, source_attribute: 'port', destination_attribute: 'cache.port' },
    ],
  });
  assert.deepEqual(resolved.contextualisation?.['attributes'], resolved.attributes);
  assert.deepEqual(resolved.synch_attrs, ['url']);
});

test('basic resolver: attributes only, getip works, no user data', () => {
  const definition: NodeDefinition = {
    resource: { type: 'azure_aci', name: '{{ raw }}' },
    contextualisation: { type: 'basic', attributes: { target: "{{ getip('ping-receiver') }}" } },
  };
  const resolved = resolveNode(options(nodeOf('ec2-ping', 'ping-sender'), definition));
  assert.deepEqual(resolved.attributes, { target: '10.1.2.3', connections: [] });
  assert.equal(resolved.context, undefined);
  assert.equal(resolved.resource.name, '{{ raw }}');

  const noSection = resolveNode(options(nodeOf('ec2-ping', 'ping-sender'), { resource: { type: 'azure_aci' } }));
  assert.deepEqual(noSection.attributes, { connections: [] });
  assert.equal(noSection.contextualisation, undefined);
});

test('create_timeout: the node description wins over the definition; else null', () => {
  const node = nodeOf('ec2-ping', 'ping-sender');
  const def: NodeDefinition = { resource: { type: 'ec2' }, create_timeout: 300 };
  assert.equal(resolveNode(options({ ...node, create_timeout: 60 }, def)).create_timeout, 60);
  assert.equal(resolveNode(options(node, def)).create_timeout, 300);
  assert.equal(resolveNode(options(node, { resource: { type: 'ec2' } })).create_timeout, null);
});

test('warnings reach the caller', () => {
  const warnings: string[] = [];
  const definition: NodeDefinition = {
    resource: { type: 'ec2' },
    contextualisation: { type: 'cloudinit', context_template: "{{ getip('w') }}" },
  };
  const lookup = lookupOf({ w: [{ public: ['1.1.1.1'], private: [] }, { public: ['2.2.2.2'], private: [] }] });
  const resolved = resolveNode(options(nodeOf('ec2-ping', 'ping-sender'), definition, { lookup, warn: (m) => warnings.push(m) }));
  assert.equal(resolved.context, '1.1.1.1');
  assert.equal(warnings.length, 1);
});

test('an unknown contextualisation type is a schema error, not a crash', () => {
  const definition = { resource: { type: 'ec2' }, contextualisation: { type: 'chef' } } as unknown as NodeDefinition;
  assert.throws(() => resolveNode(options(nodeOf('ec2-ping', 'ping-sender'), definition)), SchemaError);
});

test("a node entry's attributes override the definition's, and are rendered too", () => {
  const node = { ...nodeOf('ec2-ping', 'ping-sender'), attributes: { role: 'edge-{{name}}', extra: 1 } };
  const definition: NodeDefinition = {
    resource: { type: 'dummy' },
    contextualisation: { type: 'basic', attributes: { role: 'generic', kept: 'yes' } },
  };
  const resolved = resolveNode(options(node, definition));
  assert.equal(resolved.attributes.role, 'edge-ping-sender');
  assert.equal(resolved.attributes.kept, 'yes');
  assert.equal(resolved.attributes.extra, 1);
});
