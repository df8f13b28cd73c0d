import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResourceSection } from '../../src/descriptors/types.js';
import dummyDriver, {
  createDummyHandler,
  listDummyInstances,
  setDummyInstanceState,
  type DummyHandlerOptions,
} from '../../src/drivers/dummy/index.js';
import { defaultConfig } from '../../src/config/config.js';
import type { CreatedInstance, InstanceHandle, ResourceHandler } from '../../src/drivers/resource-handler.js';
import type { ResolvedNode } from '../../src/resolution/resolve.js';
import { MemoryStore } from '../../src/store/memory.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { driverConformance } from './conformance.js';
import { recordingLog, resolvedNode } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'occopus-dummy-driver-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const infraId = randomUUID();

function handlerOn(store: Store, resource: ResourceSection, options?: DummyHandlerOptions): ResourceHandler {
  return options
    ? createDummyHandler(resource, { store }, options)
    : dummyDriver.createHandler(resource, { auth: null, store, config: defaultConfig, log: recordingLog() });
}

function handleOf(node: ResolvedNode, created: CreatedInstance, resource: ResourceSection): InstanceHandle {
  return { node_id: node.node_id, infra_id: node.infra_id, instance_id: created.instance_id, resource, driver_data: created.driver_data ?? {} };
}

async function start(h: ResourceHandler, resource: ResourceSection): Promise<InstanceHandle> {
  const node = resolvedNode(resource, infraId, randomUUID());
  return handleOf(node, await h.create(node, { idempotencyKey: node.node_id, signal: new AbortController().signal }), resource);
}

driverConformance('dummy', async () => {
  const store = new MemoryStore('tester');
  const resource: ResourceSection = { type: 'dummy', create_delay: 0.05, ready_delay: 0.05 };
  return {
    createHandler: () => handlerOn(store, resource),
    resolvedNode: (nodeId) => resolvedNode(resource, infraId, nodeId),
    infraId,
    resource,
    cleanup: () => store.close(),
    leftovers: async () => (await listDummyInstances(store)).length,
  };
});

describe('dummy driver', () => {
  it('takes create_delay to create, and can be aborted while it waits', async () => {
    const store = new MemoryStore('tester');
    const resource: ResourceSection = { type: 'dummy', create_delay: 0.05 };
    const h = handlerOn(store, resource);
    const began = Date.now();
    await start(h, resource);
    assert.ok(Date.now() - began >= 45, 'create returned before create_delay');

    const slow = handlerOn(store, { type: 'dummy', create_delay: 30 });
    const node = resolvedNode(resource, infraId, randomUUID());
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(slow.create(node, { idempotencyKey: node.node_id, signal: controller.signal }), { code: 'E_CANCELLED' });
    assert.equal(await slow.find(node.node_id, { infra_id: infraId, resource }), null);
    assert.equal((await listDummyInstances(store)).length, 1);
  });

  it('reports pending until ready_delay has passed, then ready', async () => {
    const store = new MemoryStore('tester');
    const resource: ResourceSection = { type: 'dummy', ready_delay: 0.05 };
    let clock = 1_000_000;
    const h = handlerOn(store, resource, { now: () => clock });
    const handle = await start(h, resource);
    assert.equal(await h.getState(handle), 'pending');
    clock += 49;
    assert.equal(await h.getState(handle), 'pending');
    clock += 1;
    assert.equal(await h.getState(handle), 'ready');
  });

  it('with failure_rate 1 every create throws and leaves nothing', async () => {
    const store = new MemoryStore('tester');
    const resource: ResourceSection = { type: 'dummy', failure_rate: 1 };
    const h = handlerOn(store, resource);
    for (let i = 0; i < 3; i++) {
      const node = resolvedNode(resource, infraId, randomUUID());
      await assert.rejects(h.create(node, { idempotencyKey: node.node_id, signal: new AbortController().signal }), {
        code: 'E_DRIVER',
      });
      assert.equal(await h.find(node.node_id, { infra_id: infraId, resource }), null);
    }
    assert.deepEqual(await listDummyInstances(store), []);
  });

  it('fails a create exactly when the injected chance falls below failure_rate', async () => {
    const store = new MemoryStore('tester');
    const resource: ResourceSection = { type: 'dummy', failure_rate: 0.5 };
    let roll = 0.49;
    const h = handlerOn(store, resource, { random: () => roll });
    await assert.rejects(start(h, resource), /simulated failure/);
    roll = 0.5;
    const handle = await start(h, resource);
    assert.equal(await h.getState(handle), 'ready');
  });

  it('hands out distinct loopback addresses by default, and follows address_pattern', async () => {
    const store = new MemoryStore('tester');
    const resource: ResourceSection = { type: 'dummy' };
    const h = handlerOn(store, resource);
    const handles = await Promise.all([start(h, resource), start(h, resource), start(h, resource)]);
    const addresses = await Promise.all(handles.map(async (x) => (await h.getAddresses(x)).public[0] ?? ''));
    assert.equal(new Set(addresses).size, 3, `addresses repeat: ${addresses.join(', ')}`);
    for (const a of addresses) assert.match(a, /^127\.1\.\d{1,3}\.\d{1,3}$/);

    const patterned = { type: 'dummy', address_pattern: '10.9.{n}.{m}' };
    const p = handlerOn(store, patterned);
    const ph = await start(p, patterned);
    assert.match((await p.getAddresses(ph)).public[0] ?? '', /^10\.9\.\d{1,3}\.\d{1,3}$/);
  });

  it('lets tests force an instance to failed or shutdown', async () => {
    const store = new MemoryStore('tester');
    const resource: ResourceSection = { type: 'dummy' };
    const h = handlerOn(store, resource);
    const handle = await start(h, resource);
    assert.equal(await setDummyInstanceState(store, handle.instance_id, 'failed'), true);
    assert.equal(await h.getState(handle), 'failed');
    await setDummyInstanceState(store, handle.instance_id, 'shutdown');
    assert.equal(await h.getState(handle), 'shutdown');
    await setDummyInstanceState(store, handle.instance_id, 'running');
    assert.equal(await h.getState(handle), 'ready');
    assert.equal(await setDummyInstanceState(store, 'dummy-does-not-exist', 'failed'), false);
  });

  it('is one cloud for every process sharing an SQLite file', async () => {
    const file = join(tmp, `${randomUUID()}.db`);
    const storeA = SqliteStore.open(file, 'tester');
    const storeB = SqliteStore.open(file, 'tester');
    try {
      const resource: ResourceSection = { type: 'dummy' };
      const a = handlerOn(storeA, resource);
      const b = handlerOn(storeB, resource);
      const node = resolvedNode(resource, infraId, randomUUID());
      const created = await a.create(node, { idempotencyKey: node.node_id, signal: new AbortController().signal });
      const found = await b.find(node.node_id, { infra_id: infraId, resource });
      assert.equal(found?.instance_id, created.instance_id);
      const handle = handleOf(node, created, resource);
      assert.equal(await b.getState(handle), 'ready');
      assert.deepEqual(await b.getAddresses(handle), await a.getAddresses(handle));

      // An address taken through one store is not handed out again through the other.
      const other = await start(b, resource);
      assert.notEqual((await b.getAddresses(other)).public[0], (await a.getAddresses(handle)).public[0]);

      await b.drop(handle);
      assert.equal(await a.getState(handle), 'unknown');
      assert.equal(await a.find(node.node_id, { infra_id: infraId, resource }), null);
    } finally {
      await storeA.close();
      await storeB.close();
    }
  });
});
