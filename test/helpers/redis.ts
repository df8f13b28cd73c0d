/**
 * The Redis server the tests use (127.0.0.1:6379, started by scripts/test-env.d/redis.sh). Every
 * test works under its own key prefix and deletes its keys afterwards, so runs never see each
 * other's data and nothing is left behind on the server.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_HOST = '127.0.0.1';
export const REDIS_PORT = 6379;

/** A key prefix no other test or run uses. */
export function testPrefix(tag: string): string {
  return `occopus-test:${tag}:${process.pid}:${randomUUID().slice(0, 8)}:`;
}

/** The store URL of `prefix` on the test server (or on `port`, e.g. a proxy in front of it). */
export function redisUrl(prefix: string, options: { port?: number; timeoutMs?: number } = {}): string {
  const timeout = options.timeoutMs === undefined ? '' : `&timeout=${options.timeoutMs}`;
  return `redis://${REDIS_HOST}:${options.port ?? REDIS_PORT}/0?prefix=${encodeURIComponent(prefix)}${timeout}`;
}

/** A plain client on the test server; throws a clear error (never skips) when Redis is not answering. */
export async function rawRedis(): Promise<Redis> {
  const client = new Redis({ host: REDIS_HOST, port: REDIS_PORT, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    client.disconnect();
    throw new Error(
      `Redis is not answering at ${REDIS_HOST}:${REDIS_PORT} (${(e as Error).message}); start it with scripts/test-env.d/redis.sh`,
    );
  }
  return client;
}

/** Keys under `prefix`. */
export async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/** Deletes every key under `prefix` (SCAN + DEL). */
export async function deleteKeys(prefix: string): Promise<void> {
  const client = await rawRedis();
  try {
    const keys = await keysUnder(client, prefix);
    for (let i = 0; i < keys.length; i += 500) await client.del(...keys.slice(i, i + 500));
  } finally {
    client.disconnect();
  }
}
