/**
 * The SQLite backend, the embedded default: one file shared by every local occopus process of
 * every user (rows are keyed by user). WAL mode lets readers run beside a writer; a busy timeout
 * makes a writer wait for another process instead of failing at once; every read-modify-write runs
 * in a BEGIN IMMEDIATE transaction, which takes the file's write lock before reading, so it is
 * atomic across processes.
 *
 * better-sqlite3 is synchronous; the methods are async only to fit the port.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import type { JsonObject, JsonValue, NodeDefinition } from '../descriptors/types.js';
import type { StaticDescription } from '../compiler/types.js';
import type { InstanceLifecycle, InstanceRecord, Lease, ScalingRequest, Store, StoredEvent } from './store.js';
import {
  checkEventNumbering,
  emptyInfraDump,
  orderInfraDumps,
  type InfraDump,
  type StoreAdmin,
  type UserDump,
} from './admin.js';
import { migrate } from './sqlite-migrations.js';
import { applyInstancePatch, fromJsonText, toJsonText, type InstancePatch } from './values.js';

export const MEMORY_DATABASE = ':memory:';

export interface SqliteStoreOptions {
  /** How long a write waits for another process's lock before failing. */
  busyTimeoutMs?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

interface InstanceRow {
  infra_id: string;
  node_id: string;
  node_name: string;
  lifecycle: string;
  resource_type: string;
  instance_id: string | null;
  instance_start_time: number | null;
  created_at: number;
  data: string;
}

interface EventRow {
  seq: number;
  infra_id: string;
  name: string;
  timestamp: number;
  data: string;
}

function sqliteCode(e: unknown): string | undefined {
  return e instanceof Database.SqliteError ? e.code : undefined;
}

/** A driver error as a StoreError that names the file and says what the user can do. */
function wrapError(e: unknown, where: string, action: string, busyTimeoutMs: number): StoreError {
  if (e instanceof StoreError) return e;
  const code = sqliteCode(e) ?? '';
  const detail = e instanceof Error ? e.message : String(e);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(
      `The state database ${where} is locked by another process (waited ${busyTimeoutMs} ms while trying to ${action})`,
      e,
    );
  }
  if (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT')) {
    return new StoreError(`${where} is not a usable occopus state database (corrupt or not an SQLite file: ${detail})`, e);
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new StoreError(
      `The state database ${where} is read-only; check the permissions of the file and of its directory`,
      e,
    );
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM') || code.startsWith('SQLITE_AUTH')) {
    return new StoreError(`Cannot open the state database ${where} (${detail}); check that its directory exists and is writable`, e);
  }
  if (code.startsWith('SQLITE_FULL')) {
    return new StoreError(`The disk holding the state database ${where} is full`, e);
  }
  return new StoreError(`State database ${where}: failed to ${action}: ${detail}`, e);
}

/** Creates the parent directory (0700) and an empty file (0600) so the database is private from
 * the start; SQLite gives its -wal and -shm files the mode of the database file. */
