/**
 * The Redis store when the connection to Redis breaks: a TCP proxy the test controls sits between
 * the store and the server, and is cut (connections dropped, new ones refused) or turned into a
 * black hole (requests reach Redis, replies are lost) while the store works.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { StoreError } from '../../src/errors.js';
import { RedisStore } from '../../src/store/redis.js';
import type { ScalingRequest } from '../../src/store/store.js';
import { eventually } from '../helpers/local-env.js';
import { REDIS_PORT, deleteKeys, rawRedis, redisUrl, testPrefix } from '../helpers/redis.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { description, instance } from './conformance.js';

let raw: Redis;
before(async () => {
  raw = await rawRedis();
});
after(() => raw.disconnect());

interface Rig {
  prefix: string;
  proxy: TcpProxy;
  /** Talks to Redis through the proxy. */
  store: RedisStore;
  /** Talks to Redis directly, as another process whose connection is fine. */
  direct: RedisStore;
}

async function withRig(fn: (rig: Rig) => Promise<void>, timeoutMs = 500): Promise<void> {
  const prefix = testPrefix('conn');
  const proxy = await TcpProxy.start(REDIS_PORT);
  const store = await RedisStore.open(redisUrl(prefix, { port: proxy.port, timeoutMs }), 'alice');
  const direct = await RedisStore.open(redisUrl(prefix), 'alice');
  try {
    await fn({ prefix, proxy, store, direct });
  } finally {
    await store.close();
    await direct.close();
    await proxy.close();
    await deleteKeys(prefix);
  }
}

function unreachable(port: number): (e: unknown) => boolean {
  return (e) => e instanceof StoreError && e.code === 'E_STORE' && e.message.startsWith(`Redis at 127.0.0.1:${port} is unreachable`);
}

/** Retries `op` until the store has reconnected. */
async function whenBack<T>(op: () => Promise<T>): Promise<T> {
  let result: T | undefined;
  await eventually(
    async () => {
      try {
        result = await op();
        return true;
      } catch {
        return false;
      }
    },
    15_000,
    'the store to reconnect',
  );
  return result as T;
}

