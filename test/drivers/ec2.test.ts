/**
 * The `ec2` driver through the real AWS SDK against the local EC2 fake (test/fakes/ec2): the shared
 * conformance suite, then what EC2 users rely on: ClientToken idempotency when an answer is lost,
 * retries under throttling and 5xx, deadlines, cancellation, credentials that never show up in
 * errors, the user-data limit, tags, state mapping and addresses.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { ResourceSection } from '../../src/descriptors/types.js';
import ec2Driver, { createEc2Handler, EC2_USER_DATA_LIMIT, NODE_ID_TAG, type Ec2HandlerOptions } from '../../src/drivers/ec2/index.js';
import { defaultConfig } from '../../src/config/config.js';
import type { CreatedInstance, InstanceHandle, ResourceHandler, ResourceState } from '../../src/drivers/resource-handler.js';
import { MemoryStore } from '../../src/store/memory.js';
import { startEc2Fake, type Ec2Fake } from '../fakes/ec2/server.js';
import { driverConformance } from './conformance.js';
import { cloudinitNode, recordingLog } from './helpers.js';

const infraId = randomUUID();
/** Small delays so retries do not slow the suite down; the policy is the same code as in production. */
const fastRetry: Ec2HandlerOptions = { retry: { maxAttempts: 5, baseDelayMs: 5, maxDelayMs: 40 }, callDeadlineMs: 10_000 };

function resourceFor(fake: Ec2Fake, extra: Record<string, unknown> = {}): ResourceSection {
  return {
    type: 'ec2',
    endpoint: fake.endpoint,
    regionname: fake.region,
    image_id: 'ami-12345678',
    instance_type: 't2.micro',
    ...extra,
  };
}

function authOf(fake: Ec2Fake): Record<string, unknown> {
  return { accesskey: fake.accessKey, secretkey: fake.secretKey };
}

function handleOf(resource: ResourceSection, nodeId: string, created: CreatedInstance): InstanceHandle {
  return { node_id: nodeId, infra_id: infraId, instance_id: created.instance_id, resource, driver_data: created.driver_data ?? {} };
}

async function eventuallyState(h: ResourceHandler, handle: InstanceHandle, want: ResourceState, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  let last: ResourceState = 'unknown';
  while (Date.now() < deadline) {
    last = await h.getState(handle);
    if (last === want) return;
    await new Promise((r) => setTimeout(r, 30));
  }
  assert.fail(`state stayed '${last}', wanted '${want}'`);
}

/** Instances a user would still pay for (not on their way out). */
function running(fake: Ec2Fake): number {
  return fake.instances().filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down').length;
}

driverConformance('ec2', async () => {
  const fake = await startEc2Fake({ bootMs: 100, terminateMs: 100, purgeMs: 300 });
  const resource = resourceFor(fake);
  return {
    createHandler: () => createEc2Handler(resource, { auth: authOf(fake), log: recordingLog() }, fastRetry),
    resolvedNode: (nodeId) => cloudinitNode(resource, infraId, nodeId, '#cloud-config\nruncmd: [true]\n'),
    infraId,
    resource,
    cleanup: () => fake.close(),
    leftovers: async () => running(fake),
  };
});

