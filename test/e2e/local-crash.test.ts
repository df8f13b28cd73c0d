/**
 * Crash safety on the local driver: a build killed with SIGKILL at several points, then the next
 * `occopus-maintain` pass (or `occopus-destroy`) leaves no orphan process and no stale record;
 * Ctrl+C rolls a build back; two maintainers never both act.
 */
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readlinkSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { localEnv, eventually } from '../helpers/local-env.js';
import type { InfraReport } from '../../src/enactor/report.js';

const env = localEnv({ lease_ttl: 2 });
after(() => {
  for (const pid of env.processes()) process.kill(pid, 'SIGKILL');
  env.cleanup();
});

const nodes = join(env.home, 'nodes.yaml');
const infra = join(env.home, 'infra.yaml');
before(() => {
  // Each node takes ~0.6 s to open its port, which leaves windows to crash the build in.
  const def = (name: string) =>
    [
      `'node_def:${name}':`,
      '  - resource: {type: local}',
      '    contextualisation:',
      '      type: docker',
      '      env: []',
      '      command:',
      '        - node',
      '        - -e',
      "        - setTimeout(() => require('net').createServer(() => {}).listen(7000, process.env.OCCOPUS_NODE_IP), 600)",
      '    health_check: {ping: false, ports: [7000], timeout: 20}',
    ].join('\n');
  writeFileSync(nodes, `${def('first')}\n${def('second')}\n`);
  writeFileSync(
    infra,
    'infra_name: crashy\nuser_id: x\nnodes:\n  - &A {name: a, type: first}\n  - &B {name: b, type: second, scaling: {min: 2, max: 5}}\ndependencies:\n  - [*B, *A]\n',
  );
  const r = env.run(['import', nodes]);
  assert.equal(r.code, 0, r.stderr);
});

function report(infraId: string): InfraReport {
  const r = env.run(['maintain', '--json', '-r', '-i', infraId]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as InfraReport;
}

function readyCount(infraId: string, node: string): number {
  return Object.values(report(infraId).nodes[node]?.instances ?? {}).filter((i) => i.state === 'ready').length;
}

/** Node ids of the live node processes of an infrastructure (from their working directories). */
function liveNodeIds(infraId: string): string[] {
  const ids = new Set<string>();
  for (const pid of env.processes()) {
    try {
      const [infraDir, nodeId] = relative(env.baseDir, readlinkSync(`/proc/${pid}/cwd`)).split('/');
      if (infraDir === infraId && nodeId) ids.add(nodeId);
    } catch {
      // exited meanwhile
    }
  }
  return [...ids].sort();
}

/** Starts a build and SIGKILLs it when its progress output matches `trigger`; returns the infra id. */
async function buildKilledAt(trigger: RegExp): Promise<string> {
  const child: ChildProcess = env.spawn(['build', infra]);
  let stderr = '';
  let infraId = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      infraId ||= /building infrastructure ([0-9a-f-]{36})/.exec(stderr)?.[1] ?? '';
      if (infraId && trigger.test(stderr)) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', () => reject(new Error(`build ended before '${trigger.source}':\n${stderr}`)));
  });
  await new Promise((r) => child.once('exit', r));
  assert.match(infraId, /^[0-9a-f-]{36}$/);
  return infraId;
}

describe('a build killed with SIGKILL', () => {
  const points: Array<[string, RegExp]> = [
    ['as soon as the description is stored', /building infrastructure/],
    ['while the first node boots', /a: creating instance/],
    ['after the first level, while the second boots', /b: creating instance [0-9a-f]{8}\n(.|\n)*b: creating instance/],
  ];
  for (const [when, trigger] of points) {
    test(`${when}: the next maintain pass completes it with no orphan and no stale record`, async () => {
      const infraId = await buildKilledAt(trigger);
      const pass = env.run(['maintain', '-i', infraId]);
      assert.equal(pass.code, 0, pass.stderr);
      const rep = report(infraId);
      const recorded = Object.values(rep.nodes).flatMap((n) => Object.keys(n.instances)).sort();
      assert.equal(rep.nodes.a?.scaling.actual, 1);
      assert.equal(rep.nodes.b?.scaling.actual, 2);
      for (const n of Object.values(rep.nodes)) for (const i of Object.values(n.instances)) assert.equal(i.state, 'ready');
      await eventually(() => JSON.stringify(liveNodeIds(infraId)) === JSON.stringify(recorded), 10_000, 'only recorded instances to run');

      const destroyed = env.run(['destroy', '-i', infraId]);
      assert.equal(destroyed.code, 0, destroyed.stderr);
      await eventually(() => liveNodeIds(infraId).length === 0, 10_000, 'every process to exit');
    });
  }

  test('while the first node boots: occopus-destroy alone cleans up', async () => {
    const infraId = await buildKilledAt(/a: creating instance/);
    const destroyed = env.run(['destroy', '-i', infraId]);
    assert.equal(destroyed.code, 0, destroyed.stderr);
    await eventually(() => liveNodeIds(infraId).length === 0, 10_000, 'every process to exit');
    assert.doesNotMatch(env.run(['maintain', '-l']).stdout, new RegExp(infraId));
  });
});

