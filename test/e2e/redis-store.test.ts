/**
 * Several orchestrator processes sharing one Redis store, through the built CLI on the `dummy`
 * driver (whose cloud lives in the store, so every process sees the same instances):
 * - two `occopus maintain -c` processes on one infrastructure: the second takes over when the
 *   first is killed with SIGKILL, carries out a scale request made afterwards and heals a failed
 *   instance, and no instance is ever created twice;
 * - a maintainer whose connection to Redis is cut during a pass pauses, resumes when the network
 *   heals, and ends with exactly the instances asked for, none leaked or duplicated;
 * - `occopus store migrate` copies a user's store from SQLite to Redis and back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertNoStackTrace, sandbox } from '../helpers/cli.js';
import { eventually } from '../helpers/local-env.js';
import { REDIS_PORT, deleteKeys, redisUrl, testPrefix } from '../helpers/redis.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { RedisStore } from '../../src/store/redis.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { listDummyInstances, setDummyInstanceState } from '../../src/drivers/dummy/index.js';

const prefix = testPrefix('e2e');
const url = redisUrl(prefix);
const box = sandbox();
const children: ChildProcess[] = [];
let store: RedisStore;

const nodesFile = join(box.home, 'nodes.yaml');
const infraFile = join(box.home, 'infra.yaml');

before(async () => {
  mkdirSync(join(box.home, '.occopus'), { recursive: true });
  writeFileSync(
    join(box.home, '.occopus', 'occopus_config.yaml'),
    JSON.stringify({
      store: url,
      engine: { lease_ttl: 2, enactor_interval: 0.5, poll_interval: 0.2, create_timeout: 30 },
      logging: { level: 'warn' },
    }),
  );
  writeFileSync(
    nodesFile,
    [
      "'node_def:fo_db':",
      '  - resource: {type: dummy, create_delay: 0.2, ready_delay: 0.2}',
      '    health_check: {ping: false}',
      "'node_def:fo_web':",
      '  - resource: {type: dummy, create_delay: 1, ready_delay: 0.3}',
      '    health_check: {ping: false}',
    ].join('\n'),
  );
  writeFileSync(
    infraFile,
    'infra_name: shared\nuser_id: x\nnodes:\n  - &D {name: db, type: fo_db}\n  - &W {name: web, type: fo_web, scaling: {min: 2, max: 6}}\ndependencies:\n  - [*W, *D]\n',
  );
  store = await RedisStore.open(url, 'e2e');
  const imported = box.run(['import', nodesFile]);
  assert.equal(imported.code, 0, imported.stderr);
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await store?.close();
  box.cleanup();
  await deleteKeys(prefix);
});

interface Maintainer {
  proc: ChildProcess;
  stderr: () => string;
}

function maintain(infraId: string, extra: string[] = []): Maintainer {
  const proc = box.spawn([...extra, 'maintain', '-c', '-t', '0.5', '-i', infraId]);
  children.push(proc);
  let err = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (chunk: string) => (err += chunk));
  proc.stdout?.resume();
  return { proc, stderr: () => err };
}

function build(): string {
  const built = box.run(['build', infraFile]);
  assert.equal(built.code, 0, built.stderr);
  const lines = built.stdout.trim().split('\n');
  return (lines[lines.length - 1] ?? '').trim();
}

async function holderPid(infraId: string): Promise<number | null> {
  const lease = await store.getLease(`maintain:${infraId}`);
  const m = lease && /:(\d+):[^:]+$/.exec(lease.holder);
  return m ? Number(m[1]) : null;
}

async function webInstances(infraId: string) {
  return (await store.listInstances(infraId)).filter((r) => r.node_name === 'web');
}

/** Every instance record has exactly one simulated VM and every VM of the infra has a record. */
async function assertNoLeakNoDuplicate(infraId: string): Promise<void> {
  const records = await store.listInstances(infraId);
  const vms = (await listDummyInstances(store)).filter((v) => v.infra_id === infraId);
  const vmNodeIds = vms.map((v) => v.node_id);
  assert.equal(new Set(vmNodeIds).size, vmNodeIds.length, 'no node has two VMs');
  assert.deepEqual([...vmNodeIds].sort(), records.map((r) => r.node_id).sort(), 'VMs and instance records match one to one');
  assert.deepEqual(
    vms.map((v) => v.instance_id).sort(),
    records.map((r) => r.instance_id).sort(),
    'each record names its own VM',
  );
}

async function allReady(infraId: string, webCount: number): Promise<boolean> {
  const records = await store.listInstances(infraId);
  const web = records.filter((r) => r.node_name === 'web');
  return web.length === webCount && records.every((r) => r.lifecycle === 'created' && r.data['addresses'] !== undefined);
}

