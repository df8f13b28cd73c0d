/**
 * The Redis backend, for deployments where several orchestrator processes (on one or several
 * hosts) share one state: `redis://[user:password@]host[:port][/db][?prefix=P&timeout=MS]`, or
 * `rediss://` for TLS.
 *
 * Keys: `<prefix>{<user>}:...` (the user percent-encoded, so no user can reach into another's keys;
 * the braces keep one user's keys in one hash slot). Every operation the port calls atomic is one
 * Lua script or one MULTI/EXEC, so it is atomic across processes without locks.
 *
 * Connection loss: commands are never queued while disconnected and never re-sent after a reconnect
 * (a re-sent write could apply twice); they fail at once with a StoreError saying Redis is
 * unreachable, and the client reconnects in the background. A command without a reply within the
 * timeout fails the same way and the connection is re-made, since it may be half-open.
 *
 * A reply lost after Redis ran a command is the one case a client cannot tell apart from a command
 * that never ran. `takeScalingRequests` is therefore idempotent: taken requests are parked under a
 * claim token until the taker has the reply and acknowledges it; a take whose reply was lost is
 * retried with the same token and gets the same requests. Claims never acknowledged (the taker
 * died) go back to the head of the queue after {@link CLAIM_ORPHAN_MS}.
 */
import { createHash, randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import { StoreError } from '../errors.js';
import type { JsonObject, JsonValue, NodeDefinition } from '../descriptors/types.js';
import type { StaticDescription } from '../compiler/types.js';
import type { InstanceLifecycle, InstanceRecord, Lease, ScalingRequest, Store, StoredEvent } from './store.js';
import { applyInstancePatch, fromJsonText, toJsonText, type InstancePatch } from './values.js';
import {
  checkEventNumbering,
  emptyInfraDump,
  infraDumpHasData,
  isEmptyDump,
  orderInfraDumps,
  type InfraDump,
  type StoreAdmin,
  type UserDump,
} from './admin.js';

export const DEFAULT_REDIS_PREFIX = 'occopus:';
export const DEFAULT_REDIS_PORT = 6379;
export const DEFAULT_COMMAND_TIMEOUT_MS = 5000;
/** A claim of scaling requests older than this with no acknowledgement is handed out again. */
export const CLAIM_ORPHAN_MS = 5 * 60 * 1000;
const CONNECT_TIMEOUT_MS = 3000;
/** Compare-and-set retries of updateInstance before contention is reported. */
const CAS_ATTEMPTS = 100;

export interface RedisLocation {
  tls: boolean;
  host: string;
  port: number;
  username: string | null;
  password: string | null;
  db: number;
  prefix: string;
  commandTimeoutMs: number;
}

const QUERY_KEYS = ['prefix', 'timeout'];

/** The URL with its password replaced by `***`, for messages. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/)([^@/?#]*)@/i, (_m, scheme: string, auth: string) => {
    const colon = auth.indexOf(':');
    return colon >= 0 ? `${scheme}${auth.slice(0, colon)}:***@` : `${scheme}${auth}@`;
  });
}

/** `host:port` (IPv6 in brackets), as messages name the server. */
export function redisEndpoint(loc: Pick<RedisLocation, 'host' | 'port'>): string {
  return `${loc.host.includes(':') ? `[${loc.host}]` : loc.host}:${loc.port}`;
}

export function parseRedisUrl(url: string): RedisLocation {
  const shown = redactRedisUrl(url);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StoreError(`Store URL '${shown}' is not a valid URL (expected redis://[user:password@]host[:port][/db])`);
  }
  const scheme = u.protocol.toLowerCase();
  if (scheme !== 'redis:' && scheme !== 'rediss:') throw new StoreError(`Store URL '${shown}' is not a redis:// or rediss:// URL`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new StoreError(`Store URL '${shown}' names no host (expected redis://host[:port][/db])`);
  const port = u.port === '' ? DEFAULT_REDIS_PORT : Number(u.port);
  const dbText = u.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d+$/.test(dbText)) {
    throw new StoreError(`Store URL '${shown}': the path must be a database number (e.g. /0), not '/${dbText}'`);
  }
  const db = dbText === '' ? 0 : Number(dbText);
  for (const key of u.searchParams.keys()) {
    if (!QUERY_KEYS.includes(key)) {
      throw new StoreError(`Store URL '${shown}': unknown parameter '${key}' (known: ${QUERY_KEYS.join(', ')})`);
    }
  }
  const prefix = u.searchParams.get('prefix') ?? DEFAULT_REDIS_PREFIX;
  const timeoutText = u.searchParams.get('timeout');
  const commandTimeoutMs = timeoutText === null ? DEFAULT_COMMAND_TIMEOUT_MS : Number(timeoutText);
  if (!Number.isInteger(commandTimeoutMs) || commandTimeoutMs <= 0) {
    throw new StoreError(`Store URL '${shown}': timeout must be a positive number of milliseconds, got '${timeoutText}'`);
  }
  const decode = (s: string): string | null => {
    if (s === '') return null;
    try {
      return decodeURIComponent(s);
    } catch {
      throw new StoreError(`Store URL '${shown}': the user or password is not validly percent-encoded`);
    }
  };
  return {
    tls: scheme === 'rediss:',
    host,
    port,
    username: decode(u.username),
    password: decode(u.password),
    db,
    prefix,
    commandTimeoutMs,
  };
}

