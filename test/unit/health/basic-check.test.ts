import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/errors.js';
import type { HealthCheckSection } from '../../../src/descriptors/types.js';
import {
  DEFAULT_PROBE_TIMEOUTS_MS,
  healthTimeoutSeconds,
  runHealthCheck,
  type HealthTarget,
} from '../../../src/health/basic-check.js';

function target(health_check?: HealthCheckSection, address = '10.0.0.5'): HealthTarget {
  return { address, node_id: 'n1', variables: {}, instance_data: {}, ...(health_check ? { health_check } : {}) };
}

function fakePing(t: { after(fn: () => void): void }, exitCode: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'occopus-hc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'ping');
  writeFileSync(path, `#!/bin/sh\nexit ${exitCode}\n`);
  chmodSync(path, 0o755);
  return path;
}

test('the failing period defaults to 600 s and follows health_check.timeout', () => {
  assert.equal(healthTimeoutSeconds(undefined), 600);
  assert.equal(healthTimeoutSeconds({}), 600);
  assert.equal(healthTimeoutSeconds({ ping: false }), 600);
  assert.equal(healthTimeoutSeconds({ timeout: 30 }), 30);
  assert.equal(healthTimeoutSeconds({ timeout: 0 }), 0);
});

test('per-probe timeouts: ping 2 s, tcp 3 s, http 10 s, mysql 5 s', () => {
  assert.deepEqual({ ...DEFAULT_PROBE_TIMEOUTS_MS }, { ping: 2000, tcp: 3000, http: 10000, mysql: 5000 });
});

test('ping is on by default and its failure makes the node unhealthy', async (t) => {
  const result = await runHealthCheck(target(), { pingCommand: fakePing(t, 1) });
  assert.deepEqual(result, { ok: false, failures: ['ping 10.0.0.5: no reply within 2s'] });
  const healthy = await runHealthCheck(target({ timeout: 5 }), { pingCommand: fakePing(t, 0) });
  assert.deepEqual(healthy, { ok: true, failures: [] });
});

test('ping: false with nothing else configured checks nothing and is healthy', async () => {
  // A ping command that does not exist would throw if it were run.
  const result = await runHealthCheck(target({ ping: false }), { pingCommand: '/nonexistent/ping' });
  assert.deepEqual(result, { ok: true, failures: [] });
});

test('a missing ping command fails the check with the install hint', async () => {
  await assert.rejects(
    runHealthCheck(target(), { pingCommand: '/nonexistent/ping' }),
    (e: unknown) => e instanceof ConfigError && /install iputils-ping/.test(e.message),
  );
});

test('a node without an address fails every probe instead of checking localhost', async (t) => {
  const result = await runHealthCheck(target({ ports: [22], mysqldbs: [{ name: 'd', user: 'u', pass: 'p' }] }, ''), {
    pingCommand: fakePing(t, 0),
  });
  assert.equal(result.ok, false);
  assert.equal(result.failures.length, 3, result.failures.join('\n'));
  assert.match(result.failures[0]!, /^ping: "" is not an IP address or host name/);
  assert.match(result.failures[1]!, /no address/);
  assert.match(result.failures[2]!, /no address/);
});
