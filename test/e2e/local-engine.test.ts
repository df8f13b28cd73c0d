/**
 * The main job end to end on the embedded `local` driver, driven through the CLI as a user would:
 * build, report, scale (by count, node id and address), heal, reconfigure with -i, destroy —
 * checking real processes, addresses and ports.
 */
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, assertNoStackTrace } from '../helpers/cli.js';
import { localEnv, eventually } from '../helpers/local-env.js';
import type { InfraReport } from '../../src/enactor/report.js';

const example = join(repoRoot, 'examples', 'local-hello');
const env = localEnv();
after(() => {
  for (const pid of env.processes()) process.kill(pid, 'SIGKILL');
  env.cleanup();
});

function report(infraId: string): InfraReport {
  const r = env.run(['maintain', '--json', '-r', '-i', infraId]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as InfraReport;
}
function instancesOf(rep: InfraReport, node: string): Array<{ id: string; address: string; state: string }> {
  return Object.entries(rep.nodes[node]?.instances ?? {}).map(([id, i]) => ({
    id,
    address: Array.isArray(i.resource_address) ? (i.resource_address[0] as string) : (i.resource_address as string),
    state: i.state,
  }));
}
async function httpGet(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return res.text();
}
function maintainOnce(infraId: string): void {
  const r = env.run(['maintain', '-i', infraId]);
  assert.equal(r.code, 0, r.stderr);
}

describe('an infrastructure on the local driver', () => {
  let infraId = '';

  before(() => {
    const imported = env.run(['import', join(example, 'nodes', 'node_definitions.yaml')]);
    assert.equal(imported.code, 0, imported.stderr);
  });

  test('builds level by level: the client reaches the server through getip', async () => {
    const built = env.run(['build', '--parallelize', join(example, 'infra-local-hello.yaml')]);
    assert.equal(built.code, 0, built.stderr);
    infraId = env.infraIdOf(built.stdout);
    assert.match(infraId, /^[0-9a-f-]{36}$/);
    assert.match(built.stdout, /^server:\n {2}[0-9a-f-]{36}: ready\n {4}127\.\d+\.\d+\.\d+$/m);
    // The server was ready before the client was created.
    assert.ok(built.stderr.indexOf('server: instance') < built.stderr.indexOf('client: creating'), built.stderr);

    const rep = report(infraId);
    const [server] = instancesOf(rep, 'server');
    const [client] = instancesOf(rep, 'client');
    assert.ok(server && client);
    assert.notEqual(server.address, client.address, 'each node has its own loopback address');
    assert.equal(await httpGet(`http://${server.address}:8080/`), 'Hello World! I have been created by occopus.\n');
    assert.equal(await httpGet(`http://${client.address}:8080/`), 'server said: Hello World! I have been created by occopus.\n');
    assert.equal(env.processes().length >= 2, true, 'the node processes outlive the build command');
  });

  test('lists it', () => {
    const r = env.run(['maintain', '-l']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`List of active infrastructure:\\n${infraId}`));
  });

  test('scales up by count and down by node id', async () => {
    const up = env.run(['scale', '-i', infraId, '-n', 'client', '-c', '2']);
    assert.equal(up.code, 0, up.stderr);
    maintainOnce(infraId);
    const clients = instancesOf(report(infraId), 'client');
    assert.equal(clients.length, 3);
    for (const c of clients) assert.match(await httpGet(`http://${c.address}:8080/`), /^server said: Hello/);

    const victim = clients[1] as { id: string; address: string };
    const down = env.run(['scale', '-i', infraId, '-n', 'client', '-f', victim.id]);
    assert.equal(down.code, 0, down.stderr);
    maintainOnce(infraId);
    const after = instancesOf(report(infraId), 'client');
    assert.equal(after.length, 2);
    assert.ok(!after.some((c) => c.id === victim.id), 'the named instance was dropped');
    await assert.rejects(httpGet(`http://${victim.address}:8080/`));
  });

  test('scales down by address, and says what a request beyond max does', () => {
    const beyond = env.run(['scale', '-i', infraId, '-n', 'client', '-c', '5']);
    assert.equal(beyond.code, 0);
    assert.match(beyond.stderr, /at most 3 instance\(s\)/);
    maintainOnce(infraId);
    const clients = instancesOf(report(infraId), 'client');
    assert.equal(clients.length, 3);

    const victim = clients[0] as { id: string; address: string };
    const down = env.run(['scale', '-i', infraId, '-n', 'client', '-f', victim.address]);
    assert.equal(down.code, 0, down.stderr);
    const set = env.run(['scale', '-i', infraId, '-n', 'client', '-s', '1']);
    assert.equal(set.code, 0, set.stderr);
    maintainOnce(infraId);
    const after = instancesOf(report(infraId), 'client');
    assert.equal(after.length, 1);
    assert.ok(!after.some((c) => c.id === victim.id));
  });

  test('rejects scaling of an unknown node or infrastructure', () => {
    const node = env.run(['scale', '-i', infraId, '-n', 'ghost', '-c', '1']);
    assert.equal(node.code, 1);
    assert.match(node.stderr, /node 'ghost' does not exist/);
    const infra = env.run(['scale', '-i', 'nope', '-n', 'client', '-c', '1']);
    assert.equal(infra.code, 1);
    assert.match(infra.stderr, /unknown infrastructure 'nope'/);
    const zero = env.run(['scale', '-i', infraId, '-n', 'client', '-c', '0']);
    assert.equal(zero.code, 1);
  });

  test('heals: a killed node process is replaced', async () => {
    const [server] = instancesOf(report(infraId), 'server');
    assert.ok(server);
    const record = JSON.parse(readFileSync(join(env.baseDir, infraId, server.id, 'instance.json'), 'utf8')) as { pid: number };
    process.kill(-record.pid, 'SIGKILL');
    await eventually(() => instancesOf(report(infraId), 'server')[0]?.state !== 'ready', 10_000, 'the server to be seen down');
    maintainOnce(infraId);
    const [replacement] = instancesOf(report(infraId), 'server');
    assert.ok(replacement);
    assert.notEqual(replacement.id, server.id);
    assert.equal(replacement.state, 'ready');
    assert.match(await httpGet(`http://${replacement.address}:8080/`), /^Hello World/);
  });

  test('reconfigures with -i: adds a node type and removes one', async () => {
    const extraNodes = join(env.home, 'extra-nodes.yaml');
    writeFileSync(
      extraNodes,
      "'node_def:local_extra':\n  - resource: {type: local}\n    contextualisation:\n      type: docker\n      env: []\n      command: exec sleep 600\n    health_check: {ping: false}\n",
    );
    assert.equal(env.run(['import', extraNodes]).code, 0);
    const changed = join(env.home, 'infra-changed.yaml');
    writeFileSync(
      changed,
      'infra_name: local-hello\nuser_id: somebody@example.com\nnodes:\n  - {name: server, type: local_hello_server}\n  - {name: extra, type: local_extra}\n',
    );
    const before = instancesOf(report(infraId), 'server')[0];
    const r = env.run(['build', '-i', infraId, changed]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(env.infraIdOf(r.stdout), infraId);
    const rep = report(infraId);
    assert.deepEqual(Object.keys(rep.nodes).sort(), ['extra', 'server']);
    assert.equal(instancesOf(rep, 'server')[0]?.id, before?.id, 'the kept node was not rebuilt');
    assert.equal(instancesOf(rep, 'extra')[0]?.state, 'ready');
  });

  test('a failing reconfiguration leaves the running infrastructure alone', () => {
    const broken = join(env.home, 'infra-broken-update.yaml');
    writeFileSync(broken, 'infra_name: local-hello\nuser_id: x\nnodes:\n  - {name: server, type: local_hello_server}\n  - {name: extra, type: local_extra}\n  - {name: nope, type: never_imported}\n');
    const r = env.run(['build', '-i', infraId, broken]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /keeps running with its previous description/);
    assertNoStackTrace(r.stderr);
    const rep = report(infraId);
    assert.deepEqual(Object.keys(rep.nodes).sort(), ['extra', 'server']);
    assert.equal(instancesOf(rep, 'server')[0]?.state, 'ready');
  });

  test('destroys it: no process, no record left', async () => {
    const r = env.run(['destroy', '-i', infraId]);
    assert.equal(r.code, 0, r.stderr);
    await eventually(() => env.processes().length === 0, 10_000, 'every node process to exit');
    assert.match(env.run(['maintain', '-l']).stdout, /No active infrastructure!/);
    const again = env.run(['destroy', '-i', infraId]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /unknown infrastructure/);
  });
});

describe('faults during a build', () => {
  const nodes = join(env.home, 'fault-nodes.yaml');
  before(() => {
    writeFileSync(
      nodes,
      [
        "'node_def:ok_node':",
        '  - resource: {type: local}',
        '    contextualisation: {type: docker, env: [], command: exec sleep 600}',
        '    health_check: {ping: false}',
        "'node_def:exits_at_once':",
        '  - resource: {type: local}',
        '    contextualisation: {type: docker, env: [], command: exit 3}',
        '    health_check: {ping: false}',
        "'node_def:never_healthy':",
        '  - resource: {type: local}',
        '    contextualisation: {type: docker, env: [], command: exec sleep 600}',
        '    health_check: {ping: false, ports: [9], timeout: 1}',
        '',
      ].join('\n'),
    );
    assert.equal(env.run(['import', nodes]).code, 0);
  });

  for (const [type, message] of [
    ['exits_at_once', /node has failed \(state=shutdown\)/],
    ['never_healthy', /(not ready after 3s|node has failed \(state=failed\)).*port 9/],
  ] as const) {
    test(`a node that ${type.replace(/_/g, ' ')} fails the build and leaves nothing behind`, async () => {
      const infra = join(env.home, `infra-${type}.yaml`);
      writeFileSync(
        infra,
        `infra_name: faulty\nuser_id: x\nnodes:\n  - &A {name: good, type: ok_node}\n  - &B {name: bad, type: ${type}, create_timeout: 3}\ndependencies:\n  - [*B, *A]\n`,
      );
      const r = env.run(['build', infra]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /build of '[0-9a-f-]+' failed, everything it created was destroyed/);
      assert.match(r.stderr, message);
      assertNoStackTrace(r.stderr);
      await eventually(() => env.processes().length === 0, 10_000, 'no orphan process');
      assert.match(env.run(['maintain', '-l']).stdout, /No active infrastructure!/);
    });
  }
});