/** Escapes glob characters for SCAN MATCH. */
function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

const enc = (s: string): string => encodeURIComponent(s);

function isConnectionError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return (
    e.name === 'MaxRetriesPerRequestError' ||
    /Stream isn't writeable|Connection is closed|connect ETIMEDOUT/.test(e.message) ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)
  );
}

function isAuthError(e: unknown): boolean {
  return e instanceof Error && /^(WRONGPASS|NOAUTH|NOPERM)/.test(e.message);
}

// --- Lua scripts. Values are opaque JSON text to the scripts, so nothing is re-encoded in Lua. ---

interface Script {
  lua: string;
  sha: string;
}

function script(lua: string): Script {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** Lua helpers: the server's clock in ms, and numbers as text that JS parses back exactly. */
const LUA_PRELUDE = `
local function server_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function num(x) return string.format('%.17g', x) end
local function push_all(key, items)
  for i = 1, #items, 1000 do
    redis.call('RPUSH', key, unpack(items, i, math.min(i + 999, #items)))
  end
end
`;

const SCRIPTS = {
  /** KEYS: infras zset, desc hash, seq. ARGV: infra id, description. */
  putInfra: script(`
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[3]), ARGV[1])
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1`),
  /** KEYS: infras, desc, then the infra's keys (claims zset last). ARGV: infra id, claim key prefix. */
  removeInfra: script(`
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
local claims = KEYS[#KEYS]
for _, token in ipairs(redis.call('ZRANGE', claims, 0, -1)) do redis.call('DEL', ARGV[2] .. token) end
for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
return 1`),
  /** KEYS: inst hash, order hash, seq. ARGV: node id, record. */
  insertInstance: script(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], redis.call('INCR', KEYS[3]))
return 1`),
  /** KEYS: inst hash. ARGV: node id, the record as read, the new record. */
  casInstance: script(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1`),
  /** KEYS: failed hash, failed order zset, seq. ARGV: node id, record. */
  archive: script(`
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[1])
end
return 1`),
  /**
   * KEYS: scaling list, claims zset. ARGV: claim key prefix, token, orphan ms, then tokens to
   * acknowledge. Returns everything claimed under the token (an earlier, unacknowledged take's
   * requests first), or an error reply without taking anything if a request is damaged.
   */
  take: script(`${LUA_PRELUDE}
local prefix, token = ARGV[1], ARGV[2]
for i = 4, #ARGV do
  redis.call('DEL', prefix .. ARGV[i])
  redis.call('ZREM', KEYS[2], ARGV[i])
end
local now = server_now()
local moved = {}
local orphans = {}
for _, t in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[3]))) do
  if t ~= token then
    table.insert(orphans, t)
    for _, v in ipairs(redis.call('LRANGE', prefix .. t, 0, -1)) do table.insert(moved, v) end
  end
end
for _, v in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do table.insert(moved, v) end
for _, v in ipairs(moved) do
  if not pcall(cjson.decode, v) then return redis.error_reply('DAMAGED a stored scaling request is not valid JSON') end
end
local claim = prefix .. token
if #moved > 0 then
  push_all(claim, moved)
  for _, t in ipairs(orphans) do
    redis.call('DEL', prefix .. t)
    redis.call('ZREM', KEYS[2], t)
  end
  redis.call('DEL', KEYS[1])
  redis.call('ZADD', KEYS[2], 'NX', now, token)
end
return redis.call('LRANGE', claim, 0, -1)`),
  /**
   * KEYS: lease hash. ARGV: holder, ttl ms, now ('' = the server's clock). Taken when free, expired,
   * or already held by the holder. The key expires with the lease (a safety net for dead holders).
   */
  acquireLease: script(`${LUA_PRELUDE}
local now = ARGV[3] == '' and server_now() or tonumber(ARGV[3])
local cur = redis.call('HMGET', KEYS[1], 'holder', 'expires_at')
if cur[1] and cur[1] ~= ARGV[1] and now <= tonumber(cur[2]) then return 0 end
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'expires_at', num(now + tonumber(ARGV[2])))
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(tonumber(ARGV[2]))))
return 1`),
  /** KEYS: lease hash. ARGV: holder, ttl ms, now ('' = the server's clock). */
  renewLease: script(`${LUA_PRELUDE}
if redis.call('HGET', KEYS[1], 'holder') ~= ARGV[1] then return 0 end
local now = ARGV[3] == '' and server_now() or tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'expires_at', num(now + tonumber(ARGV[2])))
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(tonumber(ARGV[2]))))
return 1`),
  /** KEYS: lease hash. ARGV: holder. */
  releaseLease: script(`
if redis.call('HGET', KEYS[1], 'holder') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`),
  /** KEYS: lease hash. ARGV: holder, expires_at (epoch ms). For imports: kept only while unexpired. */
  importLease: script(`${LUA_PRELUDE}
local ttl = tonumber(ARGV[2]) - server_now()
if ttl <= 0 then return 0 end
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'expires_at', ARGV[2])
redis.call('PEXPIRE', KEYS[1], math.ceil(ttl))
return 1`),
} as const;

type ScriptName = keyof typeof SCRIPTS;

export interface RedisStoreOptions {
  /** Called with connection errors as they happen (they are also in the StoreErrors thrown). */
  onConnectionError?: (message: string) => void;
}

