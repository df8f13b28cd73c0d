/**
 * Schema of the SQLite store, as an ordered list of migrations. The version a file is at lives in
 * `PRAGMA user_version`; opening a file runs every migration above it, in one write transaction so
 * that two processes opening a fresh file at once cannot both migrate it.
 *
 * Rules for adding a migration: append, never edit a released one, and keep each `up` idempotent
 * only through the version check (plain `CREATE TABLE`, so a foreign database with clashing tables
 * is refused instead of silently reused).
 */
import type { Database } from 'better-sqlite3';
import { StoreError } from '../errors.js';

export interface Migration {
  /** The `user_version` the file is at once `up` ran; consecutive from 1. */
  version: number;
  description: string;
  up(db: Database): void;
}

/** 'OCCO': marks a file as ours, so that another application's database is not mistaken for one. */
export const OCCOPUS_APPLICATION_ID = 0x4f43434f;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'initial schema',
    up(db) {
      // No foreign keys: removeInfrastructure deletes explicitly, and a dangling row (an instance
      // whose description was never stored) must stay visible rather than be refused.
      // AUTOINCREMENT ids give a stable insertion order that survives deletes of other rows.
      db.exec(`
        CREATE TABLE node_definitions (
          user TEXT NOT NULL,
          type TEXT NOT NULL,
          definitions TEXT NOT NULL,
          PRIMARY KEY (user, type)
        );
        CREATE TABLE infrastructures (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          user TEXT NOT NULL,
          infra_id TEXT NOT NULL,
          description TEXT NOT NULL,
          UNIQUE (user, infra_id)
        );
        CREATE TABLE infra_meta (
          user TEXT NOT NULL,
          infra_id TEXT NOT NULL,
          key TEXT NOT NULL,
          value TEXT NOT NULL,
          PRIMARY KEY (user, infra_id, key)
        );
        CREATE TABLE instances (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          user TEXT NOT NULL,
          infra_id TEXT NOT NULL,
          node_id TEXT NOT NULL,
          node_name TEXT NOT NULL,
          lifecycle TEXT NOT NULL,
          resource_type TEXT NOT NULL,
          instance_id TEXT,
          instance_start_time REAL,
          created_at REAL NOT NULL,
          data TEXT NOT NULL,
          UNIQUE (user, infra_id, node_id)
        );
        CREATE INDEX instances_by_order ON instances (user, infra_id, created_at, id);
        CREATE TABLE failed_instances (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          user TEXT NOT NULL,
          infra_id TEXT NOT NULL,
          node_id TEXT NOT NULL,
          record TEXT NOT NULL,
          UNIQUE (user, infra_id, node_id)
        );
        CREATE TABLE failing_timers (
          user TEXT NOT NULL,
          infra_id TEXT NOT NULL,
          node_id TEXT NOT NULL,
          since REAL NOT NULL,
          PRIMARY KEY (user, infra_id, node_id)
        );
        CREATE TABLE scaling_requests (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          user TEXT NOT NULL,
          infra_id TEXT NOT NULL,
          request TEXT NOT NULL
        );
        CREATE INDEX scaling_requests_by_infra ON scaling_requests (user, infra_id, id);
        CREATE TABLE leases (
          user TEXT NOT NULL,
          key TEXT NOT NULL,
          holder TEXT NOT NULL,
          expires_at REAL NOT NULL,
          PRIMARY KEY (user, key)
        );
        CREATE TABLE events (
          user TEXT NOT NULL,
          infra_id TEXT NOT NULL,
          seq INTEGER NOT NULL,
          name TEXT NOT NULL,
          timestamp REAL NOT NULL,
          data TEXT NOT NULL,
          PRIMARY KEY (user, infra_id, seq)
        );
        CREATE TABLE kv (
          user TEXT NOT NULL,
          namespace TEXT NOT NULL,
          key TEXT NOT NULL,
          value TEXT NOT NULL,
          PRIMARY KEY (user, namespace, key)
        );
      `);
      db.pragma(`application_id = ${OCCOPUS_APPLICATION_ID}`);
    },
  },
];

/** The schema version this code writes. */
export const LATEST_SCHEMA_VERSION: number = MIGRATIONS.length === 0 ? 0 : MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Brings the database up to the last migration of `migrations`. Throws a StoreError when the file
 * was written by a newer schema (we cannot know what it means) or belongs to another application.
 * `file` only names the database in messages.
 */
export function migrate(db: Database, file: string, migrations: readonly Migration[] = MIGRATIONS): void {
  const latest = migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
  // IMMEDIATE: the version is read under the write lock, so a concurrent opener waits and then
  // sees the migrated version instead of running the same migration a second time.
  db.transaction(() => {
    const current = Number(db.pragma('user_version', { simple: true }));
    if (current > latest) {
      throw new StoreError(
        `The state database ${file} was created by a newer occopus (schema version ${current}; ` +
          `this version knows up to ${latest}). Upgrade occopus or use another store.`,
      );
    }
    if (current > 0) {
      const appId = Number(db.pragma('application_id', { simple: true }));
      if (appId !== OCCOPUS_APPLICATION_ID) {
        throw new StoreError(`${file} is not an occopus state database (it belongs to another application).`);
      }
    }
    for (const m of migrations) {
      if (m.version <= current) continue;
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }
  }).immediate();
}
