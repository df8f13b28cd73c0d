/**
 * Fail-over between `occopus-rest-service` processes sharing one Redis store (the built bins in
 * dist/: run `npm run build` first), on the `dummy` driver, whose cloud lives in the store so every
 * process sees the same instances:
 * - A builds infrastructures; B, started beside it, waits as a standby. A is killed with SIGKILL; B
 *   takes over, carries out a scale request made afterwards and heals a failed instance, and no
 *   instance is ever created twice;
 * - a service started later follows the marks made before and after its start, a DELETE through a
 *   standby makes the acting service let go, and the late service takes over when B is killed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertNoStackTrace, sandbox } from '../helpers/cli.js';
import { eventually } from '../helpers/local-env.js';
import { deleteKeys, redisUrl, testPrefix } from '../helpers/redis.js';
import { RedisStore } from '../../src/store/redis.js';
import { listDummyInstances, setDummyInstanceState } from '../../src/drivers/dummy/index.js';

const prefix = testPrefix('rest-failover');
const url = redisUrl(prefix);
const box = sandbox();
const children: ChildProcess[] = [];
let store: RedisStore;

const NODES = [
  "'node_def:fo_db':",
  '  - resource: {type: dummy, create_delay: 0.2, ready_delay: 0.2}',
  '    health_check: {ping: false}',
  "'node_def:fo_web':",
  '  - resource: {type: dummy, create_delay: 0.3, ready_delay: 0.2}',
  '    health_check: {ping: false}',
].join('\n');

const INFRA = (name: string) =>
  `infra_name: ${name}\nuser_id: x\nnodes:\n  - &D {name: db, type: fo_db}\n  - &W {name: web, type: fo_web, scaling: {min: 2, max: 6}}\ndependencies:\n  - [*W, *D]\n`;

before(async () => {
  mkdirSync(join(box.home, '.occopus'), { recursive: true });
  writeFileSync(
    join(box.home, '.occopus', 'occopus_config.yaml'),
    JSON.stringify({
      store: url,
      engine: { lease_ttl: 2, enactor_interval: 0.3, poll_interval: 0.1, create_timeout: 30 },
      logging: { level: 'warn' },
    }),
  );
  store = await RedisStore.open(url, 'e2e');
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : null)));
  await store?.close();
  box.cleanup();
  await deleteKeys(prefix);
});

interface Service {
  proc: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<unknown>;
}

async function startService(): Promise<Service> {
  const proc = box.spawn(['--no-auth', '--host', '127.0.0.1', '--port', '0'], { tool: 'occopus-rest-service' });
  children.push(proc);
  let err = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (chunk: string) => (err += chunk));
  proc.stdout?.resume();
  const exited = new Promise((r) => proc.once('exit', r));
  let found: string | undefined;
  await eventually(
    () => {
      if (proc.exitCode !== null) throw new Error(`the service exited (${proc.exitCode}):\n${err}`);
      found = /listening on (http:\/\/\S+)/.exec(err)?.[1];
      return found !== undefined;
    },
    20_000,
    'the service to listen',
  ).catch((e: unknown) => {
    throw new Error(`${String(e)}\nstderr:\n${err}`);
  });
  return { proc, url: found!, stderr: () => err, exited };
}

async function call<T = Record<string, unknown>>(s: Service, method: string, path: string, body?: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${s.url}${path}`, { method, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // /metrics and event streams are text
  }
  return { status: res.status, body: parsed as T };
}

interface Meta {
  maintained: boolean;
  standby: boolean;
  maintainer: { holder: string } | null;
}
type Report = Record<string, { instances: Record<string, { state: string }> }> & { _meta: Meta };

async function report(s: Service, infraId: string): Promise<Report> {
  const r = await call<Report>(s, 'GET', `/infrastructures/${infraId}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

function pidOf(holder: string | undefined): number | null {
  const m = holder ? /:(\d+):[^:]+$/.exec(holder) : null;
  return m ? Number(m[1]) : null;
}

async function holderPid(infraId: string): Promise<number | null> {
  return pidOf((await store.getLease(`maintain:${infraId}`))?.holder);
}

/** The service acts on it (holds the lease) and says so; the others say they stand by. */
async function actsOn(s: Service, infraId: string): Promise<boolean> {
  const meta = (await report(s, infraId))._meta;
  return meta.maintained && !meta.standby && pidOf(meta.maintainer?.holder) === s.proc.pid;
}