describe('redis store: connection loss', { timeout: 120_000 }, () => {
  test('while Redis is unreachable every operation fails at once with a clear error; it reconnects by itself', () =>
    withRig(async ({ proxy, store, direct }) => {
      await store.putInfrastructure(description('x'));
      await store.insertInstance(instance('x', 'n1'));
      proxy.cut();
      const attempts: Array<[string, () => Promise<unknown>]> = [
        ['read', () => store.getInfrastructure('x')],
        ['list', () => store.listInstances('x')],
        ['insert', () => store.insertInstance(instance('x', 'n2'))],
        ['update', () => store.updateInstance('x', 'n1', { lifecycle: 'created' }, ['creating'])],
        ['take', () => store.takeScalingRequests('x')],
        ['lease', () => store.acquireLease('maintain:x', 'me', 5_000)],
        ['event', () => store.appendEvent('x', 'infrastart', 1, {})],
        ['remove', () => store.removeInfrastructure('x')],
      ];
      for (const [what, op] of attempts) await assert.rejects(op(), unreachable(proxy.port), what);

      // Nothing was half-done: the other side of the server sees exactly what was there before.
      assert.deepEqual(await direct.listInfrastructures(), ['x']);
      assert.deepEqual(await direct.listInstances('x'), [instance('x', 'n1')]);
      assert.deepEqual(await direct.readEvents('x'), []);
      assert.equal(await direct.getLease('maintain:x'), null);

      proxy.restore();
      assert.deepEqual(await whenBack(() => store.listInstances('x')), [instance('x', 'n1')]);
      assert.notEqual(await store.updateInstance('x', 'n1', { lifecycle: 'created' }, ['creating']), null);
      assert.equal((await direct.getInstance('x', 'n1'))?.lifecycle, 'created');
    }));

  test('a take whose reply was lost is retried and hands out the same requests, exactly once', () =>
    withRig(async ({ prefix, proxy, store, direct }) => {
      const requests: ScalingRequest[] = [
        { node: 'web', kind: 'create', count: 2 },
        { node: 'web', kind: 'destroy', selector: '10.0.0.1' },
      ];
      await direct.addScalingRequests('x', requests);
      proxy.blackhole();
      await assert.rejects(store.takeScalingRequests('x'), unreachable(proxy.port));
      // The take ran on the server: the requests are claimed, no longer pending, and no one else gets them.
      assert.deepEqual(await direct.peekScalingRequests('x'), []);
      assert.deepEqual(await direct.takeScalingRequests('x'), []);
      assert.equal((await raw.zrange(`${prefix}{alice}:i:x:claims`, 0, -1)).length, 1);
      await direct.addScalingRequests('x', [{ node: 'web', kind: 'target', count: 1 }]);

      proxy.restore();
      const taken = await whenBack(() => store.takeScalingRequests('x'));
      assert.deepEqual(taken, [...requests, { node: 'web', kind: 'target', count: 1 }]);
      assert.deepEqual(await store.takeScalingRequests('x'), []);
      assert.deepEqual(await raw.zrange(`${prefix}{alice}:i:x:claims`, 0, -1), [], 'the claim was acknowledged');
    }));

  test('connections cut and replies lost during a stream of takes: every request is taken exactly once', () =>
    withRig(async ({ prefix, proxy, store, direct }) => {
      const total = 300;
      const taken: number[] = [];
      let failures = 0;
      let producing = true;
      const taker = (async () => {
        let giveUpAt = Infinity;
        while (Date.now() < giveUpAt) {
          const done = !producing;
          if (done && giveUpAt === Infinity) giveUpAt = Date.now() + 20_000;
          try {
            const got = await store.takeScalingRequests('x');
            taken.push(...got.map((r) => (r.kind === 'create' ? r.count : -1)));
            if (done && got.length === 0 && (await direct.peekScalingRequests('x')).length === 0) {
              if ((await raw.zcard(`${prefix}{alice}:i:x:claims`)) === 0) return;
            }
          } catch (e) {
            assert.ok(e instanceof StoreError, String(e));
            failures++;
          }
          await new Promise((r) => setTimeout(r, 2));
        }
      })();
      // Breaks at fixed points of the stream; a black hole starts just before a batch is added, so
      // the taker's next take runs on the server and loses its reply.
      for (let next = 0, batchNo = 0; next < total; batchNo++) {
        const phase = batchNo % 20;
        if (phase === 3) proxy.cut();
        if (phase === 9) proxy.blackhole();
        if (phase === 6 || phase === 15) proxy.restore();
        const batch: ScalingRequest[] = [];
        for (let i = 0; i < 3 && next < total; i++) batch.push({ node: 'web', kind: 'create', count: next++ });
        await direct.addScalingRequests('x', batch);
        await new Promise((r) => setTimeout(r, 10));
      }
      proxy.restore();
      producing = false;
      await taker;
      assert.ok(failures > 0, 'the connection did break under the takes');
      assert.deepEqual(
        [...taken].sort((a, b) => a - b),
        Array.from({ length: total }, (_, i) => i),
        'each request taken once',
      );
    }));

  test('a connection that stops answering is replaced, and the store carries on after the network heals', () =>
    withRig(async ({ proxy, store }) => {
      await store.kvPut('ns', 'k', 1);
      const before = proxy.connections;
      proxy.blackhole();
      await assert.rejects(store.kvGet('ns', 'k'), (e: unknown) => unreachable(proxy.port)(e) && /no reply within 500 ms/.test((e as Error).message));
      proxy.restore();
      assert.equal(await whenBack(() => store.kvGet('ns', 'k')), 1);
      assert.ok(proxy.connections > before, 'a new connection was made');
    }));
});
