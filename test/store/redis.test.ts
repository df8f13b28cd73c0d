import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { StoreError } from '../../src/errors.js';
import { openStore } from '../../src/store/open.js';
import { CLAIM_ORPHAN_MS, RedisStore, parseRedisUrl, redactRedisUrl } from '../../src/store/redis.js';
import type { ScalingRequest, Store } from '../../src/store/store.js';
import { deleteKeys, keysUnder, rawRedis, redisUrl, testPrefix } from '../helpers/redis.js';
import { description, instance, storeConformance } from './conformance.js';
import { crossProcessSuite } from './cross-process.js';

let raw: Redis;
before(async () => {
  raw = await rawRedis();
});
after(() => raw.disconnect());

storeConformance('redis', async () => {
  const prefix = testPrefix('conf');
  const url = redisUrl(prefix);
  const opened: Store[] = [];
  const open = async (user: string): Promise<Store> => {
    const s = await RedisStore.open(url, user);
    opened.push(s);
    return s;
  };
  let store = await open('alice');
  return {
    store,
    openAs: open,
    reopen: async () => {
      await store.close();
      store = await open('alice');
      return store;
    },
    cleanup: async () => {
      for (const s of opened) await s.close();
      await deleteKeys(prefix);
    },
  };
});

/** Runs `fn` with a store on a fresh prefix, then deletes the prefix's keys. */
async function withStore(fn: (store: RedisStore, prefix: string) => Promise<void>, user = 'alice'): Promise<void> {
  const prefix = testPrefix('redis');
  const store = await RedisStore.open(redisUrl(prefix), user);
  try {
    await fn(store, prefix);
  } finally {
    await store.close();
    await deleteKeys(prefix);
  }
}

describe('redis store: URLs', () => {
  test('defaults: port 6379, database 0, prefix occopus:, no credentials, no TLS', () => {
    assert.deepEqual(parseRedisUrl('redis://cache.example'), {
      tls: false,
      host: 'cache.example',
      port: 6379,
      username: null,
      password: null,
      db: 0,
      prefix: 'occopus:',
      commandTimeoutMs: 5000,
    });
  });

  test('every part is read: TLS, user, percent-encoded password, IPv6 host, database, prefix, timeout', () => {
    const loc = parseRedisUrl('rediss://ops:p%40ss%3Aword@[::1]:6380/3?prefix=team-a%3A&timeout=250');
    assert.deepEqual(loc, {
      tls: true,
      host: '::1',
      port: 6380,
      username: 'ops',
      password: 'p@ss:word',
      db: 3,
      prefix: 'team-a:',
      commandTimeoutMs: 250,
    });
  });

  test('bad URLs are StoreErrors that never show the password', () => {
    for (const url of [
      'redis://:hunter2@host/notanumber',
      'redis://:hunter2@host/0?prefx=a',
      'redis://:hunter2@host/0?timeout=-1',
      'redis://:hunter2@/0',
    ]) {
      assert.throws(
        () => parseRedisUrl(url),
        (e: unknown) => e instanceof StoreError && !e.message.includes('hunter2') && e.message.includes('***'),
        url,
      );
    }
    assert.equal(redactRedisUrl('redis://u:pw@h:1/0'), 'redis://u:***@h:1/0');
    assert.equal(redactRedisUrl('rediss://:pw@h'), 'rediss://:***@h');
    assert.equal(redactRedisUrl('redis://h:1/0?prefix=a@b'), 'redis://h:1/0?prefix=a@b');
  });

  test('a wrong password is refused with a clear StoreError that does not show it', async () => {
    await assert.rejects(
      openStore('redis://nosuchuser:hunter2@127.0.0.1:6379/0', { user: 'alice' }),
      (e: unknown) => e instanceof StoreError && /refused the login/.test(e.message) && !e.message.includes('hunter2'),
    );
  });

  test('a database the server does not have is named in the error', async () => {
    await assert.rejects(
      openStore('redis://127.0.0.1:6379/999', { user: 'alice' }),
      (e: unknown) => e instanceof StoreError && /Redis at 127\.0\.0\.1:6379 has no database 999/.test(e.message),
    );
  });

  test('openStore opens a working Redis store from a redis:// URL', async () => {
    const prefix = testPrefix('open');
    try {
      const store = await openStore(redisUrl(prefix), { user: 'alice' });
      await store.kvPut('ns', 'k', 1);
      assert.ok(store instanceof RedisStore);
      await store.close();
      const again = await openStore(redisUrl(prefix), { user: 'alice' });
      assert.equal(await again.kvGet('ns', 'k'), 1);
      await again.close();
    } finally {
      await deleteKeys(prefix);
    }
  });
});

