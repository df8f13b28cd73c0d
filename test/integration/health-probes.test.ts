/**
 * The probes against real things on loopback: the system `ping`, TCP and HTTP servers, MariaDB
 * (root without password at 127.0.0.1:3306, as `.ci/run` provides). Nothing here is skipped: a
 * missing `ping` or database fails the test with the reason.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { httpUrl, mysqlDb, ping, tcpPort } from '../../src/health/checks.js';
import { close, closedPort, createTestDatabase, httpServer, listen, openPort, portOf, type TestDatabase } from './health-fixtures.js';

test('ping: the system ping reaches 127.0.0.1', async () => {
  const result = await ping('127.0.0.1', { timeoutMs: 2000 });
  assert.deepEqual(result, { ok: true, detail: 'ping 127.0.0.1: reply' });
});

test('ping: a host that cannot be reached is unhealthy with ping\'s reason, not an error', { timeout: 10_000 }, async () => {
  // `.invalid` never resolves (RFC 2606); an unanswered IP is not testable here, as sandboxes may answer any address.
  const result = await ping('nohost.invalid', { timeoutMs: 1000 });
  assert.equal(result.ok, false);
  assert.match(result.detail, /^ping nohost\.invalid failed: .*nohost\.invalid/);
});

test('tcpPort: an open port is healthy, a closed one is refused', async (t) => {
  const server = await openPort();
  t.after(() => close(server));
  const open = portOf(server);
  assert.deepEqual(await tcpPort('127.0.0.1', open, { timeoutMs: 3000 }), { ok: true, detail: `port ${open} open` });

  const closed = await closedPort();
  assert.deepEqual(await tcpPort('127.0.0.1', closed, { timeoutMs: 3000 }), {
    ok: false,
    detail: `port ${closed} refused`,
  });
});

test('tcpPort: a node without an address is unhealthy (an empty host would mean localhost)', async (t) => {
  const server = await openPort();
  t.after(() => close(server));
  const result = await tcpPort('', portOf(server), { timeoutMs: 1000 });
  assert.equal(result.ok, false);
  assert.match(result.detail, /no address/);
});

let web: HttpServer;
let base: string;
const methods: string[] = [];

before(async () => {
  web = await httpServer((req, res) => {
    methods.push(req.method ?? '');
    switch (req.url) {
      case '/ok':
        res.writeHead(200).end();
        break;
      case '/no-content':
        res.writeHead(204).end();
        break;
      case '/down':
        res.writeHead(503).end();
        break;
      case '/missing':
        res.writeHead(404).end();
        break;
      case '/moved':
        res.writeHead(302, { location: '/ok' }).end();
        break;
      case '/moved-down':
        res.writeHead(301, { location: '/down' }).end();
        break;
      case '/silent':
        break; // never answers
      default:
        res.writeHead(500).end();
    }
  });
  base = `http://127.0.0.1:${portOf(web)}`;
});

after(() => close(web));

test('httpUrl: healthy iff the final status is 2xx, and it asks with HEAD', async () => {
  methods.length = 0;
  assert.deepEqual(await httpUrl(`${base}/ok`, { timeoutMs: 5000 }), { ok: true, detail: `HEAD ${base}/ok → 200` });
  assert.equal((await httpUrl(`${base}/no-content`, { timeoutMs: 5000 })).ok, true);
  assert.deepEqual(await httpUrl(`${base}/down`, { timeoutMs: 5000 }), {
    ok: false,
    detail: `HEAD ${base}/down → 503`,
  });
  assert.equal((await httpUrl(`${base}/missing`, { timeoutMs: 5000 })).ok, false);
  assert.deepEqual([...new Set(methods)], ['HEAD']);
});

test('httpUrl: redirects are followed and the final status decides', async () => {
  const moved = await httpUrl(`${base}/moved`, { timeoutMs: 5000 });
  assert.equal(moved.ok, true);
  assert.equal(moved.detail, `HEAD ${base}/moved → 200 (redirected to ${base}/ok)`);
  const movedDown = await httpUrl(`${base}/moved-down`, { timeoutMs: 5000 });
  assert.equal(movedDown.ok, false);
  assert.match(movedDown.detail, /→ 503/);
});

test('httpUrl: a server that never answers fails after the probe timeout', { timeout: 10_000 }, async () => {
  const result = await httpUrl(`${base}/silent`, { timeoutMs: 300 });
  assert.deepEqual(result, { ok: false, detail: `HEAD ${base}/silent: no answer within 0.3s` });
});

test('httpUrl: nothing listening is unhealthy with the reason', async () => {
  const port = await closedPort();
  assert.deepEqual(await httpUrl(`http://127.0.0.1:${port}/`, { timeoutMs: 3000 }), {
    ok: false,
    detail: `HEAD http://127.0.0.1:${port}/: connection refused`,
  });
});

// --- MariaDB ---

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(() => db?.drop());

test('mysqlDb: good credentials log in', async () => {
  const result = await mysqlDb('127.0.0.1', db, { timeoutMs: 5000 });
  assert.deepEqual(result, { ok: true, detail: `mysql ${db.user}@127.0.0.1/${db.name}: connected` });
});

test('mysqlDb: a wrong password is unhealthy and never shown', async () => {
  const wrong = { ...db, pass: `wrong-${randomBytes(8).toString('hex')}` };
  const result = await mysqlDb('127.0.0.1', wrong, { timeoutMs: 5000 });
  assert.equal(result.ok, false);
  assert.match(result.detail, /ER_ACCESS_DENIED_ERROR/);
  assert.ok(!result.detail.includes(wrong.pass), result.detail);
  assert.ok(!result.detail.includes(db.pass), result.detail);
});

test('mysqlDb: a database the user may not use is unhealthy', async () => {
  const result = await mysqlDb('127.0.0.1', { ...db, name: `${db.name}_absent` }, { timeoutMs: 5000 });
  assert.equal(result.ok, false);
  assert.ok(!result.detail.includes(db.pass));
});

test('mysqlDb: a server that accepts but never greets fails after the probe timeout', { timeout: 10_000 }, async (t) => {
  const silent = await listen(createTcpServer(() => undefined));
  t.after(() => close(silent));
  const result = await mysqlDb('127.0.0.1', db, { timeoutMs: 500, port: portOf(silent) });
  assert.equal(result.ok, false);
  assert.equal(result.detail, `mysql ${db.user}@127.0.0.1/${db.name}: no answer within 0.5s`);
});