function prepareFile(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    fs.closeSync(fs.openSync(file, 'wx', 0o600));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

export class SqliteStore implements Store, StoreAdmin {
  readonly user: string;
  /** Absolute path of the database, or {@link MEMORY_DATABASE}. */
  readonly file: string;
  private readonly db: Database.Database;
  private readonly busyTimeoutMs: number;
  private readonly where: string;
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(db: Database.Database, file: string, user: string, busyTimeoutMs: number) {
    this.db = db;
    this.file = file;
    this.user = user;
    this.busyTimeoutMs = busyTimeoutMs;
    this.where = file === MEMORY_DATABASE ? '(in memory)' : file;
  }

  /**
   * Opens (creating if needed) the database at `file`, an absolute or cwd-relative path or
   * {@link MEMORY_DATABASE}, and migrates it to the current schema.
   */
  static open(file: string, user: string, options: SqliteStoreOptions = {}): SqliteStore {
    if (!user) throw new StoreError('A store needs a non-empty user name');
    const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    const resolved = file === MEMORY_DATABASE ? file : path.resolve(file);
    let db: Database.Database | undefined;
    try {
      if (resolved !== MEMORY_DATABASE) prepareFile(resolved);
      db = new Database(resolved, { timeout: busyTimeoutMs });
      if (resolved !== MEMORY_DATABASE) db.pragma('journal_mode = WAL');
      migrate(db, resolved);
      return new SqliteStore(db, resolved, user, busyTimeoutMs);
    } catch (e) {
      db?.close();
      throw wrapError(e, resolved, 'open it', busyTimeoutMs);
    }
  }

  /** Statements are compiled once per SQL text; each SQL text is used in one way only (pluck or not). */
  private prepare<P extends unknown[], R = unknown>(sql: string): Database.Statement<P, R> {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt as unknown as Database.Statement<P, R>;
  }

  /** Runs a driver call, turning whatever it throws into a StoreError. */
  private run<T>(action: string, fn: () => T): T {
    if (!this.db.open) throw new StoreError(`The state database ${this.where} is closed`);
    try {
      return fn();
    } catch (e) {
      throw wrapError(e, this.where, action, this.busyTimeoutMs);
    }
  }

  /** A read-modify-write under the file's write lock (BEGIN IMMEDIATE). */
  private atomic<T>(action: string, fn: () => T): T {
    return this.run(action, () => this.db.transaction(fn).immediate());
  }

  private rowToInstance(row: InstanceRow): InstanceRecord {
    return {
      node_id: row.node_id,
      infra_id: row.infra_id,
      node_name: row.node_name,
      lifecycle: row.lifecycle as InstanceLifecycle,
      resource_type: row.resource_type,
      instance_id: row.instance_id,
      instance_start_time: row.instance_start_time,
      created_at: row.created_at,
      data: fromJsonText<JsonObject>(row.data, `data of instance ${row.node_id}`),
    };
  }

  // --- node definitions ---

  async importNodeDefinitions(defs: Record<string, NodeDefinition[]>): Promise<void> {
    // Serialise everything before touching the database, so a bad value changes nothing.
    const rows = Object.entries(defs).map(([type, list]) => [type, toJsonText(list, `node definitions of ${type}`)] as const);
    this.atomic('import node definitions', () => {
      const upsert = this.prepare(
        `INSERT INTO node_definitions (user, type, definitions) VALUES (?, ?, ?)
         ON CONFLICT (user, type) DO UPDATE SET definitions = excluded.definitions`,
      );
      for (const [type, text] of rows) upsert.run(this.user, type, text);
    });
  }

  async getNodeDefinitions(type: string): Promise<NodeDefinition[]> {
    const text = this.run('read node definitions', () =>
      this
        .prepare<[string, string], string>('SELECT definitions FROM node_definitions WHERE user = ? AND type = ?')
        .pluck()
        .get(this.user, type),
    );
    return text === undefined ? [] : fromJsonText<NodeDefinition[]>(text, `node definitions of ${type}`);
  }

  async listNodeDefinitionTypes(): Promise<string[]> {
    const types = this.run('list node definition types', () =>
      this.prepare<[string], string>('SELECT type FROM node_definitions WHERE user = ?').pluck().all(this.user),
    );
    // Sorted in JS, not by SQLite's byte order, so every backend lists in the same order.
    return types.sort();
  }

  // --- infrastructures ---

  async putInfrastructure(description: StaticDescription): Promise<void> {
    const text = toJsonText(description, `infrastructure ${description.infra_id}`);
    this.run('store an infrastructure', () =>
      this
        .prepare(
          `INSERT INTO infrastructures (user, infra_id, description) VALUES (?, ?, ?)
           ON CONFLICT (user, infra_id) DO UPDATE SET description = excluded.description`,
        )
        .run(this.user, description.infra_id, text),
    );
  }

  async getInfrastructure(infraId: string): Promise<StaticDescription | null> {
    const text = this.run('read an infrastructure', () =>
      this
        .prepare<[string, string], string>('SELECT description FROM infrastructures WHERE user = ? AND infra_id = ?')
        .pluck()
        .get(this.user, infraId),
    );
    return text === undefined ? null : fromJsonText<StaticDescription>(text, `infrastructure ${infraId}`);
  }

  async listInfrastructures(): Promise<string[]> {
    return this.run('list infrastructures', () =>
      this
        .prepare<[string], string>('SELECT infra_id FROM infrastructures WHERE user = ? ORDER BY id')
        .pluck()
        .all(this.user),
    );
  }

  async removeInfrastructure(infraId: string): Promise<void> {
    this.atomic(`remove infrastructure ${infraId}`, () => {
      for (const table of [
        'infrastructures',
        'infra_meta',
        'instances',
        'failed_instances',
        'failing_timers',
        'scaling_requests',
        'events',
      ]) {
        this.prepare(`DELETE FROM ${table} WHERE user = ? AND infra_id = ?`).run(this.user, infraId);
      }
    });
  }

  async setInfraMeta(infraId: string, key: string, value: JsonValue | null): Promise<void> {
    if (value === null) {
      this.run('clear an infrastructure value', () =>
        this.prepare('DELETE FROM infra_meta WHERE user = ? AND infra_id = ? AND key = ?').run(this.user, infraId, key),
      );
      return;
    }
    const text = toJsonText(value, `meta ${key} of infrastructure ${infraId}`);
    this.run('store an infrastructure value', () =>
      this
        .prepare(
          `INSERT INTO infra_meta (user, infra_id, key, value) VALUES (?, ?, ?, ?)
           ON CONFLICT (user, infra_id, key) DO UPDATE SET value = excluded.value`,
        )
        .run(this.user, infraId, key, text),
    );
  }

  async getInfraMeta(infraId: string, key: string): Promise<JsonValue | null> {
    const text = this.run('read an infrastructure value', () =>
      this
        .prepare<[string, string, string], string>('SELECT value FROM infra_meta WHERE user = ? AND infra_id = ? AND key = ?')
        .pluck()
        .get(this.user, infraId, key),
    );
    return text === undefined ? null : fromJsonText<JsonValue>(text, `meta ${key}`);
  }

  // --- instances ---

  private writeInstanceSql(verb: 'INSERT' | 'UPDATE'): string {
    return verb === 'INSERT'
      ? `INSERT INTO instances (user, infra_id, node_id, node_name, lifecycle, resource_type, instance_id,
           instance_start_time, created_at, data)
         VALUES (@user, @infra_id, @node_id, @node_name, @lifecycle, @resource_type, @instance_id,
           @instance_start_time, @created_at, @data)`
      : `UPDATE instances SET node_name = @node_name, lifecycle = @lifecycle, resource_type = @resource_type,
           instance_id = @instance_id, instance_start_time = @instance_start_time, created_at = @created_at,
           data = @data
         WHERE user = @user AND infra_id = @infra_id AND node_id = @node_id`;
  }

  private instanceParams(record: InstanceRecord): Record<string, string | number | null> {
    return {
      user: this.user,
      infra_id: record.infra_id,
      node_id: record.node_id,
      node_name: record.node_name,
      lifecycle: record.lifecycle,
      resource_type: record.resource_type,
      instance_id: record.instance_id,
      instance_start_time: record.instance_start_time,
      created_at: record.created_at,
      data: toJsonText(record.data, `data of instance ${record.node_id}`),
    };
  }

  async insertInstance(record: InstanceRecord): Promise<void> {
    const params = this.instanceParams(record);
    try {
      this.run('insert an instance', () => this.prepare(this.writeInstanceSql('INSERT')).run(params));
    } catch (e) {
      if (sqliteCode((e as StoreError).cause)?.startsWith('SQLITE_CONSTRAINT')) {
        throw new StoreError(`Instance ${record.node_id} already exists in infrastructure ${record.infra_id}`, e);
      }
      throw e;
    }
  }

  private selectInstance(infraId: string, nodeId: string): InstanceRow | undefined {
    return this
      .prepare<[string, string, string], InstanceRow>('SELECT * FROM instances WHERE user = ? AND infra_id = ? AND node_id = ?')
      .get(this.user, infraId, nodeId);
  }

  async updateInstance(
    infraId: string,
    nodeId: string,
    patch: InstancePatch,
    expected?: InstanceLifecycle[],
  ): Promise<InstanceRecord | null> {
    return this.atomic(`update instance ${nodeId}`, () => {
      const row = this.selectInstance(infraId, nodeId);
      if (!row) return null;
      const current = this.rowToInstance(row);
      if (expected && !expected.includes(current.lifecycle)) return null;
      const next = applyInstancePatch(current, patch);
      this.prepare(this.writeInstanceSql('UPDATE')).run(this.instanceParams(next));
      return next;
    });
  }

  async getInstance(infraId: string, nodeId: string): Promise<InstanceRecord | null> {
    const row = this.run('read an instance', () => this.selectInstance(infraId, nodeId));
    return row ? this.rowToInstance(row) : null;
  }

  async listInstances(infraId: string): Promise<InstanceRecord[]> {
    const rows = this.run('list instances', () =>
      this
        .prepare<[string, string], InstanceRow>(
          'SELECT * FROM instances WHERE user = ? AND infra_id = ? ORDER BY created_at, id',
        )
        .all(this.user, infraId),
    );
    return rows.map((r) => this.rowToInstance(r));
  }

  async removeInstance(infraId: string, nodeId: string): Promise<boolean> {
    const result = this.run('remove an instance', () =>
      this.prepare('DELETE FROM instances WHERE user = ? AND infra_id = ? AND node_id = ?').run(this.user, infraId, nodeId),
    );
    return result.changes > 0;
  }

  async archiveFailedInstance(record: InstanceRecord): Promise<void> {
    const text = toJsonText(record, `instance ${record.node_id}`);
    this.run('archive a failed instance', () =>
      this
        .prepare(
          `INSERT INTO failed_instances (user, infra_id, node_id, record) VALUES (?, ?, ?, ?)
           ON CONFLICT (user, infra_id, node_id) DO UPDATE SET record = excluded.record`,
        )
        .run(this.user, record.infra_id, record.node_id, text),
    );
  }

  async listFailedInstances(infraId: string): Promise<InstanceRecord[]> {
    const texts = this.run('list failed instances', () =>
      this
        .prepare<[string, string], string>('SELECT record FROM failed_instances WHERE user = ? AND infra_id = ? ORDER BY id')
        .pluck()
        .all(this.user, infraId),
    );
    return texts.map((t) => fromJsonText<InstanceRecord>(t, 'failed instance'));
  }

  // --- failure timers ---

  async markFailing(infraId: string, nodeId: string, now: number): Promise<number> {
    return this.atomic('record a health-check failure', () => {
      this
        .prepare('INSERT INTO failing_timers (user, infra_id, node_id, since) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
        .run(this.user, infraId, nodeId, now);
      return this
        .prepare<[string, string, string], number>('SELECT since FROM failing_timers WHERE user = ? AND infra_id = ? AND node_id = ?')
        .pluck()
        .get(this.user, infraId, nodeId)!;
    });
  }

  async getFailingSince(infraId: string, nodeId: string): Promise<number | null> {
    const since = this.run('read a health-check failure', () =>
      this
        .prepare<[string, string, string], number>('SELECT since FROM failing_timers WHERE user = ? AND infra_id = ? AND node_id = ?')
        .pluck()
        .get(this.user, infraId, nodeId),
    );
    return since ?? null;
  }

  async clearFailing(infraId: string, nodeId: string): Promise<void> {
    this.run('clear a health-check failure', () =>
      this.prepare('DELETE FROM failing_timers WHERE user = ? AND infra_id = ? AND node_id = ?').run(this.user, infraId, nodeId),
    );
  }

  // --- scaling requests ---

  async addScalingRequests(infraId: string, requests: ScalingRequest[]): Promise<void> {
    const texts = requests.map((r) => toJsonText(r, `scaling request of infrastructure ${infraId}`));
    this.atomic('add scaling requests', () => {
      const insert = this.prepare('INSERT INTO scaling_requests (user, infra_id, request) VALUES (?, ?, ?)');
      for (const t of texts) insert.run(this.user, infraId, t);
    });
  }

  private pendingRequests(infraId: string): { id: number; request: string }[] {
    return this
      .prepare<[string, string], { id: number; request: string }>(
        'SELECT id, request FROM scaling_requests WHERE user = ? AND infra_id = ? ORDER BY id',
      )
      .all(this.user, infraId);
  }

  async takeScalingRequests(infraId: string): Promise<ScalingRequest[]> {
    return this.atomic('take scaling requests', () => {
      const rows = this.pendingRequests(infraId);
      const last = rows[rows.length - 1];
      if (!last) return [];
      // Parse before deleting: a damaged row aborts the transaction and loses nothing.
      const requests = rows.map((r) => fromJsonText<ScalingRequest>(r.request, 'scaling request'));
      this
        .prepare('DELETE FROM scaling_requests WHERE user = ? AND infra_id = ? AND id <= ?')
        .run(this.user, infraId, last.id);
      return requests;
    });
  }

  async peekScalingRequests(infraId: string): Promise<ScalingRequest[]> {
    const rows = this.run('read scaling requests', () => this.pendingRequests(infraId));
    return rows.map((r) => fromJsonText<ScalingRequest>(r.request, 'scaling request'));
  }

  // --- leases ---

  private selectLease(key: string): Lease | undefined {
    return this
      .prepare<[string, string], Lease>('SELECT holder, expires_at FROM leases WHERE user = ? AND key = ?')
      .get(this.user, key);
  }

  private writeLease(key: string, holder: string, expiresAt: number): void {
    this
      .prepare(
        `INSERT INTO leases (user, key, holder, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (user, key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at`,
      )
      .run(this.user, key, holder, expiresAt);
  }

  async acquireLease(key: string, holder: string, ttlMs: number, now: number = Date.now()): Promise<boolean> {
    return this.atomic(`acquire lease ${key}`, () => {
      const current = this.selectLease(key);
      if (current && current.holder !== holder && now <= current.expires_at) return false;
      this.writeLease(key, holder, now + ttlMs);
      return true;
    });
  }

  async renewLease(key: string, holder: string, ttlMs: number, now: number = Date.now()): Promise<boolean> {
    return this.atomic(`renew lease ${key}`, () => {
      const current = this.selectLease(key);
      if (!current || current.holder !== holder) return false;
      this.writeLease(key, holder, now + ttlMs);
      return true;
    });
  }

  async releaseLease(key: string, holder: string): Promise<void> {
    this.run(`release lease ${key}`, () =>
      this.prepare('DELETE FROM leases WHERE user = ? AND key = ? AND holder = ?').run(this.user, key, holder),
    );
  }

  async getLease(key: string): Promise<Lease | null> {
    const lease = this.run(`read lease ${key}`, () => this.selectLease(key));
    return lease ? { holder: lease.holder, expires_at: lease.expires_at } : null;
  }

  // --- events ---

  async appendEvent(infraId: string, name: string, timestamp: number, data: JsonObject): Promise<number> {
    const text = toJsonText(data, `data of event ${name}`);
    return this.atomic('append an event', () => {
      const seq =
        this
          .prepare<[string, string], number>('SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE user = ? AND infra_id = ?')
          .pluck()
          .get(this.user, infraId) ?? 1;
      this
        .prepare('INSERT INTO events (user, infra_id, seq, name, timestamp, data) VALUES (?, ?, ?, ?, ?, ?)')
        .run(this.user, infraId, seq, name, timestamp, text);
      return seq;
    });
  }

  async readEvents(infraId: string, afterSeq = 0, limit?: number): Promise<StoredEvent[]> {
    // LIMIT -1 is SQLite's "no limit".
    const max = limit === undefined ? -1 : Math.max(0, Math.floor(limit));
    const rows = this.run('read events', () =>
      this
        .prepare<[string, string, number, number], EventRow>(
          `SELECT seq, infra_id, name, timestamp, data FROM events
           WHERE user = ? AND infra_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
        )
        .all(this.user, infraId, afterSeq, max),
    );
    return rows.map((r) => ({
      seq: r.seq,
      infra_id: r.infra_id,
      name: r.name,
      timestamp: r.timestamp,
      data: fromJsonText<JsonObject>(r.data, `data of event ${r.seq}`),
    }));
  }

  // --- key-value ---

  async kvGet(namespace: string, key: string): Promise<JsonValue | null> {
    const text = this.run('read a value', () =>
      this
        .prepare<[string, string, string], string>('SELECT value FROM kv WHERE user = ? AND namespace = ? AND key = ?')
        .pluck()
        .get(this.user, namespace, key),
    );
    return text === undefined ? null : fromJsonText<JsonValue>(text, `value ${namespace}/${key}`);
  }

  async kvPut(namespace: string, key: string, value: JsonValue): Promise<void> {
    const text = toJsonText(value, `value ${namespace}/${key}`);
    this.run('store a value', () =>
      this
        .prepare(
          `INSERT INTO kv (user, namespace, key, value) VALUES (?, ?, ?, ?)
           ON CONFLICT (user, namespace, key) DO UPDATE SET value = excluded.value`,
        )
        .run(this.user, namespace, key, text),
    );
  }

  async kvDelete(namespace: string, key: string): Promise<boolean> {
    const result = this.run('delete a value', () =>
      this.prepare('DELETE FROM kv WHERE user = ? AND namespace = ? AND key = ?').run(this.user, namespace, key),
    );
    return result.changes > 0;
  }

  async kvList(namespace: string): Promise<Record<string, JsonValue>> {
    const rows = this.run('list values', () =>
      this
        .prepare<[string, string], { key: string; value: string }>('SELECT key, value FROM kv WHERE user = ? AND namespace = ?')
        .all(this.user, namespace),
    );
    rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    // fromEntries defines own properties, so a key named __proto__ stays a plain key.
    return Object.fromEntries(rows.map((r) => [r.key, fromJsonText<JsonValue>(r.value, `value ${namespace}/${r.key}`)]));
  }

  // --- admin (occopus store migrate) ---

  private static readonly USER_TABLES = [
    'node_definitions',
    'infrastructures',
    'infra_meta',
    'instances',
    'failed_instances',
    'failing_timers',
    'scaling_requests',
    'leases',
    'events',
    'kv',
  ] as const;

  async listUsers(): Promise<string[]> {
    const sql = SqliteStore.USER_TABLES.map((t) => `SELECT user FROM ${t}`).join(' UNION ');
    const users = this.run('list users', () => this.prepare<[], string>(sql).pluck().all());
    return users.sort();
  }

  async exportUser(user: string): Promise<UserDump> {
    // One read transaction: a consistent snapshot even while other processes write.
    return this.run(`export the data of user ${user}`, () =>
      this.db.transaction(() => {
        const all = <R>(sql: string): R[] => this.prepare<[string], R>(sql).all(user);
        const dumps = new Map<string, InfraDump>();
        const infra = (id: string): InfraDump => {
          let d = dumps.get(id);
          if (!d) dumps.set(id, (d = emptyInfraDump(id)));
          return d;
        };
        const nodeDefinitions: Record<string, NodeDefinition[]> = {};
        for (const r of all<{ type: string; definitions: string }>('SELECT type, definitions FROM node_definitions WHERE user = ?')
          .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0))) {
          nodeDefinitions[r.type] = fromJsonText<NodeDefinition[]>(r.definitions, `node definitions of ${r.type}`);
        }
        const described = all<{ infra_id: string; description: string }>(
          'SELECT infra_id, description FROM infrastructures WHERE user = ? ORDER BY id',
        );
        for (const r of described) infra(r.infra_id).description = fromJsonText<StaticDescription>(r.description, `infrastructure ${r.infra_id}`);
        for (const r of all<{ infra_id: string; key: string; value: string }>('SELECT infra_id, key, value FROM infra_meta WHERE user = ?')) {
          infra(r.infra_id).meta[r.key] = fromJsonText<JsonValue>(r.value, `meta ${r.key}`);
        }
        for (const r of all<InstanceRow>('SELECT * FROM instances WHERE user = ? ORDER BY created_at, id')) {
          infra(r.infra_id).instances.push(this.rowToInstance(r));
        }
        for (const r of all<{ infra_id: string; record: string }>('SELECT infra_id, record FROM failed_instances WHERE user = ? ORDER BY id')) {
          infra(r.infra_id).failed.push(fromJsonText<InstanceRecord>(r.record, 'failed instance'));
        }
        for (const r of all<{ infra_id: string; node_id: string; since: number }>(
          'SELECT infra_id, node_id, since FROM failing_timers WHERE user = ?',
        )) {
          infra(r.infra_id).failing[r.node_id] = r.since;
        }
        for (const r of all<{ infra_id: string; request: string }>('SELECT infra_id, request FROM scaling_requests WHERE user = ? ORDER BY id')) {
          infra(r.infra_id).scaling.push(fromJsonText<ScalingRequest>(r.request, 'scaling request'));
        }
        for (const r of all<EventRow>('SELECT seq, infra_id, name, timestamp, data FROM events WHERE user = ? ORDER BY infra_id, seq')) {
          infra(r.infra_id).events.push({
            seq: r.seq,
            infra_id: r.infra_id,
            name: r.name,
            timestamp: r.timestamp,
            data: fromJsonText<JsonObject>(r.data, `data of event ${r.seq}`),
          });
        }
        const now = Date.now();
        const leases: Record<string, Lease> = {};
        for (const r of all<{ key: string; holder: string; expires_at: number }>('SELECT key, holder, expires_at FROM leases WHERE user = ?')) {
          if (r.expires_at > now) leases[r.key] = { holder: r.holder, expires_at: r.expires_at };
        }
        const kv: Record<string, Record<string, JsonValue>> = {};
        for (const r of all<{ namespace: string; key: string; value: string }>(
          'SELECT namespace, key, value FROM kv WHERE user = ? ORDER BY namespace, key',
        )) {
          const ns = kv[r.namespace] ?? (kv[r.namespace] = {});
          Object.defineProperty(ns, r.key, {
            value: fromJsonText<JsonValue>(r.value, `value ${r.namespace}/${r.key}`),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        return {
          user,
          node_definitions: nodeDefinitions,
          infrastructures: orderInfraDumps(dumps, described.map((r) => r.infra_id)),
          leases,
          kv,
        };
      })(),
    );
  }

  async importUsers(dumps: UserDump[]): Promise<void> {
    for (const dump of dumps) {
      if (!dump.user) throw new StoreError('Cannot import data without a user name');
      for (const infra of dump.infrastructures) {
        try {
          checkEventNumbering(infra);
        } catch (e) {
          throw new StoreError(`Cannot import the data of user '${dump.user}': ${(e as Error).message}`, e);
        }
      }
    }
    this.atomic('import users', () => {
      const present = new Set(dumps.map((d) => d.user));
      for (const user of this.prepare<[], string>(SqliteStore.USER_TABLES.map((t) => `SELECT user FROM ${t}`).join(' UNION ')).pluck().all()) {
        if (present.has(user)) {
          throw new StoreError(`The state database ${this.where} already holds data of user '${user}'; migrate into an empty store`);
        }
      }
      for (const dump of dumps) this.importUser(dump);
    });
  }

  /** Inside the import transaction: the rows of one user. */
  private importUser(dump: UserDump): void {
    const user = dump.user;
    const run = (sql: string, ...params: unknown[]): void => {
      this.prepare(sql).run(...params);
    };
    for (const [type, list] of Object.entries(dump.node_definitions)) {
      run('INSERT INTO node_definitions (user, type, definitions) VALUES (?, ?, ?)', user, type, toJsonText(list, `node definitions of ${type}`));
    }
    for (const infra of dump.infrastructures) {
      const id = infra.infra_id;
      if (infra.description) {
        run('INSERT INTO infrastructures (user, infra_id, description) VALUES (?, ?, ?)', user, id, toJsonText(infra.description, `infrastructure ${id}`));
      }
      for (const [key, value] of Object.entries(infra.meta)) {
        run('INSERT INTO infra_meta (user, infra_id, key, value) VALUES (?, ?, ?, ?)', user, id, key, toJsonText(value, `meta ${key}`));
      }
      for (const record of infra.instances) {
        this.prepare(this.writeInstanceSql('INSERT')).run({ ...this.instanceParams(record), user });
      }
      for (const record of infra.failed) {
        run('INSERT INTO failed_instances (user, infra_id, node_id, record) VALUES (?, ?, ?, ?)', user, id, record.node_id, toJsonText(record, 'failed instance'));
      }
      for (const [nodeId, since] of Object.entries(infra.failing)) {
        run('INSERT INTO failing_timers (user, infra_id, node_id, since) VALUES (?, ?, ?, ?)', user, id, nodeId, since);
      }
      for (const request of infra.scaling) {
        run('INSERT INTO scaling_requests (user, infra_id, request) VALUES (?, ?, ?)', user, id, toJsonText(request, 'scaling request'));
      }
      for (const e of infra.events) {
        run(
          'INSERT INTO events (user, infra_id, seq, name, timestamp, data) VALUES (?, ?, ?, ?, ?, ?)',
          user,
          id,
          e.seq,
          e.name,
          e.timestamp,
          toJsonText(e.data, `data of event ${e.seq}`),
        );
      }
    }
    for (const [key, lease] of Object.entries(dump.leases)) {
      run('INSERT INTO leases (user, key, holder, expires_at) VALUES (?, ?, ?, ?)', user, key, lease.holder, lease.expires_at);
    }
    for (const [ns, values] of Object.entries(dump.kv)) {
      for (const [key, value] of Object.entries(values)) {
        run('INSERT INTO kv (user, namespace, key, value) VALUES (?, ?, ?, ?)', user, ns, key, toJsonText(value, `value ${ns}/${key}`));
      }
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