export class RedisStore implements Store, StoreAdmin {
  readonly user: string;
  readonly location: RedisLocation;
  private readonly redis: Redis;
  private readonly endpoint: string;
  private readonly prefix: string;
  private closed = false;
  private lastConnectionError: string | null = null;
  /** Per infrastructure: the token of a take whose reply did not arrive, to retry it with. */
  private readonly pendingTakes = new Map<string, string>();
  /** Per infrastructure: claims received whose acknowledgement failed, sent with the next take. */
  private readonly pendingAcks = new Map<string, Set<string>>();

  private constructor(redis: Redis, location: RedisLocation, user: string) {
    this.redis = redis;
    this.location = location;
    this.user = user;
    this.endpoint = redisEndpoint(location);
    this.prefix = `${location.prefix}{${enc(user)}}:`;
  }

  /** Connects (failing fast when Redis does not answer) and returns a store scoped to `user`. */
  static async open(url: string, user: string, options: RedisStoreOptions = {}): Promise<RedisStore> {
    if (!user) throw new StoreError('A store needs a non-empty user name');
    const location = parseRedisUrl(url);
    return RedisStore.connect(location, user, options);
  }

  static async connect(location: RedisLocation, user: string, options: RedisStoreOptions = {}): Promise<RedisStore> {
    if (!user) throw new StoreError('A store needs a non-empty user name');
    const redisOptions: RedisOptions = {
      host: location.host,
      port: location.port,
      db: location.db,
      ...(location.username !== null ? { username: location.username } : {}),
      ...(location.password !== null ? { password: location.password } : {}),
      // SNI takes host names only.
      ...(location.tls ? { tls: isIP(location.host) ? {} : { servername: location.host } } : {}),
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: CONNECT_TIMEOUT_MS,
      // Reconnect forever, backing off to 1 s: a maintainer resumes soon after Redis is back.
      retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
      connectionName: `occopus:${enc(user)}`,
    };
    const redis = new Redis(redisOptions);
    const store = new RedisStore(redis, location, user);
    redis.on('error', (e: Error) => {
      store.lastConnectionError = store.describeConnectionError(e);
      options.onConnectionError?.(store.lastConnectionError);
    });
    redis.on('ready', () => {
      store.lastConnectionError = null;
    });
    try {
      await redis.connect();
      // ioredis reports a failed SELECT only as an 'error' event: check the database explicitly,
      // or the store would silently work in database 0.
      if (location.db !== 0) await redis.select(location.db);
    } catch (e) {
      redis.disconnect();
      // The reason is often only in the 'error' event; the rejection says the connection closed.
      const own = e instanceof Error ? e.message : String(e);
      const detail = /DB index is out of range/.test(own) ? own : (store.lastConnectionError ?? own);
      if (/^(WRONGPASS|NOAUTH|NOPERM)/.test(detail)) {
        throw new StoreError(
          `Redis at ${store.endpoint} refused the login (${detail.split(' ')[0]}); check the user and password of the store URL`,
          e,
        );
      }
      if (/DB index is out of range/.test(detail)) throw new StoreError(`Redis at ${store.endpoint} has no database ${location.db}`, e);
      throw new StoreError(`Redis at ${store.endpoint} is unreachable (${detail})`, e);
    }
    return store;
  }

  // --- plumbing ---

  private key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  private infraKey(infraId: string, part: string): string {
    return this.key('i', enc(infraId), part);
  }

  private wrap(e: unknown, action: string): StoreError {
    if (e instanceof StoreError) return e;
    if (isConnectionError(e)) {
      const detail = this.lastConnectionError ?? this.describeConnectionError(e);
      return new StoreError(`Redis at ${this.endpoint} is unreachable (${detail}); could not ${action}`, e);
    }
    if (isAuthError(e)) {
      return new StoreError(`Redis at ${this.endpoint} refused access while trying to ${action} (${(e as Error).message})`, e);
    }
    const detail = e instanceof Error ? e.message : String(e);
    return new StoreError(`Redis at ${this.endpoint}: failed to ${action}: ${detail}`, e);
  }

