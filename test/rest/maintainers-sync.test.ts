/**
 * Fail-over between REST services, in-process: two `Maintainers` (as two services would have) over
 * one memory store, each with its own engine. Every service runs a maintainer for every marked
 * infrastructure; one holds the lease (active), the other waits (standby), a sync follows marks the
 * other service adds or removes, and a standby polls the lease at a modest rate.
 */
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../src/store/memory.js';
import type { Store } from '../../src/store/store.js';
import { defaultConfig, type OccopusConfig } from '../../src/config/config.js';
import { AuthData } from '../../src/config/auth-data.js';
import { DriverSet } from '../../src/drivers/loader.js';
import { EventBus } from '../../src/events/events.js';
import { Enactor } from '../../src/enactor/enactor.js';
import type { Engine } from '../../src/api/engine.js';
import { InfrastructureManager } from '../../src/api/manager.js';
import { leaseKey } from '../../src/api/lease.js';
import { standbyPollMs } from '../../src/api/maintenance.js';
import { requestScaling } from '../../src/api/infrastructure.js';
import { compile } from '../../src/compiler/compile.js';
import { silentLogger } from '../../src/util/logger.js';
import { Semaphore } from '../../src/util/semaphore.js';
import { Maintainers, syncIntervalMs } from '../../src/rest/maintained.js';
import { eventually } from '../helpers/local-env.js';

const LEASE_TTL_S = 1;

const store = new MemoryStore('tester');
const config: OccopusConfig = structuredClone(defaultConfig);
Object.assign(config.engine, { lease_ttl: LEASE_TTL_S, enactor_interval: 0.1, poll_interval: 0.05, create_timeout: 30 });

/**
 * Counts the lease attempts a service makes, to see how hard a standby polls; `slowReadsMs` makes
 * every infra value arrive that much later than it was read, so that what a sync read can go stale.
 */
