import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../../src/errors.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, migrate, type Migration } from '../../src/store/sqlite-migrations.js';
import type { Store } from '../../src/store/store.js';
import { description, instance, storeConformance } from './conformance.js';
import { PROJECT_ROOT, STORE_CHILD, crossProcessSuite } from './cross-process.js';


/** Opens the store, tries one write, and returns the error message (or 'ok'). */
async function writeOnce(file: string): Promise<string> {
  let store: SqliteStore | undefined;
  try {
    store = SqliteStore.open(file, 'alice');
    await store.kvPut('ns', 'k', 1);
    return 'ok';
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    await store?.close().catch(() => undefined);
  }
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'occopus-sqlite-'));
}

function storeErrorMatching(re: RegExp): (e: unknown) => boolean {
  return (e) => e instanceof StoreError && re.test(e.message);
}

storeConformance('sqlite', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'occopus.db');
  const opened: Store[] = [];
  const open = (user: string) => {
    const s = SqliteStore.open(file, user);
    opened.push(s);
    return s;
  };
  const store = open('alice');
  return {
    store,
    openAs: async (user) => open(user),
    reopen: async () => {
      await store.close();
      return open('alice');
    },
    cleanup: async () => {
      for (const s of opened) await s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('sqlite store: the file', () => {
  test('data survives closing and reopening the file', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'state.db');
      const first = SqliteStore.open(file, 'alice');
      await first.importNodeDefinitions({ web_t: [{ resource: { type: 'local' } }] });
      await first.putInfrastructure(description('x'));
      await first.insertInstance(instance('x', 'n1', { lifecycle: 'created', instance_id: 'pid-1' }));
      await first.archiveFailedInstance(instance('x', 'f1'));
      await first.markFailing('x', 'n1', 12.5);
      await first.addScalingRequests('x', [{ node: 'web', kind: 'destroy', selector: 'n1' }]);
      await first.acquireLease('maint:x', 'p1', 60_000, 1000);
      await first.appendEvent('x', 'infrastart', 5, { a: 1 });
      await first.setInfraMeta('x', 'maintained', true);
      await first.kvPut('dummy', 'vm', { up: true });
      await first.close();

      const second = SqliteStore.open(file, 'alice');
      try {
        assert.deepEqual(await second.getNodeDefinitions('web_t'), [{ resource: { type: 'local' } }]);
        assert.deepEqual(await second.getInfrastructure('x'), description('x'));
        assert.deepEqual(await second.listInstances('x'), [instance('x', 'n1', { lifecycle: 'created', instance_id: 'pid-1' })]);
        assert.deepEqual(await second.listFailedInstances('x'), [instance('x', 'f1')]);
        assert.equal(await second.getFailingSince('x', 'n1'), 12.5);
        assert.deepEqual(await second.peekScalingRequests('x'), [{ node: 'web', kind: 'destroy', selector: 'n1' }]);
        assert.deepEqual(await second.getLease('maint:x'), { holder: 'p1', expires_at: 61_000 });
        assert.deepEqual(await second.readEvents('x'), [{ seq: 1, infra_id: 'x', name: 'infrastart', timestamp: 5, data: { a: 1 } }]);
        assert.equal(await second.appendEvent('x', 'next', 6, {}), 2);
        assert.equal(await second.getInfraMeta('x', 'maintained'), true);
        assert.deepEqual(await second.kvGet('dummy', 'vm'), { up: true });
      } finally {
        await second.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a new database is private: directory 0700, file 0600, WAL mode', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'nested', '.occopus', 'occopus.db');
      const store = SqliteStore.open(file, 'alice');
      await store.kvPut('ns', 'k', 1);
      assert.equal(store.file, file);
      assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      assert.equal(fs.statSync(`${file}-wal`).mode & 0o777, 0o600);
      const raw = new Database(file);
      try {
        assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
      } finally {
        raw.close();
      }
      await store.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a relative path is resolved against the working directory', async () => {
    const dir = tempDir();
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      const store = SqliteStore.open('rel.db', 'alice');
      await store.close();
      assert.equal(store.file, path.join(fs.realpathSync(dir), 'rel.db'));
      assert.ok(fs.existsSync(path.join(dir, 'rel.db')));
    } finally {
      process.chdir(cwd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an in-memory database works and is private to its store', async () => {
    const a = SqliteStore.open(':memory:', 'alice');
    const b = SqliteStore.open(':memory:', 'alice');
    await a.kvPut('ns', 'k', 1);
    assert.equal(await a.kvGet('ns', 'k'), 1);
    assert.equal(await b.kvGet('ns', 'k'), null);
    await a.close();
    await b.close();
  });
});

describe('sqlite store: schema versions', () => {
  test('an existing empty file is migrated to the current schema', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'empty.db');
      fs.writeFileSync(file, '');
      const store = SqliteStore.open(file, 'alice');
      await store.putInfrastructure(description('x'));
      assert.deepEqual(await store.listInfrastructures(), ['x']);
      await store.close();
      const raw = new Database(file);
      try {
        assert.equal(raw.pragma('user_version', { simple: true }), LATEST_SCHEMA_VERSION);
      } finally {
        raw.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('migrations run in order, once each, and only above the stored version', () => {
    const db = new Database(':memory:');
    try {
      migrate(db, 'test.db');
      let ran = 0;
      const v2: Migration = {
        version: LATEST_SCHEMA_VERSION + 1,
        description: 'add a column',
        up(d) {
          ran++;
          d.exec('ALTER TABLE kv ADD COLUMN note TEXT');
        },
      };
      migrate(db, 'test.db', [...MIGRATIONS, v2]);
      migrate(db, 'test.db', [...MIGRATIONS, v2]);
      assert.equal(ran, 1);
      assert.equal(db.pragma('user_version', { simple: true }), LATEST_SCHEMA_VERSION + 1);
      // The code that only knows the current schema now refuses this file.
      assert.throws(() => migrate(db, 'test.db'), storeErrorMatching(/newer occopus/));
    } finally {
      db.close();
    }
  });

  test('a failing migration leaves the file at its previous version', () => {
    const db = new Database(':memory:');
    try {
      migrate(db, 'test.db');
      const broken: Migration = {
        version: LATEST_SCHEMA_VERSION + 1,
        description: 'broken',
        up(d) {
          d.exec('CREATE TABLE half_done (x)');
          throw new Error('boom');
        },
      };
      assert.throws(() => migrate(db, 'test.db', [...MIGRATIONS, broken]));
      assert.equal(db.pragma('user_version', { simple: true }), LATEST_SCHEMA_VERSION);
      assert.equal(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").pluck().get(), 0);
    } finally {
      db.close();
    }
  });

  test('a file written by a newer occopus is refused and left untouched', () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'future.db');
      void SqliteStore.open(file, 'alice').close();
      const raw = new Database(file);
      raw.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 5}`);
      raw.close();
      assert.throws(
        () => SqliteStore.open(file, 'alice'),
        (e: unknown) =>
          e instanceof StoreError &&
          /created by a newer occopus/.test(e.message) &&
          e.message.includes(file) &&
          e.message.includes(String(LATEST_SCHEMA_VERSION + 5)),
      );
      const check = new Database(file);
      try {
        assert.equal(check.pragma('user_version', { simple: true }), LATEST_SCHEMA_VERSION + 5);
      } finally {
        check.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("another application's SQLite database is refused", () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'other.db');
      const raw = new Database(file);
      raw.exec('CREATE TABLE kv (whatever TEXT)');
      raw.pragma('user_version = 1');
      raw.close();
      assert.throws(() => SqliteStore.open(file, 'alice'), storeErrorMatching(/not an occopus state database/));

      const unversioned = path.join(dir, 'unversioned.db');
      const raw2 = new Database(unversioned);
      raw2.exec('CREATE TABLE kv (whatever TEXT)');
      raw2.close();
      assert.throws(
        () => SqliteStore.open(unversioned, 'alice'),
        (e: unknown) => e instanceof StoreError && e.message.includes(unversioned),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite store: failures are StoreErrors that name the file', () => {
  test('a file that is not a database', () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'notes.db');
      fs.writeFileSync(file, 'these are my notes, not a database\n'.repeat(200));
      assert.throws(
        () => SqliteStore.open(file, 'alice'),
        (e: unknown) => e instanceof StoreError && e.message.includes(file) && /not a usable occopus state database/.test(e.message),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a path whose directory cannot be created', () => {
    const dir = tempDir();
    try {
      const blocker = path.join(dir, 'a-file');
      fs.writeFileSync(blocker, '');
      const file = path.join(blocker, 'occopus.db');
      assert.throws(
        () => SqliteStore.open(file, 'alice'),
        (e: unknown) => e instanceof StoreError && e.message.includes(file),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a read-only database file', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'ro.db');
      await SqliteStore.open(file, 'alice').close();
      fs.chmodSync(file, 0o444);
      fs.chmodSync(dir, 0o755);
      // Root ignores file permissions: then the write is tried by an unprivileged child process.
      const asRoot = process.getuid?.() === 0;
      const result = asRoot
        ? spawnSync(process.execPath, ['--import', 'tsx', STORE_CHILD, 'write', `sqlite:${file}`], {
            uid: 65534,
            gid: 65534,
            encoding: 'utf8',
            cwd: PROJECT_ROOT,
          })
        : null;
      let message: string;
      if (result) {
        assert.equal(result.status, 0, result.stderr);
        message = result.stdout.trim().split('\n').pop() ?? '';
      } else {
        message = await writeOnce(file);
      }
      assert.match(message, /read-only/);
      assert.ok(message.includes(file), message);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a write lock held too long by another connection', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'busy.db');
      const store = SqliteStore.open(file, 'alice', { busyTimeoutMs: 50 });
      const other = new Database(file);
      other.exec('BEGIN IMMEDIATE');
      try {
        await assert.rejects(
          store.takeScalingRequests('x'),
          (e: unknown) => e instanceof StoreError && /locked by another process/.test(e.message) && e.message.includes(file),
        );
        await assert.rejects(store.kvPut('ns', 'k', 1), storeErrorMatching(/locked by another process/));
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
      // Once the lock is gone the same store works again.
      await store.kvPut('ns', 'k', 1);
      assert.equal(await store.kvGet('ns', 'k'), 1);
      await store.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a value damaged outside occopus', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'damaged.db');
      const store = SqliteStore.open(file, 'alice');
      await store.kvPut('ns', 'k', 1);
      await store.addScalingRequests('x', [{ node: 'web', kind: 'create', count: 1 }]);
      const raw = new Database(file);
      raw.exec("UPDATE kv SET value = '{broken'; UPDATE scaling_requests SET request = 'nope'");
      raw.close();
      await assert.rejects(store.kvGet('ns', 'k'), storeErrorMatching(/damaged/));
      // A damaged request aborts the take, so nothing is lost.
      await assert.rejects(store.takeScalingRequests('x'), storeErrorMatching(/damaged/));
      const raw2 = new Database(file);
      try {
        assert.equal(raw2.prepare('SELECT count(*) FROM scaling_requests').pluck().get(), 1);
      } finally {
        raw2.close();
      }
      await store.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

crossProcessSuite('sqlite store: several processes on one file', async (tag) => {
  const dir = tempDir();
  const file = path.join(dir, `${tag}.db`);
  return {
    url: `sqlite:${file}`,
    open: async () => SqliteStore.open(file, 'alice'),
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
});
