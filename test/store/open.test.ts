import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StoreError } from '../../src/errors.js';
import { MemoryStore } from '../../src/store/memory.js';
import { currentUser, defaultStoreUrl, openStore } from '../../src/store/open.js';
import { SqliteStore } from '../../src/store/sqlite.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'occopus-open-'));
}

/** Runs `fn` with some environment variables replaced (undefined removes), then restores them. */
async function withEnv(vars: Record<string, string | undefined>, fn: () => Promise<void> | void): Promise<void> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(vars);
  try {
    await fn();
  } finally {
    apply(saved);
  }
}

describe('openStore', () => {
  test('memory: gives a fresh memory store for the user', async () => {
    const a = await openStore('memory:', { user: 'alice' });
    const b = await openStore('memory:', { user: 'alice' });
    assert.ok(a instanceof MemoryStore);
    assert.equal(a.user, 'alice');
    await a.kvPut('ns', 'k', 1);
    assert.equal(await b.kvGet('ns', 'k'), null);
    await a.close();
    await b.close();
  });

  test('sqlite:/absolute/path opens (and creates) that file', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'sub', 'state.db');
      const store = await openStore(`sqlite:${file}`, { user: 'bob' });
      assert.ok(store instanceof SqliteStore);
      assert.equal(store.user, 'bob');
      await store.kvPut('ns', 'k', 'v');
      await store.close();
      assert.ok(fs.existsSync(file));
      const again = await openStore(`sqlite:///${file.replace(/^\//, '')}`, { user: 'bob' });
      assert.equal(await again.kvGet('ns', 'k'), 'v');
      await again.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('sqlite:relative.db is relative to the working directory, sqlite:~/ to the home directory', async () => {
    const dir = tempDir();
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      const rel = await openStore('sqlite:rel.db', { user: 'u' });
      await rel.close();
      assert.ok(fs.existsSync(path.join(dir, 'rel.db')));
      await withEnv({ HOME: dir }, async () => {
        const home = await openStore('sqlite:~/in-home.db', { user: 'u' });
        await home.close();
      });
      assert.ok(fs.existsSync(path.join(dir, 'in-home.db')));
    } finally {
      process.chdir(cwd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('sqlite::memory: is an in-memory SQLite store', async () => {
    const store = await openStore('sqlite::memory:', { user: 'u' });
    assert.ok(store instanceof SqliteStore);
    await store.putInfrastructure({
      infra_id: 'x',
      name: 'n',
      user_id: 'u',
      nodes: [],
      edges: [],
      topological_order: [],
      variables: {},
      suspended: false,
    });
    assert.deepEqual(await store.listInfrastructures(), ['x']);
    await store.close();
  });

  test('no URL means the default file under $HOME/.occopus', async () => {
    const home = tempDir();
    try {
      await withEnv({ HOME: home }, async () => {
        const expected = path.join(home, '.occopus', 'occopus.db');
        assert.equal(defaultStoreUrl(), `sqlite:${expected}`);
        for (const url of [undefined, null, '']) {
          const store = await openStore(url, { user: 'u' });
          assert.ok(store instanceof SqliteStore);
          assert.equal(store.file, expected);
          await store.close();
        }
        assert.equal(fs.statSync(path.dirname(expected)).mode & 0o777, 0o700);
      });
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  test('an unreachable Redis is a StoreError naming the server, and the password is not echoed', async () => {
    for (const url of ['redis://:s3cret@127.0.0.1:1/0', 'rediss://user:s3cret@127.0.0.1:1', 'redis://u:s3cret@127.0.0.1:1/x']) {
      await assert.rejects(
        openStore(url, { user: 'u' }),
        (e: unknown) => e instanceof StoreError && /127\.0\.0\.1:1|database number/.test(e.message) && !e.message.includes('s3cret'),
      );
    }
  });

  test('an unknown or missing scheme lists the kinds of store', async () => {
    for (const url of ['postgres://db/occopus', '/tmp/no-scheme.db']) {
      await assert.rejects(
        openStore(url, { user: 'u' }),
        (e: unknown) =>
          e instanceof StoreError &&
          e.message.includes('sqlite:<path>') &&
          e.message.includes('memory:') &&
          e.message.includes('redis://'),
      );
    }
  });

  test('malformed URLs are StoreErrors', async () => {
    for (const url of ['sqlite:', 'sqlite://somehost/x.db', 'memory:extra']) {
      await assert.rejects(openStore(url, { user: 'u' }), (e: unknown) => e instanceof StoreError, url);
    }
    await assert.rejects(openStore('memory:', { user: '' }), (e: unknown) => e instanceof StoreError);
  });
});

describe('currentUser', () => {
  test('LOGNAME, USER, LNAME, USERNAME are consulted in that order', async () => {
    await withEnv({ LOGNAME: 'l', USER: 'u', LNAME: 'n', USERNAME: 'un' }, () => assert.equal(currentUser(), 'l'));
    await withEnv({ LOGNAME: undefined, USER: 'u', LNAME: 'n', USERNAME: 'un' }, () => assert.equal(currentUser(), 'u'));
    await withEnv({ LOGNAME: '', USER: undefined, LNAME: 'n', USERNAME: 'un' }, () => assert.equal(currentUser(), 'n'));
    await withEnv({ LOGNAME: undefined, USER: undefined, LNAME: undefined, USERNAME: 'un' }, () =>
      assert.equal(currentUser(), 'un'),
    );
  });

  test('without those variables the password database answers', async () => {
    await withEnv({ LOGNAME: undefined, USER: undefined, LNAME: undefined, USERNAME: undefined }, () =>
      assert.equal(currentUser(), os.userInfo().username),
    );
  });
});
