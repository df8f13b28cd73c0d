/**
 * `occopus store migrate` at the library level: SQLite → Redis → SQLite copies every kind of data
 * of every user, equal at each step, and the copies work as stores afterwards.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StoreError } from '../../src/errors.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { RedisStore } from '../../src/store/redis.js';
import { migrateStore } from '../../src/store/migrate.js';
import type { Store } from '../../src/store/store.js';
import { deleteKeys, redisUrl, testPrefix } from '../helpers/redis.js';
import { description, instance } from './conformance.js';

let dir = '';
const prefixes: string[] = [];
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'occopus-migrate-'));
});
after(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  for (const p of prefixes) await deleteKeys(p);
});

function newPrefix(): string {
  const p = testPrefix('migrate');
  prefixes.push(p);
  return p;
}

/** Every kind of data the store keeps, with the orderings that matter. */
async function populate(store: Store, tag: string): Promise<void> {
  await store.importNodeDefinitions({
    web_t: [{ resource: { type: 'dummy', ready_delay: 1 }, health_check: { ping: false } }],
    'db t': [{ resource: { type: 'local' } }, { resource: { type: 'dummy' } }],
  });
  for (const id of [`${tag}-b`, `${tag}-a`]) {
    await store.putInfrastructure(description(id, `name of ${id}`));
    await store.setInfraMeta(id, 'targets', { web: 2 });
    await store.setInfraMeta(id, 'ready', false);
    await store.insertInstance(instance(id, 'late', { created_at: 300, lifecycle: 'created', instance_id: 'i-1', instance_start_time: 1.5 }));
    await store.insertInstance(instance(id, 'tie-2', { created_at: 200 }));
    await store.insertInstance(instance(id, 'tie-1', { created_at: 200, lifecycle: 'dropping', data: { 'ü': ['✓', null, 0.1] } }));
    await store.archiveFailedInstance(instance(id, 'gone-2'));
    await store.archiveFailedInstance(instance(id, 'gone-1'));
    await store.markFailing(id, 'late', 1234.5);
    await store.addScalingRequests(id, [
      { node: 'web', kind: 'create', count: 2 },
      { node: 'web', kind: 'destroy', selector: '::1' },
      { node: 'web', kind: 'target', count: 1 },
    ]);
    for (let i = 0; i < 5; i++) await store.appendEvent(id, `e${i}`, 1000 + i, { i, tag });
  }
  // Data under an id that has no description (as drivers and old runs may leave).
  await store.appendEvent(`${tag}-orphan`, 'error', 5, { message: 'x' });
  await store.acquireLease('dummy-address:127.1.0.1', 'dummy-xyz', 10 * 365 * 24 * 3600 * 1000);
  await store.acquireLease('expired', 'someone', 1000, Date.now() - 60_000);
  await store.kvPut('dummy-cloud', 'vm-1', { state: 'running', address: '127.1.0.1' });
  await store.kvPut('dummy-cloud', '__proto__', { odd: true });
  await store.kvPut('dummy-cloud-meta', 'address-counter', 1);
}