describe('Ctrl+C during a build', () => {
  test('rolls back what the build created and exits 130', async () => {
    const child = env.spawn(['build', infra]);
    let stderr = '';
    let infraId = '';
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await new Promise<void>((resolve) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        infraId ||= /building infrastructure ([0-9a-f-]{36})/.exec(stderr)?.[1] ?? '';
        if (/b: creating instance/.test(stderr)) resolve();
      });
    });
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    assert.match(stderr, /rolling back/);
    assert.match(stderr, /everything it created was destroyed/);
    await eventually(() => liveNodeIds(infraId).length === 0, 10_000, 'no process left');
    assert.doesNotMatch(env.run(['maintain', '-l']).stdout, new RegExp(infraId));
  });
});

describe('two maintainers on one infrastructure', () => {
  test('only the lease holder acts; the other takes over when it stops', async () => {
    const built = env.run(['build', infra]);
    assert.equal(built.code, 0, built.stderr);
    const infraId = env.infraIdOf(built.stdout);

    const a = env.spawn(['maintain', '-i', infraId, '-c', '-t', '0.3']);
    const b = env.spawn(['maintain', '-i', infraId, '-c', '-t', '0.3']);
    // Whatever happens, the maintainers must not outlive the test (their pipes would keep it running).
    after(() => {
      a.kill('SIGKILL');
      b.kill('SIGKILL');
    });
    let aErr = '';
    a.stderr?.on('data', (c: Buffer) => (aErr += c.toString()));
    let bErr = '';
    b.stderr?.on('data', (c: Buffer) => (bErr += c.toString()));
    await eventually(() => /is being maintained by maintain@/.test(bErr + aErr), 10_000, 'one maintainer to wait for the lease');
    // Whichever got the lease first is the active one.
    const [active, standby] = /is being maintained by maintain@/.test(bErr) ? [a, b] : [b, a];
    const errOf = (p: typeof a) => (p === a ? aErr : bErr);

    assert.equal(env.run(['scale', '-i', infraId, '-n', 'b', '-c', '2']).code, 0);
    await eventually(() => readyCount(infraId, 'b') === 4, 20_000, 'the scale-up');
    await new Promise((r) => setTimeout(r, 300)); // let the maintainers' output in (spawnSync blocked the loop)
    assert.match(errOf(active), /b: creating instance/, `active:\n${errOf(active)}\nstandby:\n${errOf(standby)}`);
    assert.doesNotMatch(errOf(standby), /creating instance/, 'the waiting maintainer did not act');
    assert.equal(liveNodeIds(infraId).length, 5, 'no instance was created twice');

    active.kill('SIGTERM');
    await new Promise((r) => active.once('exit', r));
    assert.equal(env.run(['scale', '-i', infraId, '-n', 'b', '-c', '-1']).code, 0);
    await eventually(() => report(infraId).nodes.b?.scaling.actual === 3, 20_000, 'the takeover to scale down');
    await new Promise((r) => setTimeout(r, 300));
    assert.match(errOf(standby), /b: dropping instance/);

    standby.kill('SIGTERM');
    await new Promise((r) => standby.once('exit', r));
    assert.equal(env.run(['destroy', '-i', infraId]).code, 0);
    await eventually(() => liveNodeIds(infraId).length === 0, 10_000, 'every process to exit');
  });
});
