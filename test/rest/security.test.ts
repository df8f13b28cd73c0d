/**
 * The REST service's safety over real HTTP: where the token comes from, authentication switched
 * off only on loopback, CORS only for configured origins, the body size limit, and 500 answers
 * that keep internals (and secrets) out of responses and logs.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setup } from '../../src/api/setup.js';
import { DriverError } from '../../src/errors.js';
import { buildRestApp } from '../../src/rest/app.js';
import { isLoopbackHost } from '../../src/rest/auth.js';
import { createRestService } from '../../src/rest/service.js';
import type { Store } from '../../src/store/store.js';
import { createLogger } from '../../src/util/logger.js';
import { TOKEN, makeHome, startService, type Running } from './helpers.js';

const running: Running[] = [];
after(async () => {
  for (const r of running) await r.stop();
});
async function start(options: Parameters<typeof startService>[0] = {}): Promise<Running> {
  const r = await startService(options);
  running.push(r);
  return r;
}

describe('the API token', () => {
  test('is generated on the first start (mode 0600, shown once) and reused afterwards', async () => {
    const home = makeHome();
    try {
      const first = await start({ home, service: { env: {} } });
      const path = join(home.dir, '.occopus', 'api-token');
      const token = readFileSync(path, 'utf8').trim();
      assert.ok(token.length >= 32);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(first.notices.filter((n) => n.includes(token)).length, 1, 'printed once');
      assert.equal((await fetch(`${first.url}/infrastructures/`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
      assert.equal((await fetch(`${first.url}/infrastructures/`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 401);
      await first.stop();
      running.splice(running.indexOf(first), 1);

      const second = await start({ home, service: { env: {} } });
      assert.equal(second.service.token?.token, token);
      assert.ok(!second.notices.some((n) => n.includes(token)), 'not printed again');
    } finally {
      home.cleanup();
    }
  });

  test("$OCCOPUS_API_TOKEN comes first, then the config's rest.token_file", async () => {
    const home = makeHome();
    const file = join(home.dir, 'token.txt');
    writeFileSync(file, 'from-the-token-file-0123456789\n', { mode: 0o600 });
    writeFileSync(
      home.configPath,
      JSON.stringify({ ...JSON.parse(readFileSync(home.configPath, 'utf8')), rest: { token_file: file } }),
    );
    try {
      const fromFile = await start({ home, service: { env: {} } });
      assert.equal(fromFile.service.token?.origin, 'token_file');
      const ok = await fetch(`${fromFile.url}/infrastructures/`, { headers: { authorization: 'Bearer from-the-token-file-0123456789' } });
      assert.equal(ok.status, 200);
      const fromEnv = await start({ home });
      assert.equal(fromEnv.service.token?.origin, 'env');
      assert.equal((await fromEnv.api('GET', '/infrastructures/')).status, 200);
    } finally {
      for (const r of running.splice(0)) await r.stop();
      home.cleanup();
    }
  });
});

describe('authentication switched off', () => {
  test('is allowed on loopback, and then no token is needed', async () => {
    const open = await start({ service: { auth: false } });
    assert.equal((await fetch(`${open.url}/infrastructures/`)).status, 200);
    assert.equal(open.service.token, null);
  });

  test('is refused on any other address', async () => {
    const home = makeHome();
    const app = await setup({ cfg: home.configPath, env: { HOME: home.dir }, cwd: home.dir, user: 'rest-test' });
    try {
      for (const host of ['0.0.0.0', '::', '192.0.2.10']) {
        await assert.rejects(createRestService(app, { host, port: 0, auth: false }), /refusing to listen on .* without authentication/);
      }
    } finally {
      await app.close();
      home.cleanup();
    }
    assert.ok(isLoopbackHost('127.0.0.1') && isLoopbackHost('::1') && isLoopbackHost('localhost') && isLoopbackHost('127.9.9.9'));
    assert.ok(!isLoopbackHost('0.0.0.0') && !isLoopbackHost('::') && !isLoopbackHost('10.0.0.1'));
  });
});

describe('CORS', () => {
  test('is off by default: no CORS headers for any origin', async () => {
    const r = await start();
    const pre = await fetch(`${r.url}/infrastructures/`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(pre.headers.get('access-control-allow-origin'), null);
    assert.notEqual(pre.status, 204);
    const get = await r.api('GET', '/infrastructures/', undefined, { origin: 'https://evil.example' });
    assert.equal(get.headers.get('access-control-allow-origin'), null);
  });

  test('answers only the configured origins', async () => {
    const r = await start({ rest: { cors_origins: ['https://ui.example'] } });
    const pre = await fetch(`${r.url}/infrastructures/`, {
      method: 'OPTIONS',
      headers: { origin: 'https://ui.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'https://ui.example');
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    const get = await r.api('GET', '/infrastructures/', undefined, { origin: 'https://ui.example' });
    assert.equal(get.headers.get('access-control-allow-origin'), 'https://ui.example');
    const other = await r.api('GET', '/infrastructures/', undefined, { origin: 'https://evil.example' });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });
});

describe('limits and failures', () => {
  test('a body over rest.body_limit is refused with 413', async () => {
    const r = await start({ rest: { body_limit: 1024 } });
    const res = await r.api('POST', '/infrastructures/', `infra_name: x\nuser_id: y\n# ${'x'.repeat(4096)}\nnodes: []\n`);
    assert.equal(res.status, 413);
    const body = (await res.json()) as { status_code: number; reason: string };
    assert.equal(body.status_code, 413);
  });

  test('an internal error is a 500 with a generic message; the details (never the token) go to the log', async () => {
    const r = await start();
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const store = r.app.store;
    const broken = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'listInfrastructures') return () => Promise.reject(new Error('disk /var/secret-path exploded'));
        if (prop === 'getInfrastructure') return () => Promise.reject(new DriverError('the cloud refused: quota exceeded'));
        return Reflect.get(target, prop, receiver) as unknown;
      },
    }) as Store;
    const engine = r.service.engine;
    const app = await buildRestApp({
      engine: { ...engine, ctx: { ...engine.ctx, store: broken } },
      maintainers: r.service.maintainers,
      metrics: r.service.metrics,
      token: TOKEN,
      rest: { cors_origins: [], body_limit: 1 << 20 },
      allowCmd: false,
      log: createLogger({ level: 'info', destination: sink }),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const address = app.server.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const res = await fetch(`${url}/infrastructures/`, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(res.status, 500);
      const body = (await res.json()) as { status_code: number; reason: string; message: string; request_id: string };
      assert.equal(body.status_code, 500);
      assert.doesNotMatch(JSON.stringify(body), /exploded|secret-path|at .*\.ts/);
      assert.ok(body.request_id);
      assert.match(body.message, new RegExp(body.request_id));

      // A driver's refusal is meant for the user: its message is kept.
      const driver = await fetch(`${url}/infrastructures/x`, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(driver.status, 500);
      assert.match(((await driver.json()) as { reason: string }).reason, /quota exceeded/);

      await new Promise((resolve) => setTimeout(resolve, 100));
      const log = lines.join('');
      assert.match(log, /exploded/);
      assert.match(log, new RegExp(body.request_id));
      assert.ok(!log.includes(TOKEN), 'the token is never logged');
    } finally {
      await app.close();
    }
  });
});