describe('ec2 driver', () => {
  let fake: Ec2Fake;
  const handlers: ResourceHandler[] = [];
  const handler = (resource: ResourceSection, options: Ec2HandlerOptions = fastRetry, auth = authOf(fake)): ResourceHandler => {
    const h = createEc2Handler(resource, { auth, log: recordingLog() }, options);
    handlers.push(h);
    return h;
  };
  const create = (h: ResourceHandler, resource: ResourceSection, context = '#cloud-config\n', nodeId = randomUUID(), signal = new AbortController().signal) =>
    h.create(cloudinitNode(resource, infraId, nodeId, context), { idempotencyKey: nodeId, signal });

  before(async () => {
    fake = await startEc2Fake({
      bootMs: 100,
      terminateMs: 100,
      purgeMs: 300,
      keyNames: ['my-key'],
      securityGroupIds: ['sg-11111111', 'sg-22222222'],
      subnetIds: ['subnet-12345678'],
    });
  });
  after(async () => {
    for (const h of handlers) await h.close?.();
    await fake.close();
  });

  it('sends what the node definition says: image, type, key, subnet, groups, user data, tags', async () => {
    const resource = resourceFor(fake, {
      key_name: 'my-key',
      subnet_id: 'subnet-12345678',
      security_group_ids: ['sg-11111111', 'sg-22222222'],
      tags: { project: 'occopus', cost: 7 },
    });
    const nodeId = randomUUID();
    const context = '#cloud-config\nwrite_files:\n- path: /tmp/a\n  content: "héllo"\n';
    const created = await create(handler(resource), resource, context, nodeId);
    const inst = fake.instances().find((i) => i.instanceId === created.instance_id);
    assert.ok(inst);
    assert.equal(inst.imageId, 'ami-12345678');
    assert.equal(inst.instanceType, 't2.micro');
    assert.equal(inst.keyName, 'my-key');
    assert.equal(inst.subnetId, 'subnet-12345678');
    assert.deepEqual(inst.securityGroupIds, ['sg-11111111', 'sg-22222222']);
    assert.equal(inst.userData, context);
    assert.equal(inst.clientToken, nodeId);
    assert.deepEqual(inst.tags, { project: 'occopus', cost: '7', [NODE_ID_TAG]: nodeId, 'occopus:infra_id': infraId });
  });

  it('accepts tags in the documented list form too', async () => {
    const resource = resourceFor(fake, { tags: [{ Key: 'team', Value: 'a' }] });
    const created = await create(handler(resource), resource);
    assert.equal(fake.instances().find((i) => i.instanceId === created.instance_id)?.tags['team'], 'a');
  });

  it('tags the instance afterwards, and still finds it, on clouds that ignore TagSpecifications', async () => {
    const plain = await startEc2Fake({ bootMs: 50, tagSpecifications: false });
    try {
      const resource = resourceFor(plain);
      const h = createEc2Handler(resource, { auth: authOf(plain), log: recordingLog() }, fastRetry);
      const nodeId = randomUUID();
      const created = await create(h, resource, '', nodeId);
      assert.equal(plain.instances()[0]?.tags[NODE_ID_TAG], nodeId);
      assert.equal(plain.calls('CreateTags'), 1);
      assert.equal((await h.find(nodeId, { infra_id: infraId, resource }))?.instance_id, created.instance_id);
      assert.equal(plain.instances()[0]?.userData, null, 'empty user data is not sent');
      await h.close?.();
    } finally {
      await plain.close();
    }
  });

  it('starts one instance when the answer to RunInstances is lost (the retry carries the same ClientToken)', async () => {
    const resource = resourceFor(fake);
    const before = fake.calls('RunInstances');
    const count = fake.instances().length;
    fake.serverErrors(1, 'RunInstances', true);
    const created = await create(handler(resource), resource);
    assert.equal(fake.calls('RunInstances') - before, 2, 'the SDK retried');
    assert.equal(fake.instances().length - count, 1, 'one instance only');
    assert.ok(fake.instances().some((i) => i.instanceId === created.instance_id));
  });

  it('a repeated create with the same key returns the first instance', async () => {
    const resource = resourceFor(fake);
    const h = handler(resource);
    const nodeId = randomUUID();
    const first = await create(h, resource, '#cloud-config\n', nodeId);
    const second = await create(h, resource, '#cloud-config\n', nodeId);
    assert.equal(second.instance_id, first.instance_id);
    assert.equal(fake.instances().filter((i) => i.clientToken === nodeId).length, 1);
  });

  it('retries throttled (RequestLimitExceeded) and failing (5xx) calls', async () => {
    const resource = resourceFor(fake);
    const h = handler(resource);
    const runs = fake.calls('RunInstances');
    fake.throttle(3, 'RunInstances');
    const created = await create(h, resource);
    assert.equal(fake.calls('RunInstances') - runs, 4);
    const describes = fake.calls('DescribeInstances');
    fake.serverErrors(2, 'DescribeInstances');
    await eventuallyState(h, handleOf(resource, 'x', created), 'ready');
    assert.ok(fake.calls('DescribeInstances') - describes >= 3);
    assert.equal(fake.faults.pending(), 0);
  });

  it('gives up at the deadline with a clear error', async () => {
    const resource = resourceFor(fake);
    const h = handler(resource, { retry: { maxAttempts: 1000, baseDelayMs: 5, maxDelayMs: 20 }, callDeadlineMs: 400 });
    fake.throttle(100_000, 'DescribeInstances');
    try {
      await assert.rejects(h.getState(handleOf(resource, 'x', { instance_id: 'i-0123456789abcdef0' })), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'E_DRIVER');
        assert.match(e.message, /DescribeInstances.*(gave up after 0\.4s|RequestLimitExceeded)/);
        return true;
      });
    } finally {
      fake.faults.clear();
    }
  });

  it('reports an unreachable endpoint as a driver error', async () => {
    const closed = await startEc2Fake();
    const resource = resourceFor(closed);
    const auth = authOf(closed);
    await closed.close();
    const h = handler(resource, { retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 }, callDeadlineMs: 2000 }, auth);
    await assert.rejects(h.getState(handleOf(resource, 'x', { instance_id: 'i-0123456789abcdef0' })), { code: 'E_DRIVER' });
  });

  it('is cancelled by the AbortSignal while RunInstances is in flight, and leaves no instance', async () => {
    const resource = resourceFor(fake);
    const h = handler(resource);
    const nodeId = randomUUID();
    const controller = new AbortController();
    fake.faults.latencyMs = 300;
    try {
      const creating = create(h, resource, '', nodeId, controller.signal);
      setTimeout(() => controller.abort(), 100);
      await assert.rejects(creating, { code: 'E_CANCELLED' });
    } finally {
      fake.faults.latencyMs = 0;
    }
    assert.equal(await h.find(nodeId, { infra_id: infraId, resource }), null);
    assert.ok(
      fake.instances().filter((i) => i.clientToken === nodeId).every((i) => i.state === 'shutting-down' || i.state === 'terminated'),
      'whatever the interrupted request started is terminated',
    );
  });

  it('refuses user data over 16 KB before calling EC2', async () => {
    const resource = resourceFor(fake);
    const runs = fake.calls('RunInstances');
    const big = `#cloud-config\n# ${'x'.repeat(EC2_USER_DATA_LIMIT)}\n`;
    await assert.rejects(create(handler(resource), resource, big), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'E_DRIVER');
      assert.match(e.message, /at most 16384 bytes of user data/);
      return true;
    });
    assert.equal(fake.calls('RunInstances'), runs);
  });

  it('names wrong credentials without showing them', async () => {
    const resource = resourceFor(fake);
    const secret = 'wR0ngS3cretV4lue/ThatMustNotLeak';
    const h = handler(resource, fastRetry, { accesskey: fake.accessKey, secretkey: secret });
    await assert.rejects(create(h, resource), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'E_AUTH');
      assert.match(e.message, /AuthFailure/);
      assert.ok(!e.message.includes(secret) && !e.message.includes(fake.accessKey), e.message);
      return true;
    });
    const unknownKey = handler(resource, fastRetry, { accesskey: 'AKIANOTKNOWN', secretkey: secret });
    await assert.rejects(unknownKey.getState(handleOf(resource, 'x', { instance_id: 'i-0123456789abcdef0' })), { code: 'E_AUTH' });
  });

  it('says which credentials are missing, without their values', () => {
    const resource = resourceFor(fake);
    for (const auth of [null, { accesskey: 'AKIAONLYTHEKEY' }, { username: 'u', password: 'pw-should-not-show' }]) {
      assert.throws(
        () => ec2Driver.createHandler(resource, { auth, store: new MemoryStore('t'), config: defaultConfig, log: recordingLog() }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'E_AUTH');
          assert.match(e.message, /^Cannot find credentials for "http:\/\/127\.0\.0\.1:\d+"\. Please, specify!/);
          assert.ok(!e.message.includes('AKIAONLYTHEKEY') && !e.message.includes('pw-should-not-show'), e.message);
          return true;
        },
      );
    }
  });

  it('rejects an endpoint that is no URL and a region name the SDK cannot sign with', () => {
    const make = (extra: Record<string, unknown>) => () => handler(resourceFor(fake, extra));
    assert.throws(make({ endpoint: 'ftp://x' }), /endpoint 'ftp:\/\/x' must be an http or https URL/);
    assert.throws(make({ regionname: 'replace_with_regionname_of_your_ec2_interface' }), /regionname 'replace_with_regionname_of_your_ec2_interface' is not a valid region name/);
  });

  it('maps EC2 states: pending, running, stopped, shutting-down, and unknown ids', async () => {
    const resource = resourceFor(fake);
    const h = handler(resource);
    const created = await create(h, resource);
    const handle = handleOf(resource, 'x', created);
    assert.equal(await h.getState(handle), 'pending');
    await eventuallyState(h, handle, 'ready');
    fake.setState(created.instance_id, 'stopped');
    assert.equal(await h.getState(handle), 'temp_failed');
    fake.setState(created.instance_id, 'terminated');
    assert.equal(await h.getState(handle), 'shutdown');
    assert.equal(await h.getState({ ...handle, instance_id: 'i-0000000000000000f' }), 'unknown');
    await h.drop(handle);
  });

  it('a failed boot ends in shutdown', async () => {
    const resource = resourceFor(fake);
    const h = handler(resource);
    fake.failNextBoots(1);
    const created = await create(h, resource);
    await eventuallyState(h, handleOf(resource, 'x', created), 'shutdown');
    assert.equal(fake.instances().find((i) => i.instanceId === created.instance_id)?.stateReason?.code, 'Server.InternalError');
  });

  it('hands out the public IP first and the private IP, both IP addresses', async () => {
    const resource = resourceFor(fake);
    const h = handler(resource);
    const created = await create(h, resource);
    const inst = fake.instances().find((i) => i.instanceId === created.instance_id);
    const addresses = await h.getAddresses(handleOf(resource, 'x', created));
    assert.deepEqual(addresses, { public: [inst?.publicIp], private: [inst?.privateIp] });
    assert.ok(addresses.public.every((a) => isIP(a) === 4 && a.startsWith('127.')), 'the fake hands out loopback public addresses');
  });

  it('drop terminates (without stopping first) and is idempotent', async () => {
    const resource = resourceFor(fake);
    const h = handler(resource);
    const created = await create(h, resource);
    const handle = handleOf(resource, 'x', created);
    const stops = fake.calls('StopInstances');
    await h.drop(handle);
    await h.drop(handle);
    assert.equal(fake.calls('StopInstances'), stops);
    assert.notEqual(fake.instances().find((i) => i.instanceId === created.instance_id)?.state, 'running');
    await eventuallyState(h, handle, 'unknown');
    await h.drop(handle);
  });
});
