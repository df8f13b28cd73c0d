/**
 * `runHealthCheck` as a node definition's `health_check` section drives it, against real servers on
 * loopback, the system `ping` and MariaDB.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Server as HttpServer } from 'node:http';
import type { Server as TcpServer } from 'node:net';
import { OccopusError } from '../../src/errors.js';
import type { HealthCheckSection } from '../../src/descriptors/types.js';
import { runHealthCheck, type HealthTarget } from '../../src/health/basic-check.js';
import { Semaphore } from '../../src/util/semaphore.js';
import { close, closedPort, createTestDatabase, httpServer, openPort, portOf, type TestDatabase } from './health-fixtures.js';

let web: HttpServer;
let webPort: number;
let tcp: TcpServer;
let db: TestDatabase;
const seen: string[] = [];
let inFlight = 0;
let maxInFlight = 0;
/** Requests to /together wait here until `together` of them are in flight at once. */
let together = 0;
let waiting: (() => void)[] = [];

before(async () => {
  web = await httpServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const answer = (status: number): void => {
      inFlight--;
      res.writeHead(status).end();
    };
    if (req.url === '/x' || req.url === '/ok') return answer(200);
    if (req.url === '/down') return answer(503);
    if (req.url?.startsWith('/slow')) return void setTimeout(() => answer(200), 30);
    if (req.url?.startsWith('/together')) {
      waiting.push(() => answer(200));
      if (waiting.length >= together) {
        for (const release of waiting) release();
        waiting = [];
      }
      return;
    }
    if (req.url === '/silent') return;
    answer(500);
  });
  webPort = portOf(web);
  tcp = await openPort();
  db = await createTestDatabase();
});

after(async () => {
  await close(web);
  await close(tcp);
  await db?.drop();
});

function target(health_check: HealthCheckSection | undefined, variables: Record<string, unknown> = {}): HealthTarget {
  return {
    address: '127.0.0.1',
    node_id: 'node-42',
    variables,
    instance_data: { node_id: 'node-42', infra_id: 'infra-7' },
    ...(health_check ? { health_check } : {}),
  };
}

function resetCounters(): void {
  seen.length = 0;
  inFlight = 0;
  maxInFlight = 0;
}

test('without a health_check section the node is pinged, and 127.0.0.1 answers', async () => {
  assert.deepEqual(await runHealthCheck(target(undefined)), { ok: true, failures: [] });
});

test('every configured probe passes: ping, an open port, a templated URL, a templated MySQL login', async () => {
  resetCounters();
  const result = await runHealthCheck(
    target(
      {
        ports: [portOf(tcp)],
        urls: [`http://{{ip}}:${webPort}/x`],
        mysqldbs: [{ name: '{{ variables.db }}', user: '{{ variables.db_user }}', pass: '{{ variables.db_pass }}' }],
      },
      { db: db.name, db_user: db.user, db_pass: db.pass },
    ),
  );
  assert.deepEqual(result, { ok: true, failures: [] });
  assert.deepEqual(seen, ['HEAD /x'], 'the URL template was rendered with the node address');
});

test('every failure is reported, in section order, not just the first one', async () => {
  resetCounters();
  const closed = await closedPort();
  const result = await runHealthCheck(
    target({
      ping: true,
      ports: [closed, portOf(tcp)],
      urls: [`http://{{ ip }}:${webPort}/down`, `http://127.0.0.1:${webPort}/ok`],
      mysqldbs: [{ name: db.name, user: db.user, pass: 'not-the-password' }],
    }),
  );
  assert.equal(result.ok, false);
  assert.equal(result.failures.length, 3, result.failures.join('\n'));
  assert.equal(result.failures[0], `port ${closed} refused`);
  assert.equal(result.failures[1], `HEAD http://127.0.0.1:${webPort}/down → 503`);
  assert.match(result.failures[2]!, /^mysql occopus_hc_\w+@127\.0\.0\.1\/occopus_hc_\w+: ER_ACCESS_DENIED_ERROR/);
  assert.ok(!result.failures.join('\n').includes('not-the-password'));
  // Occopus stops at the first failing component; the URLs after the closed port were still asked.
  assert.deepEqual(seen.sort(), ['HEAD /down', 'HEAD /ok']);
});

test('probes run at the same time, not one after another', { timeout: 20_000 }, async () => {
  resetCounters();
  together = 3;
  // The server answers only once all three requests are in flight: one after another, each would time out.
  const result = await runHealthCheck(
    target({ ping: false, urls: [1, 2, 3].map((i) => `http://{{ip}}:${webPort}/together/${i}`) }),
    { timeoutsMs: { http: 5000 } },
  );
  assert.deepEqual(result, { ok: true, failures: [] });
  assert.equal(maxInFlight, 3);
});

test('a shared limiter bounds the probes of all checks of a pass together', async () => {
  resetCounters();
  const limiter = new Semaphore(2);
  const hc: HealthCheckSection = { ping: false, urls: [1, 2, 3].map((i) => `http://{{ip}}:${webPort}/slow/${i}`) };
  const results = await Promise.all([runHealthCheck(target(hc), { limiter }), runHealthCheck(target(hc), { limiter })]);
  assert.deepEqual(results, [
    { ok: true, failures: [] },
    { ok: true, failures: [] },
  ]);
  assert.equal(seen.length, 6);
  assert.equal(maxInFlight, 2);
});

test('a URL that never answers fails after its own timeout and does not hold up the other probes', { timeout: 10_000 }, async () => {
  const result = await runHealthCheck(
    target({ ports: [portOf(tcp)], urls: [`http://{{ip}}:${webPort}/silent`, `http://{{ip}}:${webPort}/ok`] }),
    { timeoutsMs: { http: 300 } },
  );
  assert.deepEqual(result, {
    ok: false,
    failures: [`HEAD http://127.0.0.1:${webPort}/silent: no answer within 0.3s`],
  });
});

test('cancelling a pass stops its probes with E_CANCELLED', { timeout: 10_000 }, async () => {
  const controller = new AbortController();
  const check = runHealthCheck(target({ urls: [`http://{{ip}}:${webPort}/silent`] }), {
    signal: controller.signal,
    timeoutsMs: { http: 60_000 },
  });
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(check, (e: unknown) => e instanceof OccopusError && e.code === 'E_CANCELLED');
});

test('a broken URL template is a template error naming the field, before anything is probed', async () => {
  resetCounters();
  await assert.rejects(
    runHealthCheck(target({ urls: [`http://{{ ip :${webPort}/x`] })),
    (e: unknown) => e instanceof OccopusError && e.code === 'E_TEMPLATE' && /health_check\.urls\[0\]/.test(e.describe()),
  );
  assert.deepEqual(seen, []);
});