async function standsBy(s: Service, infraId: string): Promise<boolean> {
  const meta = (await report(s, infraId))._meta;
  return meta.standby && !meta.maintained && meta.maintainer !== null && pidOf(meta.maintainer.holder) !== s.proc.pid;
}

async function ready(infraId: string, webCount: number): Promise<boolean> {
  const records = await store.listInstances(infraId);
  return (
    records.filter((r) => r.node_name === 'web').length === webCount &&
    records.filter((r) => r.node_name === 'db').length === 1 &&
    records.every((r) => r.lifecycle === 'created' && r.data['addresses'] !== undefined)
  );
}

async function webInstances(infraId: string) {
  return (await store.listInstances(infraId)).filter((r) => r.node_name === 'web');
}

/** The `nodecreating` node ids of the infrastructure's event stream, replayed through a service. */
async function createdNodeIds(s: Service, infraId: string): Promise<{ creating: string[]; created: string[] }> {
  const r = await call<string>(s, 'GET', `/infrastructures/${infraId}/events?after=0&follow=false`);
  assert.equal(r.status, 200);
  const of = (name: string) =>
    [...r.body.matchAll(new RegExp(`^event: ${name}\\ndata: (.*)$`, 'gm'))].map((m) => String((JSON.parse(m[1]!) as { data: { node_id: string } }).data.node_id));
  return { creating: of('nodecreating'), created: of('nodecreated') };
}

/** Every instance record has exactly one simulated VM and every VM of the infra has a record. */
async function assertNoLeakNoDuplicate(infraId: string): Promise<void> {
  const records = await store.listInstances(infraId);
  const vms = (await listDummyInstances(store)).filter((v) => v.infra_id === infraId);
  assert.deepEqual(vms.map((v) => v.node_id).sort(), records.map((r) => r.node_id).sort(), 'VMs and instance records match one to one');
  assert.deepEqual(vms.map((v) => v.instance_id).sort(), records.map((r) => r.instance_id).sort(), 'each record names its own VM');
}