describe('store migrate', () => {
  test('sqlite → redis → sqlite copies everything of every user, equal at each step', async () => {
    const first = path.join(dir, 'first.db');
    const last = path.join(dir, 'last.db');
    const prefix = newPrefix();
    const alice = SqliteStore.open(first, 'alice');
    const bob = SqliteStore.open(first, 'bob');
    await populate(alice, 'a');
    await populate(bob, 'b');
    const original = [await alice.exportUser('alice'), await alice.exportUser('bob')];
    await alice.close();
    await bob.close();
    assert.equal(original[0]!.infrastructures.length, 3);
    assert.deepEqual(Object.keys(original[0]!.leases), ['dummy-address:127.1.0.1'], 'an expired lease is not data');

    const toRedis = await migrateStore(`sqlite:${first}`, redisUrl(prefix));
    assert.deepEqual(
      toRedis.users.map((u) => [u.user, u.infrastructures, u.instances, u.scaling_requests, u.events, u.kv_values]),
      [
        ['alice', 2, 6, 6, 11, 3],
        ['bob', 2, 6, 6, 11, 3],
      ],
    );

    const redis = await RedisStore.open(redisUrl(prefix), 'alice');
    try {
      assert.deepEqual(await redis.listUsers(), ['alice', 'bob']);
      assert.deepEqual(await redis.exportUser('alice'), original[0]);
      assert.deepEqual(await redis.exportUser('bob'), original[1]);
      // The copy works as a store: orders, numbering and atomic operations carry on where they were.
      assert.deepEqual(await redis.listInfrastructures(), ['a-b', 'a-a']);
      assert.deepEqual((await redis.listInstances('a-a')).map((r) => r.node_id), ['tie-2', 'tie-1', 'late']);
      assert.deepEqual((await redis.listFailedInstances('a-a')).map((r) => r.node_id), ['gone-2', 'gone-1']);
      assert.equal(await redis.appendEvent('a-a', 'next', 2000, {}), 6);
      assert.equal(await redis.markFailing('a-a', 'late', 9999), 1234.5);
      assert.equal((await redis.takeScalingRequests('a-b')).length, 3);
      await redis.putInfrastructure(description('a-new'));
      assert.deepEqual(await redis.listInfrastructures(), ['a-b', 'a-a', 'a-new']);
      await redis.insertInstance(instance('a-a', 'tie-3', { created_at: 200 }));
      assert.deepEqual((await redis.listInstances('a-a')).map((r) => r.node_id), ['tie-2', 'tie-1', 'tie-3', 'late']);
      assert.equal(await redis.acquireLease('dummy-address:127.1.0.1', 'another-vm', 60_000), false);
      assert.deepEqual(await redis.kvGet('dummy-cloud', '__proto__'), { odd: true });
      // Undo the changes, so the next step copies what the first store had.
      await redis.removeInfrastructure('a-new');
      await redis.removeInstance('a-a', 'tie-3');
    } finally {
      await redis.close();
    }

    // Back again, from a store that has run: the pending requests of a-b were taken, one event added.
    const back = await migrateStore(redisUrl(prefix), `sqlite:${last}`);
    assert.equal(back.users.length, 2);
    const copy = SqliteStore.open(last, 'alice');
    try {
      const expected = structuredClone(original[0]!);
      const ab = expected.infrastructures.find((i) => i.infra_id === 'a-b')!;
      ab.scaling = [];
      const aa = expected.infrastructures.find((i) => i.infra_id === 'a-a')!;
      aa.events.push({ seq: 6, infra_id: 'a-a', name: 'next', timestamp: 2000, data: {} });
      assert.deepEqual(await copy.exportUser('alice'), expected);
      assert.deepEqual(await copy.exportUser('bob'), original[1]);
      assert.equal(await copy.appendEvent('a-a', 'after', 3000, {}), 7);
    } finally {
      await copy.close();
    }
  });

  test('a target that already holds a user’s data is refused and left unchanged', async () => {
    const file = path.join(dir, 'busy.db');
    const prefix = newPrefix();
    const source = SqliteStore.open(file, 'alice');
    await populate(source, 'a');
    await source.close();
    const target = await RedisStore.open(redisUrl(prefix), 'alice');
    try {
      await target.kvPut('mine', 'k', 'already here');
      await assert.rejects(
        migrateStore(`sqlite:${file}`, redisUrl(prefix)),
        (e: unknown) => e instanceof StoreError && /already holds data of user 'alice'/.test(e.message),
      );
      assert.deepEqual(await target.listInfrastructures(), []);
      assert.deepEqual(await target.kvList('mine'), { k: 'already here' });
    } finally {
      await target.close();
    }
  });

  test('nonsense migrations are refused with clear errors', async () => {
    const file = path.join(dir, 'x.db');
    await assert.rejects(migrateStore(`sqlite:${file}`, `sqlite:${file}`), /same store/);
    await assert.rejects(migrateStore('memory:', `sqlite:${file}`), /memory: store lives only inside one process/);
    await assert.rejects(migrateStore(`sqlite:${file}`, 'redis://:pw@127.0.0.1:1/0'), (e: unknown) =>
      e instanceof StoreError && /127\.0\.0\.1:1 is unreachable/.test(e.message) && !e.message.includes('pw@'),
    );
    await assert.rejects(migrateStore(`sqlite:${file}`, redisUrl(newPrefix()), { users: ['nobody'] }), /no data of user\(s\) 'nobody'/);
  });
});