  private describeConnectionError(e: unknown): string {
    if (!(e instanceof Error)) return String(e);
    if (e.name === 'MaxRetriesPerRequestError' || /Connection is closed/.test(e.message)) return 'connection lost';
    if (/Stream isn't writeable/.test(e.message)) return 'not connected';
    return e.message;
  }

  /**
   * Runs Redis calls, turning whatever they throw into a StoreError. Without a reply within the
   * timeout the call fails and the connection is re-made (it may be half-open). The timeout is
   * ours, not ioredis's: when it fires we first let pending I/O be read (setImmediate runs after
   * the poll phase), so a reply that arrived while the event loop was busy is not taken for silence.
   */
  private async run<T>(action: string, fn: (r: Redis) => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreError(`The Redis store at ${this.endpoint} is closed`);
    if (this.redis.status !== 'ready') {
      throw new StoreError(
        `Redis at ${this.endpoint} is unreachable (${this.lastConnectionError ?? 'not connected'}); could not ${action}`,
      );
    }
    const call = fn(this.redis);
    let timer: NodeJS.Timeout | undefined;
    const silence = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => setImmediate(() => resolve('timeout')), this.location.commandTimeoutMs);
    });
    try {
      const first = await Promise.race([call.then((value) => ({ value })), silence]);
      if (first !== 'timeout') return first.value;
      call.catch(() => undefined);
      const detail = `no reply within ${this.location.commandTimeoutMs} ms`;
      if (this.redis.status === 'ready') {
        this.lastConnectionError = detail;
        this.redis.disconnect(true);
      }
      throw new StoreError(`Redis at ${this.endpoint} is unreachable (${detail}); could not ${action}`);
    } catch (e) {
      throw this.wrap(e, action);
    } finally {
      clearTimeout(timer);
    }
  }

  private async evalScript(r: Redis, name: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
    const s = SCRIPTS[name];
    try {
      return await r.evalsha(s.sha, keys.length, ...keys, ...args);
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('NOSCRIPT')) return r.eval(s.lua, keys.length, ...keys, ...args);
      throw e;
    }
  }

  private script(action: string, name: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
    return this.run(action, (r) => this.evalScript(r, name, keys, args));
  }

  /** MULTI/EXEC; an error of any command is thrown (after EXEC, so nothing is half-applied by us). */
  private async transaction(action: string, build: (m: ReturnType<Redis['multi']>) => void): Promise<unknown[]> {
    return this.run(action, async (r) => {
      const m = r.multi();
      build(m);
      const results = await m.exec();
      if (!results) throw new StoreError(`Redis at ${this.endpoint}: the transaction to ${action} was aborted`);
      return results.map(([err, value]) => {
        if (err) throw err;
        return value;
      });
    });
  }

  // --- node definitions ---

  async importNodeDefinitions(defs: Record<string, NodeDefinition[]>): Promise<void> {
    const fields: string[] = [];
    for (const [type, list] of Object.entries(defs)) fields.push(type, toJsonText(list, `node definitions of ${type}`));
    if (fields.length === 0) return;
    await this.run('import node definitions', (r) => r.hset(this.key('defs'), ...fields));
  }

  async getNodeDefinitions(type: string): Promise<NodeDefinition[]> {
    const text = await this.run('read node definitions', (r) => r.hget(this.key('defs'), type));
    return text === null ? [] : fromJsonText<NodeDefinition[]>(text, `node definitions of ${type}`);
  }

  async listNodeDefinitionTypes(): Promise<string[]> {
    const types = await this.run('list node definition types', (r) => r.hkeys(this.key('defs')));
    return types.sort();
  }

  // --- infrastructures ---

  async putInfrastructure(description: StaticDescription): Promise<void> {
    const text = toJsonText(description, `infrastructure ${description.infra_id}`);
    await this.script('store an infrastructure', 'putInfra', [this.key('infras'), this.key('desc'), this.key('seq')], [
      description.infra_id,
      text,
    ]);
  }

  async getInfrastructure(infraId: string): Promise<StaticDescription | null> {
    const text = await this.run('read an infrastructure', (r) => r.hget(this.key('desc'), infraId));
    return text === null ? null : fromJsonText<StaticDescription>(text, `infrastructure ${infraId}`);
  }

  async listInfrastructures(): Promise<string[]> {
    return this.run('list infrastructures', (r) => r.zrange(this.key('infras'), 0, -1));
  }

  /** Every key kept under an infrastructure; the claims zset last (the removal script relies on it). */
  private infraKeys(infraId: string): string[] {
    return ['meta', 'inst', 'iord', 'failed', 'ford', 'failing', 'scaling', 'events', 'claims'].map((p) => this.infraKey(infraId, p));
  }

  private claimPrefix(infraId: string): string {
    return this.infraKey(infraId, 'claim:');
  }

  async removeInfrastructure(infraId: string): Promise<void> {
    await this.script(
      `remove infrastructure ${infraId}`,
      'removeInfra',
      [this.key('infras'), this.key('desc'), ...this.infraKeys(infraId)],
      [infraId, this.claimPrefix(infraId)],
    );
    this.pendingTakes.delete(infraId);
    this.pendingAcks.delete(infraId);
  }

  async setInfraMeta(infraId: string, key: string, value: JsonValue | null): Promise<void> {
    const metaKey = this.infraKey(infraId, 'meta');
    if (value === null) {
      await this.run('clear an infrastructure value', (r) => r.hdel(metaKey, key));
      return;
    }
    const text = toJsonText(value, `meta ${key} of infrastructure ${infraId}`);
    await this.run('store an infrastructure value', (r) => r.hset(metaKey, key, text));
  }

  async getInfraMeta(infraId: string, key: string): Promise<JsonValue | null> {
    const text = await this.run('read an infrastructure value', (r) => r.hget(this.infraKey(infraId, 'meta'), key));
    return text === null ? null : fromJsonText<JsonValue>(text, `meta ${key}`);
  }

  // --- instances ---

  async insertInstance(record: InstanceRecord): Promise<void> {
    const text = toJsonText(record, `instance ${record.node_id}`);
    const inserted = await this.script(
      'insert an instance',
      'insertInstance',
      [this.infraKey(record.infra_id, 'inst'), this.infraKey(record.infra_id, 'iord'), this.key('seq')],
      [record.node_id, text],
    );
    if (inserted !== 1) throw new StoreError(`Instance ${record.node_id} already exists in infrastructure ${record.infra_id}`);
  }

  async updateInstance(
    infraId: string,
    nodeId: string,
    patch: InstancePatch,
    expected?: InstanceLifecycle[],
  ): Promise<InstanceRecord | null> {
    const instKey = this.infraKey(infraId, 'inst');
    // Optimistic compare-and-set on the stored text: the patch is applied here, in JS, so numbers
    // and strings are never re-encoded by Lua; a concurrent change makes the script refuse and we retry.
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const text = await this.run(`read instance ${nodeId}`, (r) => r.hget(instKey, nodeId));
      if (text === null) return null;
      const current = fromJsonText<InstanceRecord>(text, `instance ${nodeId}`);
      if (expected && !expected.includes(current.lifecycle)) return null;
      const next = applyInstancePatch(current, patch);
      const written = await this.script(`update instance ${nodeId}`, 'casInstance', [instKey], [
        nodeId,
        text,
        toJsonText(next, `instance ${nodeId}`),
      ]);
      if (written === 1) return next;
    }
    throw new StoreError(`Redis at ${this.endpoint}: instance ${nodeId} kept changing; gave up updating it after ${CAS_ATTEMPTS} attempts`);
  }

  async getInstance(infraId: string, nodeId: string): Promise<InstanceRecord | null> {
    const text = await this.run('read an instance', (r) => r.hget(this.infraKey(infraId, 'inst'), nodeId));
    return text === null ? null : fromJsonText<InstanceRecord>(text, `instance ${nodeId}`);
  }

  private static sortInstances(records: Record<string, string>, order: Record<string, string>): InstanceRecord[] {
    const rows = Object.entries(records).map(([nodeId, text]) => ({
      order: Number(order[nodeId] ?? Number.MAX_SAFE_INTEGER),
      record: fromJsonText<InstanceRecord>(text, `instance ${nodeId}`),
    }));
    rows.sort((a, b) => a.record.created_at - b.record.created_at || a.order - b.order);
    return rows.map((r) => r.record);
  }

  async listInstances(infraId: string): Promise<InstanceRecord[]> {
    const [records, order] = (await this.transaction('list instances', (m) => {
      m.hgetall(this.infraKey(infraId, 'inst'));
      m.hgetall(this.infraKey(infraId, 'iord'));
    })) as [Record<string, string>, Record<string, string>];
    return RedisStore.sortInstances(records, order);
  }

  async removeInstance(infraId: string, nodeId: string): Promise<boolean> {
    const [removed] = (await this.transaction('remove an instance', (m) => {
      m.hdel(this.infraKey(infraId, 'inst'), nodeId);
      m.hdel(this.infraKey(infraId, 'iord'), nodeId);
    })) as [number, number];
    return removed > 0;
  }

  async archiveFailedInstance(record: InstanceRecord): Promise<void> {
    const text = toJsonText(record, `instance ${record.node_id}`);
    await this.script(
      'archive a failed instance',
      'archive',
      [this.infraKey(record.infra_id, 'failed'), this.infraKey(record.infra_id, 'ford'), this.key('seq')],
      [record.node_id, text],
    );
  }

  private async readFailed(infraId: string): Promise<InstanceRecord[]> {
    const [records, order] = (await this.transaction('list failed instances', (m) => {
      m.hgetall(this.infraKey(infraId, 'failed'));
      m.zrange(this.infraKey(infraId, 'ford'), 0, -1);
    })) as [Record<string, string>, string[]];
    return order.filter((id) => id in records).map((id) => fromJsonText<InstanceRecord>(records[id] as string, 'failed instance'));
  }

  async listFailedInstances(infraId: string): Promise<InstanceRecord[]> {
    return this.readFailed(infraId);
  }

  // --- failure timers ---

  async markFailing(infraId: string, nodeId: string, now: number): Promise<number> {
    const key = this.infraKey(infraId, 'failing');
    const [, since] = (await this.transaction('record a health-check failure', (m) => {
      m.hsetnx(key, nodeId, String(now));
      m.hget(key, nodeId);
    })) as [number, string];
    return Number(since);
  }

  async getFailingSince(infraId: string, nodeId: string): Promise<number | null> {
    const since = await this.run('read a health-check failure', (r) => r.hget(this.infraKey(infraId, 'failing'), nodeId));
    return since === null ? null : Number(since);
  }

  async clearFailing(infraId: string, nodeId: string): Promise<void> {
    await this.run('clear a health-check failure', (r) => r.hdel(this.infraKey(infraId, 'failing'), nodeId));
  }

  // --- scaling requests ---

  async addScalingRequests(infraId: string, requests: ScalingRequest[]): Promise<void> {
    const texts = requests.map((r) => toJsonText(r, `scaling request of infrastructure ${infraId}`));
    if (texts.length === 0) return;
    await this.run('add scaling requests', (r) => r.rpush(this.infraKey(infraId, 'scaling'), ...texts));
  }

  async takeScalingRequests(infraId: string): Promise<ScalingRequest[]> {
    // Reuse the token of a take whose reply was lost: the script then hands out what it claimed.
    const token = this.pendingTakes.get(infraId) ?? randomUUID();
    this.pendingTakes.set(infraId, token);
    const acks = [...(this.pendingAcks.get(infraId) ?? [])];
    let texts: string[];
    try {
      texts = (await this.script(
        'take scaling requests',
        'take',
        [this.infraKey(infraId, 'scaling'), this.infraKey(infraId, 'claims')],
        [this.claimPrefix(infraId), token, CLAIM_ORPHAN_MS, ...acks],
      )) as string[];
    } catch (e) {
      if (e instanceof StoreError && e.cause instanceof Error && e.cause.message.startsWith('DAMAGED')) {
        // Nothing was taken: the token need not be kept.
        this.pendingTakes.delete(infraId);
        throw new StoreError('Stored scaling request is damaged (not valid JSON)', e);
      }
      throw e;
    }
    this.pendingTakes.delete(infraId);
    for (const a of acks) this.pendingAcks.get(infraId)?.delete(a);
    if (texts.length === 0) return [];
    const requests = texts.map((t) => fromJsonText<ScalingRequest>(t, 'scaling request'));
    try {
      await this.transaction('acknowledge taken scaling requests', (m) => {
        m.del(this.claimPrefix(infraId) + token);
        m.zrem(this.infraKey(infraId, 'claims'), token);
      });
    } catch {
      // The requests are ours; the claim is acknowledged with the next take (or expires as an orphan).
      let set = this.pendingAcks.get(infraId);
      if (!set) this.pendingAcks.set(infraId, (set = new Set()));
      set.add(token);
    }
    return requests;
  }

  async peekScalingRequests(infraId: string): Promise<ScalingRequest[]> {
    const texts = await this.run('read scaling requests', (r) => r.lrange(this.infraKey(infraId, 'scaling'), 0, -1));
    return texts.map((t) => fromJsonText<ScalingRequest>(t, 'scaling request'));
  }

  // --- leases ---

  private leaseKey(key: string): string {
    return this.key('lease', enc(key));
  }

  async acquireLease(key: string, holder: string, ttlMs: number, now?: number): Promise<boolean> {
    const won = await this.script(`acquire lease ${key}`, 'acquireLease', [this.leaseKey(key)], [holder, ttlMs, now ?? '']);
    return won === 1;
  }

  async renewLease(key: string, holder: string, ttlMs: number, now?: number): Promise<boolean> {
    const held = await this.script(`renew lease ${key}`, 'renewLease', [this.leaseKey(key)], [holder, ttlMs, now ?? '']);
    return held === 1;
  }

  async releaseLease(key: string, holder: string): Promise<void> {
    await this.script(`release lease ${key}`, 'releaseLease', [this.leaseKey(key)], [holder]);
  }

  async getLease(key: string): Promise<Lease | null> {
    const [holder, expires] = await this.run(`read lease ${key}`, (r) => r.hmget(this.leaseKey(key), 'holder', 'expires_at'));
    return holder === null || holder === undefined || expires === null || expires === undefined
      ? null
      : { holder, expires_at: Number(expires) };
  }

  // --- events ---

  async appendEvent(infraId: string, name: string, timestamp: number, data: JsonObject): Promise<number> {
    const text = toJsonText({ name, timestamp, data }, `data of event ${name}`);
    // Events are never removed one by one, so the list length after the push is the new number.
    return this.run('append an event', (r) => r.rpush(this.infraKey(infraId, 'events'), text));
  }

  private static toEvent(infraId: string, seq: number, text: string): StoredEvent {
    const e = fromJsonText<{ name: string; timestamp: number; data: JsonObject }>(text, `event ${seq}`);
    return { seq, infra_id: infraId, name: e.name, timestamp: e.timestamp, data: e.data };
  }

  async readEvents(infraId: string, afterSeq = 0, limit?: number): Promise<StoredEvent[]> {
    const start = Math.max(0, Math.floor(afterSeq));
    const max = limit === undefined ? -1 : Math.max(0, Math.floor(limit));
    if (max === 0) return [];
    const stop = max < 0 ? -1 : start + max - 1;
    const texts = await this.run('read events', (r) => r.lrange(this.infraKey(infraId, 'events'), start, stop));
    return texts.map((t, i) => RedisStore.toEvent(infraId, start + i + 1, t));
  }

  // --- key-value ---

  private kvKey(namespace: string): string {
    return this.key('kv', enc(namespace));
  }

  async kvGet(namespace: string, key: string): Promise<JsonValue | null> {
    const text = await this.run('read a value', (r) => r.hget(this.kvKey(namespace), key));
    return text === null ? null : fromJsonText<JsonValue>(text, `value ${namespace}/${key}`);
  }

  async kvPut(namespace: string, key: string, value: JsonValue): Promise<void> {
    const text = toJsonText(value, `value ${namespace}/${key}`);
    await this.run('store a value', (r) => r.hset(this.kvKey(namespace), key, text));
  }

  async kvDelete(namespace: string, key: string): Promise<boolean> {
    const removed = await this.run('delete a value', (r) => r.hdel(this.kvKey(namespace), key));
    return removed > 0;
  }

  async kvList(namespace: string): Promise<Record<string, JsonValue>> {
    const all = await this.run('list values', (r) => r.hgetall(this.kvKey(namespace)));
    const keys = Object.keys(all).sort();
    // fromEntries defines own properties, so a key named __proto__ stays a plain key.
    return Object.fromEntries(keys.map((k) => [k, fromJsonText<JsonValue>(all[k] as string, `value ${namespace}/${k}`)]));
  }

  // --- admin (occopus store migrate) ---

  private async scanKeys(action: string, pattern: string): Promise<string[]> {
    const keys = new Set<string>();
    let cursor = '0';
    do {
      const [next, batch] = await this.run(action, (r) => r.scan(cursor, 'MATCH', pattern, 'COUNT', 1000));
      for (const k of batch) keys.add(k);
      cursor = next;
    } while (cursor !== '0');
    return [...keys];
  }

  async listUsers(): Promise<string[]> {
    const p = this.location.prefix;
    const keys = await this.scanKeys('list users', `${globEscape(p)}{*}:*`);
    const users = new Set<string>();
    for (const k of keys) {
      const m = /^\{([^}]*)\}:/.exec(k.slice(p.length));
      if (m && m[1]) users.add(decodeURIComponent(m[1]));
    }
    return [...users].sort();
  }

  private userPrefix(user: string): string {
    return `${this.location.prefix}{${enc(user)}}:`;
  }

  async exportUser(user: string): Promise<UserDump> {
    const up = this.userPrefix(user);
    const keys = await this.scanKeys(`list the keys of user ${user}`, `${globEscape(up)}*`);
    const infraIds = new Set<string>();
    const leaseKeys: string[] = [];
    const kvKeys: string[] = [];
    for (const k of keys) {
      const rest = k.slice(up.length);
      const infra = /^i:([^:]*):/.exec(rest);
      if (infra) infraIds.add(decodeURIComponent(infra[1] as string));
      else if (rest.startsWith('lease:')) leaseKeys.push(k);
      else if (rest.startsWith('kv:')) kvKeys.push(k);
    }
    const other = new RedisStoreView(up);
    const ids = [...infraIds];
    // One MULTI of reads is a consistent snapshot of the keys found.
    const results = await this.transaction(`export the data of user ${user}`, (m) => {
      m.hgetall(other.key('defs'));
      m.zrange(other.key('infras'), 0, -1);
      m.hgetall(other.key('desc'));
      for (const id of ids) {
        m.hgetall(other.infraKey(id, 'meta'));
        m.hgetall(other.infraKey(id, 'inst'));
        m.hgetall(other.infraKey(id, 'iord'));
        m.hgetall(other.infraKey(id, 'failed'));
        m.zrange(other.infraKey(id, 'ford'), 0, -1);
        m.hgetall(other.infraKey(id, 'failing'));
        m.zrange(other.infraKey(id, 'claims'), 0, -1);
        m.lrange(other.infraKey(id, 'scaling'), 0, -1);
        m.lrange(other.infraKey(id, 'events'), 0, -1);
      }
      for (const k of leaseKeys) m.hmget(k, 'holder', 'expires_at');
      for (const k of kvKeys) m.hgetall(k);
      m.time();
    });
    let i = 0;
    const next = <T>(): T => results[i++] as T;
    const defs = next<Record<string, string>>();
    const order = next<string[]>();
    const desc = next<Record<string, string>>();
    const dumps = new Map<string, InfraDump>();
    const claimTokens = new Map<string, string[]>();
    for (const id of ids) {
      const d = emptyInfraDump(id);
      d.meta = Object.fromEntries(Object.entries(next<Record<string, string>>()).map(([k, v]) => [k, fromJsonText<JsonValue>(v, `meta ${k}`)]));
      const inst = next<Record<string, string>>();
      d.instances = RedisStore.sortInstances(inst, next<Record<string, string>>());
      const failed = next<Record<string, string>>();
      d.failed = next<string[]>()
        .filter((n) => n in failed)
        .map((n) => fromJsonText<InstanceRecord>(failed[n] as string, 'failed instance'));
      d.failing = Object.fromEntries(Object.entries(next<Record<string, string>>()).map(([k, v]) => [k, Number(v)]));
      claimTokens.set(id, next<string[]>());
      d.scaling = next<string[]>().map((t) => fromJsonText<ScalingRequest>(t, 'scaling request'));
      d.events = next<string[]>().map((t, n) => RedisStore.toEvent(id, n + 1, t));
      dumps.set(id, d);
    }
    const leases: Record<string, Lease> = {};
    const [secs] = (results[results.length - 1] as [string, string]) ?? ['0'];
    const serverNow = Number(secs) * 1000;
    for (const k of leaseKeys) {
      const [holder, expires] = next<[string | null, string | null]>();
      if (holder !== null && expires !== null && Number(expires) > serverNow) {
        leases[decodeURIComponent(k.slice(up.length + 'lease:'.length))] = { holder, expires_at: Number(expires) };
      }
    }
    const kv: Record<string, Record<string, JsonValue>> = {};
    for (const k of kvKeys) {
      const ns = decodeURIComponent(k.slice(up.length + 'kv:'.length));
      const all = next<Record<string, string>>();
      const entries = Object.keys(all)
        .sort()
        .map((key) => [key, fromJsonText<JsonValue>(all[key] as string, `value ${ns}/${key}`)] as const);
      if (entries.length > 0) kv[ns] = Object.fromEntries(entries);
    }
    // Requests claimed by a taker that never acknowledged them are still pending: they go first.
    for (const [id, tokens] of claimTokens) {
      if (tokens.length === 0) continue;
      const claimed = await this.run(`export the claimed scaling requests of ${id}`, async (r) => {
        const m = r.multi();
        for (const t of tokens) m.lrange(other.infraKey(id, `claim:${t}`), 0, -1);
        return ((await m.exec()) ?? []).flatMap(([, v]) => v as string[]);
      });
      const d = dumps.get(id) as InfraDump;
      d.scaling = [...claimed.map((t) => fromJsonText<ScalingRequest>(t, 'scaling request')), ...d.scaling];
    }
    for (const id of Object.keys(desc)) {
      const d = dumps.get(id) ?? emptyInfraDump(id);
      d.description = fromJsonText<StaticDescription>(desc[id] as string, `infrastructure ${id}`);
      dumps.set(id, d);
    }
    for (const [id, d] of dumps) if (!infraDumpHasData(d)) dumps.delete(id);
    const nodeDefinitions: Record<string, NodeDefinition[]> = {};
    for (const type of Object.keys(defs).sort()) {
      nodeDefinitions[type] = fromJsonText<NodeDefinition[]>(defs[type] as string, `node definitions of ${type}`);
    }
    return {
      user,
      node_definitions: nodeDefinitions,
      infrastructures: orderInfraDumps(dumps, order.filter((id) => desc[id] !== undefined)),
      leases,
      kv,
    };
  }

  async importUsers(dumps: UserDump[]): Promise<void> {
    for (const dump of dumps) {
      if (!dump.user) throw new StoreError('Cannot import data without a user name');
      const existing = await this.scanKeys(`check the keys of user ${dump.user}`, `${globEscape(this.userPrefix(dump.user))}*`);
      if (existing.length > 0) {
        throw new StoreError(
          `Redis at ${this.endpoint} (prefix '${this.location.prefix}') already holds data of user '${dump.user}'; migrate into an empty store`,
        );
      }
      for (const infra of dump.infrastructures) {
        try {
          checkEventNumbering(infra);
        } catch (e) {
          throw new StoreError(`Cannot import the data of user '${dump.user}': ${(e as Error).message}`, e);
        }
      }
    }
    // Serialise everything first, so a bad value changes nothing.
    const writes = dumps.filter((d) => !isEmptyDump(d)).map((d) => this.importWrites(d));
    await this.transaction('import users', (m) => {
      for (const w of writes) w(m);
    });
  }

  /** The writes of one user's import, ready to queue in a MULTI. */
  private importWrites(dump: UserDump): (m: ReturnType<Redis['multi']>) => void {
    const v = new RedisStoreView(this.userPrefix(dump.user));
    const defs = Object.entries(dump.node_definitions).flatMap(([type, list]) => [type, toJsonText(list, `node definitions of ${type}`)]);
    let seq = 0;
    const ops: Array<(m: ReturnType<Redis['multi']>) => void> = [];
    if (defs.length > 0) ops.push((m) => m.hset(v.key('defs'), ...defs));
    for (const infra of dump.infrastructures) {
      const id = infra.infra_id;
      if (infra.description) {
        const text = toJsonText(infra.description, `infrastructure ${id}`);
        const score = ++seq;
        ops.push((m) => {
          m.zadd(v.key('infras'), score, id);
          m.hset(v.key('desc'), id, text);
        });
      }
      const meta = Object.entries(infra.meta).flatMap(([k, val]) => [k, toJsonText(val, `meta ${k}`)]);
      if (meta.length > 0) ops.push((m) => m.hset(v.infraKey(id, 'meta'), ...meta));
      for (const rec of infra.instances) {
        const text = toJsonText(rec, `instance ${rec.node_id}`);
        const order = ++seq;
        ops.push((m) => {
          m.hset(v.infraKey(id, 'inst'), rec.node_id, text);
          m.hset(v.infraKey(id, 'iord'), rec.node_id, order);
        });
      }
      for (const rec of infra.failed) {
        const text = toJsonText(rec, `instance ${rec.node_id}`);
        const order = ++seq;
        ops.push((m) => {
          m.hset(v.infraKey(id, 'failed'), rec.node_id, text);
          m.zadd(v.infraKey(id, 'ford'), order, rec.node_id);
        });
      }
      const failing = Object.entries(infra.failing).flatMap(([n, since]) => [n, String(since)]);
      if (failing.length > 0) ops.push((m) => m.hset(v.infraKey(id, 'failing'), ...failing));
      const scaling = infra.scaling.map((r) => toJsonText(r, 'scaling request'));
      if (scaling.length > 0) ops.push((m) => m.rpush(v.infraKey(id, 'scaling'), ...scaling));
      const events = infra.events.map((e) => toJsonText({ name: e.name, timestamp: e.timestamp, data: e.data }, `event ${e.seq}`));
      if (events.length > 0) ops.push((m) => m.rpush(v.infraKey(id, 'events'), ...events));
    }
    for (const [key, lease] of Object.entries(dump.leases)) {
      const s = SCRIPTS.importLease;
      ops.push((m) => m.eval(s.lua, 1, v.key('lease', enc(key)), lease.holder, String(lease.expires_at)));
    }
    for (const [ns, values] of Object.entries(dump.kv)) {
      const fields = Object.entries(values).flatMap(([k, val]) => [k, toJsonText(val, `value ${ns}/${k}`)]);
      if (fields.length > 0) ops.push((m) => m.hset(v.key('kv', enc(ns)), ...fields));
    }
    const finalSeq = seq;
    ops.push((m) => m.set(v.key('seq'), finalSeq));
    return (m) => ops.forEach((op) => op(m));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.redis.status === 'ready') {
      await this.redis.quit().catch(() => this.redis.disconnect());
    } else {
      this.redis.disconnect();
    }
  }
}

/** Key names under another user's prefix (for the admin methods). */
class RedisStoreView {
  constructor(private readonly prefix: string) {}

  key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  infraKey(infraId: string, part: string): string {
    return this.key('i', enc(infraId), part);
  }
}