function metric(text: string, line: string): number | null {
  const m = new RegExp(`^${line.replace(/[{}"()]/g, (c) => `\\${c}`)} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

let a: Service;
let b: Service;
let first = '';

describe('occopus-rest-service processes sharing one Redis store', { timeout: 180_000 }, () => {
  test('B takes over from A killed with SIGKILL: scales, heals, and creates nothing twice', async () => {
    [a, b] = await Promise.all([startService(), startService()]);
    assert.equal((await call(a, 'PUT', '/nodedefinitions', NODES)).status, 200);
    const posted = await call<{ infraid: string }>(a, 'POST', '/infrastructures/', INFRA('first'));
    assert.equal(posted.status, 200, JSON.stringify(posted.body));
    first = posted.body.infraid;
    await eventually(() => ready(first, 2), 30_000, 'A to build it');
    assert.ok(await actsOn(a, first));

    // B learned of it from the store (its sync) and waits; it says so, and does not claim it.
    await eventually(() => standsBy(b, first), 10_000, 'B to stand by');
    const listed = await call<{ maintained: string[]; standby: string[] }>(b, 'GET', '/infrastructures/');
    assert.deepEqual([listed.body.maintained, listed.body.standby], [[], [first]]);
    const bMetrics = (await call<string>(b, 'GET', '/metrics')).body;
    assert.equal(metric(bMetrics, 'occopus_infrastructures_maintained'), 0, bMetrics);
    assert.equal(metric(bMetrics, 'occopus_infrastructures_standby'), 1, bMetrics);
    assert.equal(metric(bMetrics, `occopus_maintainer_waiting{infra_id="${first}"}`), 1, bMetrics);
    assert.equal(metric(bMetrics, `occopus_maintenance_passes_total{infra_id="${first}"}`), null, 'a standby makes no passes');
    const aMetrics = (await call<string>(a, 'GET', '/metrics')).body;
    assert.equal(metric(aMetrics, 'occopus_infrastructures_maintained'), 1, aMetrics);
    assert.equal(metric(aMetrics, `occopus_maintainer_waiting{infra_id="${first}"}`), 0, aMetrics);

    a.proc.kill('SIGKILL');
    await a.exited;
    await eventually(() => actsOn(b, first), 15_000, 'B to take over');

    // A scale request made after the take-over, through B, is carried out.
    const up = await call(b, 'POST', `/infrastructures/${first}/scaleup/web`);
    assert.equal(up.status, 200, JSON.stringify(up.body));
    await eventually(() => ready(first, 3), 30_000, 'three ready web instances');

    // A failed VM is healed.
    const victim = (await webInstances(first))[0]!;
    assert.equal(await setDummyInstanceState(store, victim.instance_id!, 'failed'), true);
    await eventually(
      async () => (await ready(first, 3)) && !(await webInstances(first)).some((r) => r.node_id === victim.node_id),
      30_000,
      'the failed instance to be replaced',
    );
    assert.deepEqual((await store.listFailedInstances(first)).map((r) => r.node_id), [victim.node_id]);
    assert.equal(await holderPid(first), b.proc.pid, 'B kept the lease throughout');

    // 3 at build, 1 scale-up, 1 replacement: each created once, under its own node id.
    const { creating, created } = await createdNodeIds(b, first);
    assert.equal(creating.length, 5, JSON.stringify(creating));
    assert.equal(new Set(creating).size, 5);
    assert.deepEqual([...created].sort(), [...creating].sort());
    await assertNoLeakNoDuplicate(first);
    assertNoStackTrace(b.stderr());
  });

  test('a service started later follows marks made before and after it started, and takes over too', async () => {
    assert.ok(first, 'the first test built an infrastructure');
    const late = await startService();
    assert.match(late.stderr(), new RegExp(`resumed maintaining 1 infrastructure\\(s\\): ${first}`));
    await eventually(() => standsBy(late, first), 10_000, 'the late service to stand by for the first one');

    // Submitted to B after the late service started: its sync picks it up.
    const posted = await call<{ infraid: string }>(b, 'POST', '/infrastructures/', INFRA('second'));
    assert.equal(posted.status, 200, JSON.stringify(posted.body));
    const second = posted.body.infraid;
    await eventually(() => ready(second, 2), 30_000, 'B to build the second one');
    await eventually(() => standsBy(late, second), 10_000, 'the late service to stand by for the second one');

    // DELETE through the standby: B lets go at its next sync, the late service tears it down.
    const del = await call(late, 'DELETE', `/infrastructures/${first}`);
    assert.equal(del.status, 200, JSON.stringify(del.body));
    assert.deepEqual((await listDummyInstances(store)).filter((v) => v.infra_id === first), []);
    assert.equal((await call(b, 'GET', `/infrastructures/${first}`)).status, 404);
    const onB = await call<{ infrastructures: string[]; maintained: string[] }>(b, 'GET', '/infrastructures/');
    assert.deepEqual([onB.body.infrastructures, onB.body.maintained], [[second], [second]]);

    b.proc.kill('SIGKILL');
    await b.exited;
    await eventually(() => actsOn(late, second), 15_000, 'the late service to take over');
    const up = await call(late, 'POST', `/infrastructures/${second}/scaleup/web/2`);
    assert.equal(up.status, 200, JSON.stringify(up.body));
    await eventually(() => ready(second, 4), 30_000, 'four ready web instances');
    const { creating } = await createdNodeIds(late, second);
    assert.equal(creating.length, 5, JSON.stringify(creating));
    assert.equal(new Set(creating).size, 5);
    await assertNoLeakNoDuplicate(second);

    late.proc.kill('SIGTERM');
    await late.exited;
    assert.equal(late.proc.exitCode, 0, late.stderr());
    assert.equal(await store.getLease(`maintain:${second}`), null, 'a stopped service releases its lease');
    assert.notEqual(await store.getInfraMeta(second, 'maintained'), null, 'and keeps the mark for the next start');
    assertNoStackTrace(late.stderr());
  });
});