describe('redis store: keys', () => {
  test('everything is kept under the prefix, and two prefixes on one server are two installations', () =>
    withStore(async (store, prefix) => {
      const other = testPrefix('other');
      const neighbour = await RedisStore.open(redisUrl(other), 'alice');
      try {
        await store.importNodeDefinitions({ web_t: [{ resource: { type: 'dummy' } }] });
        await store.putInfrastructure(description('x'));
        await store.insertInstance(instance('x', 'n1'));
        await store.addScalingRequests('x', [{ node: 'web', kind: 'create', count: 1 }]);
        await store.appendEvent('x', 'infrastart', 1, {});
        await store.acquireLease('maintain:x', 'me', 60_000);
        await store.kvPut('ns', 'k', 1);
        const keys = await keysUnder(raw, prefix);
        assert.ok(keys.length >= 7, keys.join(' '));
        assert.ok(keys.every((k) => k.startsWith(`${prefix}{alice}:`)), keys.join(' '));

        assert.deepEqual(await neighbour.listInfrastructures(), []);
        assert.deepEqual(await neighbour.listNodeDefinitionTypes(), []);
        assert.equal(await neighbour.getLease('maintain:x'), null);
        assert.equal(await neighbour.acquireLease('maintain:x', 'them', 60_000), true);
        assert.equal((await store.getLease('maintain:x'))?.holder, 'me');
        assert.deepEqual(await keysUnder(raw, other), [`${other}{alice}:lease:maintain%3Ax`]);
      } finally {
        await neighbour.close();
        await deleteKeys(other);
      }
    }));

  test('user names cannot reach into other users’ keys', async () => {
    const prefix = testPrefix('users');
    const a = await RedisStore.open(redisUrl(prefix), 'a');
    const tricky = await RedisStore.open(redisUrl(prefix), 'a}:kv:ns');
    try {
      await a.kvPut('ns', 'k', 'mine');
      assert.equal(await tricky.kvGet('ns', 'k'), null);
      await tricky.kvPut('ns', 'k', 'theirs');
      assert.equal(await a.kvGet('ns', 'k'), 'mine');
      assert.deepEqual(await a.listUsers(), ['a', 'a}:kv:ns']);
    } finally {
      await a.close();
      await tricky.close();
      await deleteKeys(prefix);
    }
  });

  test('a lease expires in Redis with its holder gone, and without an explicit time the server clock is used', () =>
    withStore(async (store, prefix) => {
      const t = await raw.time();
      const serverNow = Number(t[0]) * 1000 + Math.floor(Number(t[1]) / 1000);
      assert.equal(await store.acquireLease('short', 'p1', 300), true);
      const lease = (await store.getLease('short'))!;
      assert.ok(lease.expires_at >= serverNow + 300 && lease.expires_at <= serverNow + 2_000, JSON.stringify(lease));
      const ttl = await raw.pttl(`${prefix}{alice}:lease:short`);
      assert.ok(ttl > 0 && ttl <= 300, `pttl ${ttl}`);
      await new Promise((r) => setTimeout(r, 450));
      assert.equal(await store.getLease('short'), null);
      assert.equal(await store.acquireLease('short', 'p2', 60_000), true);
    }));

  test('a damaged scaling request makes the take fail and loses nothing', () =>
    withStore(async (store, prefix) => {
      await store.addScalingRequests('x', [{ node: 'web', kind: 'create', count: 1 }]);
      await raw.rpush(`${prefix}{alice}:i:x:scaling`, '{broken');
      await assert.rejects(store.takeScalingRequests('x'), (e: unknown) => e instanceof StoreError && /damaged/.test(e.message));
      assert.equal(await raw.llen(`${prefix}{alice}:i:x:scaling`), 2);
      await raw.rpop(`${prefix}{alice}:i:x:scaling`);
      assert.deepEqual(await store.takeScalingRequests('x'), [{ node: 'web', kind: 'create', count: 1 }]);
    }));

  test('requests claimed by a taker that died unacknowledged are handed out again, first, after the orphan delay', () =>
    withStore(async (store, prefix) => {
      const base = `${prefix}{alice}:i:x:`;
      const old: ScalingRequest = { node: 'web', kind: 'create', count: 1 };
      const recent: ScalingRequest = { node: 'web', kind: 'create', count: 2 };
      const t = await raw.time();
      const serverNow = Number(t[0]) * 1000 + Math.floor(Number(t[1]) / 1000);
      // Two claims as a taker leaves them when it dies between Redis running the take and the reply.
      await raw.rpush(`${base}claim:dead-old`, JSON.stringify(old));
      await raw.zadd(`${base}claims`, serverNow - CLAIM_ORPHAN_MS - 1000, 'dead-old');
      await raw.rpush(`${base}claim:dead-recent`, JSON.stringify(recent));
      await raw.zadd(`${base}claims`, serverNow - 1000, 'dead-recent');
      await store.addScalingRequests('x', [{ node: 'web', kind: 'target', count: 3 }]);

      assert.deepEqual(await store.takeScalingRequests('x'), [old, { node: 'web', kind: 'target', count: 3 }]);
      assert.deepEqual(await store.takeScalingRequests('x'), []);
      // The recent claim may still be acknowledged by its taker: it is left alone.
      assert.deepEqual(await raw.zrange(`${base}claims`, 0, -1), ['dead-recent']);
      assert.equal(await raw.exists(`${base}claim:dead-old`), 0);
      await store.removeInfrastructure('x');
      assert.deepEqual(await keysUnder(raw, base), []);
    }));
});

crossProcessSuite('redis store: several processes on one server', async (tag) => {
  const prefix = testPrefix(tag);
  const url = redisUrl(prefix);
  return {
    url,
    open: () => RedisStore.open(url, 'alice'),
    afterTake: async (_parent, results) => {
      assert.ok(results.filter((takes) => takes.length > 0).length >= 2, 'the takers interleaved');
      // Every claim was acknowledged: nothing is left to be handed out again.
      assert.deepEqual(await raw.zrange(`${prefix}{alice}:i:infra:claims`, 0, -1), []);
    },
    cleanup: () => deleteKeys(prefix),
  };
});
