/**
 * The `nova` driver against the local OpenStack fake (test/fakes/openstack): the shared conformance
 * suite (plain, and with a floating IP and a boot volume), then Keystone (password with domain,
 * application credentials, token reuse and renewal, errors without secrets), flavor lookup,
 * floating IPs and volumes (made, released, kept when asked), clean-up of failed and half-made
 * creates, retries, deadlines and cancellation.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ResourceSection } from '../../src/descriptors/types.js';
import novaDriver, {
  createNovaHandler,
  floatingIpDescription,
  generatedServerName,
  keystoneUrl,
  NODE_ID_METADATA,
  PERSISTED_METADATA,
  type NovaHandlerOptions,
} from '../../src/drivers/nova/index.js';
import { defaultConfig } from '../../src/config/config.js';
import type { CreatedInstance, InstanceHandle, ResourceHandler, ResourceState } from '../../src/drivers/resource-handler.js';
import { MemoryStore } from '../../src/store/memory.js';
import { startOpenStackFake, type OpenStackFake } from '../fakes/openstack/server.js';
import { driverConformance } from './conformance.js';
import { cloudinitNode, recordingLog } from './helpers.js';

const infraId = randomUUID();
const PASSWORD = 'demo-secret-pw';
const fast: NovaHandlerOptions = {
  retry: { maxAttempts: 5, baseDelayMs: 5, maxDelayMs: 40 },
  pollIntervalMs: 20,
  callDeadlineMs: 10_000,
  createDeadlineMs: 15_000,
  dropDeadlineMs: 15_000,
};
const passwordAuth = { username: 'demo', password: PASSWORD };

function resourceFor(fake: OpenStackFake, extra: Record<string, unknown> = {}): ResourceSection {
  return {
    type: 'nova',
    endpoint: fake.authUrl,
    project_id: 'p-demo',
    user_domain_name: 'Default',
    image_id: 'img-ubuntu',
    flavor_name: 'm1.small',
    network_id: 'net-private',
    ...extra,
  };
}

const full = (fake: OpenStackFake): ResourceSection => resourceFor(fake, { floating_ip: 'yes', floating_ip_pool: 'public', volume_size: 3 });

function handleOf(resource: ResourceSection, nodeId: string, created: CreatedInstance): InstanceHandle {
  return { node_id: nodeId, infra_id: infraId, instance_id: created.instance_id, resource, driver_data: created.driver_data ?? {} };
}

function makeHandler(resource: ResourceSection, auth: Record<string, unknown> | null = passwordAuth, options: NovaHandlerOptions = fast): ResourceHandler {
  return createNovaHandler(resource, { auth, log: recordingLog(), config: defaultConfig }, options);
}

async function eventuallyState(h: ResourceHandler, handle: InstanceHandle, want: ResourceState, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  let last: ResourceState = 'unknown';
  while (Date.now() < deadline) {
    last = await h.getState(handle);
    if (last === want) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`state stayed '${last}', wanted '${want}'`);
}

for (const [name, extra] of [
  ['nova', {}],
  ['nova with a floating IP and a boot volume', { floating_ip: 'yes', floating_ip_pool: 'public', volume_size: 2 }],
] as const) {
  driverConformance(name, async () => {
    const fake = await startOpenStackFake({ bootMs: 100, deleteMs: 50, volumeMs: 50 });
    const resource = resourceFor(fake, extra);
    return {
      createHandler: () => makeHandler(resource),
      resolvedNode: (nodeId) => cloudinitNode(resource, infraId, nodeId, '#cloud-config\nruncmd: [true]\n'),
      infraId,
      resource,
      cleanup: () => fake.close(),
      // One per node: a server, or its floating IP or volume left without it.
      leftovers: async () => Math.max(...Object.values(fake.leaks())),
    };
  });
}

describe('nova driver', () => {
  let fake: OpenStackFake;
  const create = (h: ResourceHandler, resource: ResourceSection, nodeId = randomUUID(), context = '#cloud-config\n', signal = new AbortController().signal) =>
    h.create(cloudinitNode(resource, infraId, nodeId, context), { idempotencyKey: nodeId, signal });
  const assertClean = (): void => assert.deepEqual(fake.leaks(), { servers: 0, floatingIps: 0, volumes: 0 });

  before(async () => {
    fake = await startOpenStackFake({
      bootMs: 80,
      deleteMs: 30,
      volumeMs: 30,
      keypairs: ['my-key'],
      securityGroups: ['default', 'web'],
      appCredentials: [{ id: 'app-1', secret: 'app-secret-value', project: 'p-demo' }],
      users: [
        { name: 'demo', password: PASSWORD, domain: 'Default', projects: ['p-demo'] },
        { name: 'other', password: 'other-pw', domain: 'Users', projects: ['p-demo'] },
      ],
    });
  });
  after(async () => {
    await fake.close();
  });

  it('creates the server Occopus would: name, image, flavor by name, network, key, groups, user data, node id in metadata', async () => {
    const resource = resourceFor(fake, { key_name: 'my-key', security_groups: ['default', 'web'], server_name: 'mypingreceiver' });
    const h = makeHandler(resource);
    const nodeId = randomUUID();
    const created = await create(h, resource, nodeId, '#cloud-config\nwrite_files: []\n');
    const server = fake.servers().find((s) => s.id === created.instance_id);
    assert.ok(server);
    assert.equal(server.name, 'mypingreceiver');
    assert.equal(server.image, 'img-ubuntu');
    assert.equal(server.flavor, '2', 'flavor_name m1.small is resolved to its id');
    assert.deepEqual(server.networks, ['net-private']);
    assert.equal(server.key_name, 'my-key');
    assert.deepEqual(server.security_groups, ['default', 'web']);
    assert.equal(server.user_data, '#cloud-config\nwrite_files: []\n');
    assert.equal(server.metadata[NODE_ID_METADATA], nodeId);
    await h.drop(handleOf(resource, nodeId, created));
    assertClean();
  });

  it('takes flavor ids as tutorials write them (flavor_name: 3), and names missing flavors', async () => {
    const resource = resourceFor(fake, { flavor_name: 3 });
    const h = makeHandler(resource);
    const nodeId = randomUUID();
    const created = await create(h, resource, nodeId);
    assert.equal(fake.servers().find((s) => s.id === created.instance_id)?.flavor, '3');
    await h.drop(handleOf(resource, nodeId, created));

    const missing = resourceFor(fake, { flavor_name: 'm9.huge' });
    await assert.rejects(create(makeHandler(missing), missing), /flavor 'm9\.huge' does not exist \(available: m1\.tiny \(1\), m1\.small \(2\), m1\.medium \(3\)\)/);
    assertClean();
  });

  it('generates a valid host name when server_name is absent', async () => {
    const name = generatedServerName({ infra_name: 'My_Infra.Name', infra_id: 'ABCDEF12-3456', name: 'Ping_Receiver', node_id: '0123456789' });
    assert.equal(name, 'occopus-my-infra-name-abcdef12-ping-receiver-01234567');
    assert.match(name, /^[a-z0-9-]{1,63}$/);
    const resource = resourceFor(fake);
    const h = makeHandler(resource);
    const nodeId = randomUUID();
    const created = await create(h, resource, nodeId);
    assert.match(fake.servers().find((s) => s.id === created.instance_id)?.name ?? '', /^occopus-test-infra-[0-9a-f]{8}-web-[0-9a-f]{8}$/);
    await h.drop(handleOf(resource, nodeId, created));
  });

  it('attaches a floating IP once the server is active, reports it first, and releases it on drop', async () => {
    const resource = resourceFor(fake, { floating_ip: 'add_yes_if_you_need_floating_ip_or_remove', floating_ip_pool: 'public' });
    const h = makeHandler(resource);
    const nodeId = randomUUID();
    const created = await create(h, resource, nodeId);
    const [fip] = fake.floatingIps();
    assert.ok(fip, 'a floating IP was allocated');
    assert.equal(fip.description, floatingIpDescription(nodeId));
    assert.equal(fip.floating_network_id, 'net-public');
    const port = fake.ports().find((p) => p.device_id === created.instance_id);
    assert.equal(fip.port_id, port?.id, 'associated with the server');
    const handle = handleOf(resource, nodeId, created);
    assert.equal(await h.getState(handle), 'ready');
    assert.deepEqual(await h.getAddresses(handle), { public: [fip.floating_ip_address], private: [port?.ip] });
    await h.drop(handle);
    assertClean();
  });

  it('floating_ip: false asks for none', async () => {
    const resource = resourceFor(fake, { floating_ip: false });
    const h = makeHandler(resource);
    const nodeId = randomUUID();
    const created = await create(h, resource, nodeId);
    assert.equal(fake.floatingIps().length, 0);
    await h.drop(handleOf(resource, nodeId, created));
  });

  it('boots from a new volume of volume_size GB and deletes it with the server', async () => {
    const resource = resourceFor(fake, { volume_size: 7 });
    const h = makeHandler(resource);
    const nodeId = randomUUID();
    const created = await create(h, resource, nodeId);
    const [vol] = fake.volumes();
    assert.ok(vol);
    assert.equal(vol.size, 7);
    assert.equal(vol.bootable, true);
    assert.equal(vol.imageRef, 'img-ubuntu');
    assert.equal(vol.attached_to, created.instance_id);
    assert.equal(fake.servers().find((s) => s.id === created.instance_id)?.image, '', 'no image: it boots from the volume');
    await h.drop(handleOf(resource, nodeId, created));
    assertClean();
  });

  it('volume_size 0 boots from a volume of the flavor disk size, made by Nova', async () => {
    const resource = resourceFor(fake, { volume_size: 0, flavor_name: 'm1.medium' });
    const h = makeHandler(resource);
    const nodeId = randomUUID();
    const created = await create(h, resource, nodeId);
    assert.equal(fake.volumes()[0]?.size, 40);
    await h.drop(handleOf(resource, nodeId, created));
    assertClean();
  });

  it('keeps the volume on drop with volume_persist, and no later clean-up of the node takes it', async () => {
    const resource = resourceFor(fake, { volume_size: 2, volume_persist: true });
    const h = makeHandler(resource);
    const nodeId = randomUUID();
    const created = await create(h, resource, nodeId);
    await h.drop(handleOf(resource, nodeId, created));
    assert.equal(fake.leaks().servers, 0);
    const kept = fake.volumes();
    assert.equal(kept.length, 1);
    assert.equal(kept[0]?.status, 'available');
    assert.equal(kept[0]?.metadata[PERSISTED_METADATA], nodeId);
    assert.equal(await h.find(nodeId, { infra_id: infraId, resource }), null);
    assert.equal(fake.volumes().length, 1, 'find did not sweep the kept volume');
    fake.reset();
  });

  for (const [what, setup, message] of [
    ['the server fails to build', (f: OpenStackFake) => f.failNextBoots(1), /failed to build: No valid host was found/],
    ['the floating IP quota is used up', (f: OpenStackFake) => (f.floatingIpQuota = 0), /OverQuota|Quota exceeded/],
    ['the boot volume goes to error', (f: OpenStackFake) => f.failNextVolumes(1), /boot volume .* went to status 'error'/],
    ['the pool is not an external network', () => undefined, /floating_ip_pool 'nowhere' is not an external network/],
  ] as const) {
    it(`a failed create leaves no server, floating IP or volume: ${what}`, async () => {
      const resource = what.includes('pool') ? resourceFor(fake, { floating_ip: 'yes', floating_ip_pool: 'nowhere', volume_size: 3 }) : full(fake);
      setup(fake);
      try {
        const nodeId = randomUUID();
        const h = makeHandler(resource);
        await assert.rejects(create(h, resource, nodeId), message);
        assertClean();
        assert.equal(await h.find(nodeId, { infra_id: infraId, resource }), null);
      } finally {
        fake.floatingIpQuota = 50;
      }
    });
  }

  it('find cleans up what a killed create left behind, and adopts a finished one', async () => {
    const resource = full(fake);
    const h = makeHandler(resource);
    const halfMade = randomUUID();
    fake.seedVolume(halfMade);
    fake.seedFloatingIp(halfMade);
    fake.seedServer(halfMade, 'ACTIVE');
    assert.equal(await h.find(halfMade, { infra_id: infraId, resource }), null, 'a server without its floating IP is not adopted');
    assertClean();

    const onlyVolume = randomUUID();
    fake.seedVolume(onlyVolume);
    assert.equal(await h.find(onlyVolume, { infra_id: infraId, resource }), null);
    assertClean();

    const plain = resourceFor(fake);
    const building = randomUUID();
    const server = fake.seedServer(building, 'BUILD');
    assert.equal((await makeHandler(plain).find(building, { infra_id: infraId, resource: plain }))?.instance_id, server.id, 'a server needing nothing more is adopted');
    fake.reset();
  });

  it('authenticates once and reuses the token for every call', async () => {
    const own = await startOpenStackFake({ bootMs: 30, deleteMs: 10 });
    try {
      const resource = resourceFor(own, { floating_ip: 'yes' });
      const h = makeHandler(resource);
      const nodeId = randomUUID();
      const created = await create(h, resource, nodeId);
      const handle = handleOf(resource, nodeId, created);
      for (let i = 0; i < 5; i++) await h.getState(handle);
      await h.getAddresses(handle);
      // A second handler with the same credentials (another node definition) shares the token.
      await makeHandler(resourceFor(own, { server_name: 'other' })).getState(handle);
      await h.drop(handle);
      assert.equal(own.tokensIssued, 1);
      assert.ok(own.requests.length > 10);
    } finally {
      await own.close();
    }
  });

  it('authenticates again when the token expires or is revoked', async () => {
    const own = await startOpenStackFake({ tokenTtlMs: 1200 });
    try {
      const resource = resourceFor(own);
      const h = makeHandler(resource);
      const ghost = handleOf(resource, 'x', { instance_id: randomUUID() });
      assert.equal(await h.getState(ghost), 'unknown');
      own.revokeTokens();
      assert.equal(await h.getState(ghost), 'unknown', 'a 401 leads to a new token, not an error');
      assert.equal(own.tokensIssued, 2);
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(await h.getState(ghost), 'unknown');
      assert.equal(own.tokensIssued, 3, 'a token about to expire is renewed before use');
    } finally {
      await own.close();
    }
  });

  it('authenticates with user_domain_name and with application credentials', async () => {
    const ghost = (r: ResourceSection): InstanceHandle => handleOf(r, 'x', { instance_id: randomUUID() });
    const inUsers = resourceFor(fake, { user_domain_name: 'Users' });
    assert.equal(await makeHandler(inUsers, { username: 'other', password: 'other-pw' }).getState(ghost(inUsers)), 'unknown');
    const noDomain = resourceFor(fake, { user_domain_name: null });
    await assert.rejects(makeHandler(noDomain, { username: 'other', password: 'other-pw' }).getState(ghost(noDomain)), { code: 'E_AUTH' });
    const app = resourceFor(fake);
    const h = makeHandler(app, { type: 'application_credential', id: 'app-1', secret: 'app-secret-value' });
    const nodeId = randomUUID();
    const created = await create(h, app, nodeId);
    await h.drop(handleOf(app, nodeId, created));
    assertClean();
  });

  it('names refused credentials without showing secrets', async () => {
    const resource = resourceFor(fake);
    const secret = 'very-secret-password-value';
    await assert.rejects(makeHandler(resource, { username: 'demo', password: secret }).getState(handleOf(resource, 'x', { instance_id: 'a' })), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'E_AUTH');
      assert.match(e.message, /refused the credentials of user 'demo' \(domain 'Default', project 'p-demo'\)/);
      assert.ok(!e.message.includes(secret));
      return true;
    });
    const appSecret = 'app-secret-that-must-not-show';
    await assert.rejects(
      makeHandler(resource, { type: 'application_credential', id: 'app-1', secret: appSecret }).getState(handleOf(resource, 'x', { instance_id: 'a' })),
      (e: Error) => !e.message.includes(appSecret) && /application credential/.test(e.message),
    );
    for (const auth of [null, { username: 'demo' }, { password: secret }, { type: 'voms', proxy: secret }]) {
      assert.throws(
        () => novaDriver.createHandler(resource, { auth, store: new MemoryStore('t'), config: defaultConfig, log: recordingLog() }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'E_AUTH');
          assert.match(e.message, /^Cannot find credentials for "http:\/\/127\.0\.0\.1:\d+\/identity\/v3"\. Please, specify!/);
          assert.ok(!e.message.includes(secret), e.message);
          return true;
        },
      );
    }
  });

  it('normalises the Keystone endpoint as Occopus does, without its /v2.0 quirk', () => {
    assert.equal(keystoneUrl('https://k.example.org:5000'), 'https://k.example.org:5000/v3');
    assert.equal(keystoneUrl('https://k.example.org:5000/'), 'https://k.example.org:5000/v3');
    assert.equal(keystoneUrl('https://k.example.org:5000/v3/'), 'https://k.example.org:5000/v3');
    assert.equal(keystoneUrl('https://k.example.org/identity/v3'), 'https://k.example.org/identity/v3');
    assert.equal(keystoneUrl('https://k.example.org:5000/v2.0'), 'https://k.example.org:5000/v3');
    assert.throws(() => keystoneUrl('replace_with_endpoint_of_nova_interface_of_your_cloud'), /is not a URL/);
  });

  it('uses the public endpoints of region_name from the catalog', async () => {
    const ok = resourceFor(fake, { region_name: 'RegionOne' });
    assert.equal(await makeHandler(ok).getState(handleOf(ok, 'x', { instance_id: randomUUID() })), 'unknown');
    const nowhere = resourceFor(fake, { region_name: 'Atlantis' });
    await assert.rejects(makeHandler(nowhere).getState(handleOf(nowhere, 'x', { instance_id: 'a' })), /no public compute endpoint in region 'Atlantis'/);
  });

  it('retries throttled calls (429 with Retry-After) and 5xx answers', async () => {
    const resource = resourceFor(fake);
    const h = makeHandler(resource);
    const nodeId = randomUUID();
    fake.throttle(2, /^POST \/compute\/servers$/);
    fake.serverErrors(2, /^GET \/compute\/servers\/detail$/);
    const created = await create(h, resource, nodeId);
    assert.equal(fake.servers().filter((s) => s.metadata[NODE_ID_METADATA] === nodeId).length, 1);
    fake.serverErrors(2, /^GET \/compute\/servers\/[^/]+$/);
    await eventuallyState(h, handleOf(resource, nodeId, created), 'ready');
    assert.equal(fake.faults.pending(), 0, 'every injected fault was met and retried');
    await h.drop(handleOf(resource, nodeId, created));
    assertClean();
  });

  it('makes one server when the answer to POST /servers is lost', async () => {
    const resource = full(fake);
    const h = makeHandler(resource);
    const nodeId = randomUUID();
    fake.serverErrors(1, /^POST \/compute\/servers$/, true);
    fake.serverErrors(1, /^POST \/network\/floatingips$/, true);
    fake.serverErrors(1, /^POST \/volume\/volumes$/, true);
    const created = await create(h, resource, nodeId);
    assert.deepEqual(fake.leaks(), { servers: 1, floatingIps: 1, volumes: 1 });
    await h.drop(handleOf(resource, nodeId, created));
    assertClean();
  });

  it('gives up at the deadline with a clear error, and cleans up', async () => {
    const resource = resourceFor(fake);
    const slow = makeHandler(resource, passwordAuth, { ...fast, callDeadlineMs: 300 });
    fake.faults.latencyMs = 1000;
    try {
      await assert.rejects(slow.getState(handleOf(resource, 'x', { instance_id: 'a' })), /gave up after 0\.3s/);
    } finally {
      fake.faults.latencyMs = 0;
    }
    const withIp = full(fake);
    const h = makeHandler(withIp, passwordAuth, { ...fast, createDeadlineMs: 400 });
    fake.bootMs = 5000;
    try {
      await assert.rejects(create(h, withIp), /creating node 'web': gave up after 0\.4s/);
    } finally {
      fake.bootMs = 80;
    }
    assertClean();
  });

  it('is cancelled by the AbortSignal while it waits, and leaves nothing', async () => {
    const resource = full(fake);
    const h = makeHandler(resource);
    const nodeId = randomUUID();
    const controller = new AbortController();
    fake.bootMs = 5000;
    try {
      const creating = create(h, resource, nodeId, '#cloud-config\n', controller.signal);
      setTimeout(() => controller.abort(), 200);
      await assert.rejects(creating, { code: 'E_CANCELLED' });
    } finally {
      fake.bootMs = 80;
    }
    assertClean();
  });

  it('refuses user data over 64 KB (base64) before calling Nova', async () => {
    const resource = resourceFor(fake);
    const posts = fake.calls(/^POST \/compute\/servers$/);
    const big = `#cloud-config\n# ${'x'.repeat(50_000)}\n`;
    await assert.rejects(create(makeHandler(resource), resource, randomUUID(), big), /Nova accepts at most 65535 bytes once base64-encoded/);
    assert.equal(fake.calls(/^POST \/compute\/servers$/), posts);
  });

  it('maps Nova states: BUILD, ACTIVE, SHUTOFF, ERROR, deleting, gone', async () => {
    const resource = resourceFor(fake);
    const h = makeHandler(resource);
    const nodeId = randomUUID();
    const created = await create(h, resource, nodeId);
    const handle = handleOf(resource, nodeId, created);
    assert.equal(await h.getState(handle), 'pending');
    await eventuallyState(h, handle, 'ready');
    fake.setServerStatus(created.instance_id, 'SHUTOFF');
    assert.equal(await h.getState(handle), 'temp_failed');
    fake.setServerStatus(created.instance_id, 'ERROR');
    assert.equal(await h.getState(handle), 'failed');
    await h.drop(handle);
    assert.equal(await h.getState(handle), 'unknown');
    assertClean();
  });
});