function counting(inner: Store, slowReadsMs = 0): { store: Store; acquires: () => number } {
  let n = 0;
  const proxy = new Proxy(inner, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (prop === 'acquireLease' && typeof value === 'function') {
        return (...args: unknown[]) => {
          n++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      if (prop === 'getInfraMeta' && slowReadsMs > 0) {
        return async (infraId: string, key: string) => {
          const read = await target.getInfraMeta(infraId, key);
          await new Promise((r) => setTimeout(r, slowReadsMs));
          return read;
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: proxy, acquires: () => n };
}

interface Service {
  engine: Engine;
  maintainers: Maintainers;
  acquires: () => number;
}

const services: Service[] = [];

function service(options: { syncIntervalMs?: number; slowReadsMs?: number } = {}): Service {
  const { slowReadsMs, ...maintainerOptions } = options;
  const counted = counting(store, slowReadsMs);
  const log = silentLogger();
  const ctx = {
    store: counted.store,
    drivers: new DriverSet({ store: counted.store, config, authData: AuthData.fromValue(null), log }),
    events: new EventBus(counted.store, log),
    log,
    config,
    healthLimiter: new Semaphore(16),
    now: () => Date.now(),
  };
  const engine: Engine = {
    ctx,
    enactor: (strategy) => new Enactor(ctx, { strategy: strategy ?? 'sequential', parallelism: 10, downscaleStrategy: 'simple' }),
    close: () => ctx.drivers.close(),
  };
  const maintainers = new Maintainers(new InfrastructureManager(engine, 'sequential'), counted.store, log, {
    leaseTtlMs: LEASE_TTL_S * 1000,
    stopWaitS: 10,
    ...maintainerOptions,
  });
  const s = { engine, maintainers, acquires: counted.acquires };
  services.push(s);
  return s;
}

async function submit(name: string): Promise<string> {
  const sd = compile({ infra_name: name, user_id: 'tester', nodes: [{ name: 'web', type: 'sync_node', scaling: { min: 1, max: 3 } }] });
  await store.putInfrastructure(sd);
  return sd.infra_id;
}

async function holder(infraId: string): Promise<string | null> {
  return (await store.getLease(leaseKey(infraId)))?.holder ?? null;
}

async function readyWeb(infraId: string): Promise<number> {
  return (await store.listInstances(infraId)).filter((r) => r.node_name === 'web' && r.lifecycle === 'created').length;
}

await store.importNodeDefinitions({ sync_node: [{ resource: { type: 'dummy' }, health_check: { ping: false } }] });

afterEach(async () => {
  for (const s of services.splice(0)) {
    await s.maintainers.shutdown(10);
    await s.engine.close();
  }
  for (const id of await store.listInfrastructures()) await store.removeInfrastructure(id);
});
after(async () => {
  await store.close();
});

describe('Maintainers of several services on one store', () => {
  test('the sync interval is a third of the lease, at least 1 s; a standby polls every quarter lease', () => {
    assert.equal(syncIntervalMs(60), 20_000);
    assert.equal(syncIntervalMs(2), 1000);
    assert.equal(standbyPollMs(60_000), 15_000);
    assert.equal(standbyPollMs(2000), 500);
  });

  test('a sync starts a standby for what another service marked; one active, one standby', async () => {
    const a = service();
    const b = service();
    const id = await submit('one');
    await a.maintainers.start(id);
    await eventually(async () => (await readyWeb(id)) === 1, 10_000, 'A to build it');
    assert.equal(a.maintainers.state(id), 'active');
    assert.deepEqual(a.maintainers.active(), [id]);

    assert.deepEqual(await b.maintainers.sync(), { started: [id], stopped: [] });
    await eventually(() => b.maintainers.state(id) === 'standby', 5000, 'B to wait for the lease');
    assert.deepEqual(b.maintainers.active(), []);
    assert.deepEqual(b.maintainers.standby(), [id]);
    assert.equal(await holder(id), a.maintainers.manager.get(id).holder);
    // A second sync changes nothing.
    assert.deepEqual(await b.maintainers.sync(), { started: [], stopped: [] });
    assert.equal(b.maintainers.manager.get(id).passes, 0, 'the standby never made a pass');
  });

  test('a standby polls the lease about four times per ttl, not in a tight loop', async () => {
    const a = service();
    const b = service();
    const id = await submit('poll');
    await a.maintainers.start(id);
    await eventually(() => a.maintainers.state(id) === 'active', 5000, 'A to hold the lease');
    await b.maintainers.sync();
    await eventually(() => b.maintainers.state(id) === 'standby', 5000, 'B to wait');
    const before = b.acquires();
    await new Promise((r) => setTimeout(r, 2000));
    const polls = b.acquires() - before;
    // 2 s at a poll every 250 ms is 8; the lease's own retry (every 100 ms at this ttl) would be 20.
    assert.ok(polls >= 3 && polls <= 11, `the standby tried ${polls} times in 2 s`);
  });

  test('when the active service stops, the standby takes over and carries out a later scale request', async () => {
    const a = service();
    const b = service();
    const id = await submit('takeover');
    await a.maintainers.start(id);
    await eventually(async () => (await readyWeb(id)) === 1, 10_000, 'A to build it');
    await b.maintainers.sync();
    await eventually(() => b.maintainers.state(id) === 'standby', 5000, 'B to wait');

    await a.maintainers.shutdown(10);
    assert.equal(await store.getInfraMeta(id, 'maintained') !== null, true, 'a shutdown keeps the mark');
    await eventually(() => b.maintainers.state(id) === 'active', 3000, 'B to take over');
    assert.equal(await holder(id), b.maintainers.manager.get(id).holder);

    await requestScaling(b.engine, id, 'web', { kind: 'create', count: 1 });
    await eventually(async () => (await readyWeb(id)) === 2, 10_000, 'B to scale up');
    const creating = (await store.readEvents(id)).filter((e) => e.name === 'nodecreating');
    assert.equal(creating.length, 2, 'each instance created once');
  });

  test('a mark removed by another service (detach) stops the maintainer at the next sync and frees the lease', async () => {
    const a = service();
    const b = service();
    const id = await submit('detach');
    await a.maintainers.start(id);
    await eventually(() => a.maintainers.state(id) === 'active', 5000, 'A to hold the lease');
    await b.maintainers.sync();

    // Detach through B, the standby.
    await b.maintainers.stop(id);
    assert.equal(b.maintainers.has(id), false);
    assert.equal(a.maintainers.has(id), true, 'A learns of it only when it syncs');
    assert.deepEqual(await a.maintainers.sync(), { started: [], stopped: [id] });
    assert.equal(a.maintainers.has(id), false);
    assert.equal(await holder(id), null, 'the lease was released');
    assert.deepEqual(await b.maintainers.sync(), { started: [], stopped: [] }, 'B does not start it again');
  });

  test('a standby of an infrastructure that is gone is stopped; one held by a foreign process keeps waiting', async () => {
    const b = service();
    const gone = await submit('gone');
    const foreign = await submit('foreign');
    for (const id of [gone, foreign]) {
      await store.setInfraMeta(id, 'maintained', { since: Date.now() });
      assert.ok(await store.acquireLease(leaseKey(id), 'maintain@elsewhere:1:abc', 60_000));
    }
    assert.deepEqual((await b.maintainers.sync()).started.sort(), [gone, foreign].sort());
    await eventually(() => b.maintainers.standby().length === 2, 5000, 'B to wait for both');

    await store.removeInfrastructure(gone);
    assert.deepEqual(await b.maintainers.sync(), { started: [], stopped: [gone] });
    assert.deepEqual(b.maintainers.list(), [foreign]);
    assert.equal(b.maintainers.state(foreign), 'standby');
    await store.releaseLease(leaseKey(foreign), 'maintain@elsewhere:1:abc');
  });

  test('a lease left by a process that died on another host is taken over once it expires', async () => {
    const b = service();
    const id = await submit('expiry');
    await store.setInfraMeta(id, 'maintained', { since: Date.now() });
    // Taken, never renewed: its holder is gone, and not a process of this host b could check.
    assert.ok(await store.acquireLease(leaseKey(id), 'maintain@some-other-host:4242:dead', LEASE_TTL_S * 1000));
    const takenAt = Date.now();
    await b.maintainers.sync();
    await eventually(() => b.maintainers.state(id) === 'standby', 2000, 'B to wait');
    await eventually(() => b.maintainers.state(id) === 'active', 5000, 'B to take over');
    const waited = Date.now() - takenAt;
    assert.ok(waited >= LEASE_TTL_S * 1000 - 50, `B took a lease that had not expired (after ${waited} ms)`);
    await eventually(async () => (await readyWeb(id)) === 1, 10_000, 'B to build it');
  });

  test('the timer follows new marks until shutdown', async () => {
    const a = service();
    const b = service({ syncIntervalMs: 100 });
    b.maintainers.startSync();
    const id = await submit('timer');
    await a.maintainers.start(id);
    await eventually(() => b.maintainers.has(id), 3000, 'B to pick the new mark up');

    await b.maintainers.shutdown(10);
    const later = await submit('after-shutdown');
    await a.maintainers.start(later);
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(b.maintainers.list(), [], 'a stopped service starts nothing');
  });

  test('a sync that read the marks before a start or a stop of the same service never undoes it', async () => {
    const a = service({ slowReadsMs: 50 });
    const x = await submit('race-x');
    await a.maintainers.start(x);
    // Built: the stop below is quick (no create to roll back), so it ends while the sync still reads.
    await eventually(async () => (await readyWeb(x)) === 1, 10_000, 'x to be built');
    for (let i = 0; i < 4; i++) await submit(`race-other-${i}`);

    // The sync reads x's mark, then the others' (slowly); x is detached meanwhile.
    let syncing = a.maintainers.sync();
    await new Promise((r) => setTimeout(r, 20));
    await a.maintainers.stop(x, 10);
    await syncing;
    assert.equal(a.maintainers.has(x), false, 'a stopped maintainer is not started again from a stale read');

    // The sync reads that y is not marked; y is started meanwhile.
    for (const id of await store.listInfrastructures()) await store.removeInfrastructure(id);
    const y = await submit('race-y');
    syncing = a.maintainers.sync();
    await new Promise((r) => setTimeout(r, 20));
    await a.maintainers.start(y);
    await syncing;
    assert.equal(a.maintainers.has(y), true, 'a started maintainer is not stopped from a stale read');
  });
});