describe('several maintainers sharing one Redis store', { timeout: 180_000 }, () => {
  test('the second maintainer takes over from one killed with SIGKILL, scales and heals, creating nothing twice', async () => {
    const infraId = build();
    assert.match(infraId, /^[0-9a-f-]{36}$/);
    assert.equal((await webInstances(infraId)).length, 2);

    const a = maintain(infraId);
    await eventually(async () => (await holderPid(infraId)) === a.proc.pid, 15_000, 'maintainer A to hold the lease');
    const b = maintain(infraId);
    await eventually(() => /waiting: .*being maintained by/.test(b.stderr()), 15_000, 'maintainer B to wait for the lease');
    assert.equal(await holderPid(infraId), a.proc.pid);

    a.proc.kill('SIGKILL');
    await eventually(async () => (await holderPid(infraId)) === b.proc.pid, 15_000, 'maintainer B to take over');

    // A scale request made after the take-over is carried out by B.
    const scaled = box.run(['scale', '-i', infraId, '-n', 'web', '-c', '1']);
    assert.equal(scaled.code, 0, scaled.stderr);
    await eventually(() => allReady(infraId, 3), 30_000, 'three ready web instances');

    // A failed VM is replaced by B.
    const victim = (await webInstances(infraId))[0]!;
    assert.equal(await setDummyInstanceState(store, victim.instance_id!, 'failed'), true);
    await eventually(
      async () => (await allReady(infraId, 3)) && !(await webInstances(infraId)).some((r) => r.node_id === victim.node_id),
      30_000,
      'the failed instance to be replaced',
    );
    assert.deepEqual((await store.listFailedInstances(infraId)).map((r) => r.node_id), [victim.node_id]);
    assert.equal(await holderPid(infraId), b.proc.pid, 'B kept the lease throughout');

    // Nothing was created twice: 3 at build, 1 scale-up, 1 replacement, each under its own node id.
    const events = await store.readEvents(infraId);
    const creating = events.filter((e) => e.name === 'nodecreating').map((e) => e.data['node_id']);
    const created = events.filter((e) => e.name === 'nodecreated').map((e) => e.data['node_id']);
    assert.equal(creating.length, 5, JSON.stringify(events.map((e) => e.name)));
    assert.equal(new Set(creating).size, 5);
    assert.deepEqual([...created].sort(), [...creating].sort());
    await assertNoLeakNoDuplicate(infraId);
    assert.ok(!b.stderr().includes('pass failed'), b.stderr());

    b.proc.kill('SIGTERM');
    await new Promise((r) => b.proc.once('exit', r));
    assert.equal(await store.getLease(`maintain:${infraId}`), null, 'a stopped maintainer releases its lease');
  });

  test('a maintainer cut off from Redis during a pass pauses, resumes, and ends with exactly what was asked', async () => {
    const infraId = build();
    const proxy = await TcpProxy.start(REDIS_PORT);
    try {
      const m = maintain(infraId, ['--store', redisUrl(prefix, { port: proxy.port, timeoutMs: 1000 })]);
      await eventually(async () => (await holderPid(infraId)) === m.proc.pid, 15_000, 'the maintainer to hold the lease');

      const scaled = box.run(['scale', '-i', infraId, '-n', 'web', '-c', '2']);
      assert.equal(scaled.code, 0, scaled.stderr);
      // The request is consumed and the first new VM is being created (create_delay 1 s) when the link goes.
      const before = (await store.readEvents(infraId)).length;
      await eventually(
        async () =>
          (await store.peekScalingRequests(infraId)).length === 0 &&
          (await store.readEvents(infraId, before)).some((e) => e.name === 'nodecreating'),
        15_000,
        'the scale-up to start',
      );
      proxy.cut();
      // Longer than the lease: the maintainer must also get its lease back.
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(m.proc.exitCode, null, `the maintainer keeps running:\n${m.stderr()}`);
      assert.match(m.stderr(), new RegExp(`Redis at 127\\.0\\.0\\.1:${proxy.port} is unreachable`));
      proxy.restore();

      await eventually(() => allReady(infraId, 4), 45_000, 'four ready web instances');
      // A pass or two more: the count stays at what was asked for.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await webInstances(infraId)).length, 4);
      await assertNoLeakNoDuplicate(infraId);
      assert.equal(await holderPid(infraId), m.proc.pid);
      assertNoStackTrace(m.stderr());

      m.proc.kill('SIGTERM');
      await new Promise((r) => m.proc.once('exit', r));
    } finally {
      await proxy.close();
    }
  });

  test('occopus store migrate copies a SQLite store to Redis and back', async () => {
    const db = join(box.home, 'local.db');
    const back = join(box.home, 'back.db');
    const target = testPrefix('e2e-migrate');
    const targetUrl = redisUrl(target);
    try {
      const imported = box.run(['--store', `sqlite:${db}`, 'import', nodesFile]);
      assert.equal(imported.code, 0, imported.stderr);
      const built = box.run(['--store', `sqlite:${db}`, 'build', infraFile]);
      assert.equal(built.code, 0, built.stderr);
      const infraId = built.stdout.trim().split('\n').pop()!.trim();

      const there = box.run(['store', 'migrate', '--from', `sqlite:${db}`, '--to', targetUrl]);
      assert.equal(there.code, 0, there.stderr);
      assert.match(there.stdout, /Copied and verified the data of 1 user\(s\):\n {2}e2e: 2 node type\(s\), 1 infrastructure\(s\), 3 instance\(s\)/);

      // The infrastructure is served from Redis now, with its VMs.
      const report = box.run(['--store', targetUrl, '--json', 'maintain', '-r', '-i', infraId]);
      assert.equal(report.code, 0, report.stderr);
      const nodes = (JSON.parse(report.stdout) as { nodes: Record<string, { instances: Record<string, { state: string }> }> }).nodes;
      assert.deepEqual(Object.values(nodes.web!.instances).map((i) => i.state), ['ready', 'ready']);

      const again = box.run(['store', 'migrate', '--from', `sqlite:${db}`, '--to', targetUrl]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already holds data of user 'e2e'; migrate into an empty store/);
      assertNoStackTrace(again.stderr);

      const home = box.run(['--json', 'store', 'migrate', '--from', targetUrl, '--to', `sqlite:${back}`]);
      assert.equal(home.code, 0, home.stderr);
      assert.equal((JSON.parse(home.stdout) as { users: { instances: number }[] }).users[0]!.instances, 3);
      const a = SqliteStore.open(db, 'e2e');
      const b = SqliteStore.open(back, 'e2e');
      try {
        assert.deepEqual(await b.exportUser('e2e'), await a.exportUser('e2e'));
      } finally {
        await a.close();
        await b.close();
      }
    } finally {
      await deleteKeys(target);
    }
  });
});
