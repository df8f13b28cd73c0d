import { after, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultConfig, type OccopusConfig } from '../../src/config/config.js';
import type { ResourceSection } from '../../src/descriptors/types.js';
import localDriver, { listLocalInstances, localBaseDir } from '../../src/drivers/local/index.js';
import type { CreatedInstance, InstanceHandle, ResourceHandler, ResourceState } from '../../src/drivers/resource-handler.js';
import type { ResolvedNode } from '../../src/resolution/resolve.js';
import { MemoryStore } from '../../src/store/memory.js';
import type { Store } from '../../src/store/store.js';
import { driverConformance } from './conformance.js';
import { cloudinitNode, dockerNode, recordingLog, resolvedNode, type RecordingLog } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'occopus-local-driver-'));
const resource: ResourceSection = { type: 'local' };
const infraId = randomUUID();
const repoRoot = resolve(import.meta.dirname, '..', '..');

/** A /24 of its own per run, so parallel test files never hand out the same address. */
function freshRange(): string {
  return `127.${2 + Math.floor(Math.random() * 70)}.${Math.floor(Math.random() * 256)}.0/24`;
}

/** Working directories (even deleted ones) of live processes, by pid. */
function liveCwds(): Map<number, string> {
  const cwds = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`).replace(/ \(deleted\)$/, '');
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.[0];
      if (state !== 'Z') cwds.set(Number(entry), cwd);
    } catch {
      // gone meanwhile
    }
  }
  return cwds;
}

/** Live processes whose working directory is inside `dir`: instances that were not stopped. */
function processesUnder(dir: string): number[] {
  return [...liveCwds()].filter(([, cwd]) => cwd === dir || cwd.startsWith(dir + '/')).map(([pid]) => pid);
}

/** Instances under `base` that still exist, as a directory or as running processes (orphans). */
function instancesUnder(base: string): number {
  const present = new Set(listLocalInstances(base).map((i) => i.dir));
  for (const cwd of liveCwds().values()) {
    if (!cwd.startsWith(base + '/')) continue;
    const [infra, node] = cwd.slice(base.length + 1).split('/');
    if (infra && node) present.add(join(base, infra, node));
  }
  return present.size;
}

function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

async function eventually<T>(probe: () => Promise<T> | T, ok: (v: T) => boolean, what: string, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Env {
  base: string;
  range: string;
  store: Store;
  log: RecordingLog;
  handler(overrides?: Partial<OccopusConfig['drivers']['local']>): ResourceHandler;
}

function env(name: string, storeOverride?: Store): Env {
  const base = join(root, name);
  const range = freshRange();
  const store = storeOverride ?? new MemoryStore('tester');
  const log = recordingLog();
  return {
    base,
    range,
    store,
    log,
    handler(overrides = {}) {
      const config = structuredClone(defaultConfig);
      config.drivers.local = { base_dir: base, address_range: range, stop_grace: 2, ...overrides };
      return localDriver.createHandler(resource, { auth: null, store, config, log });
    },
  };
}

const signal = (): AbortSignal => new AbortController().signal;

function handleOf(node: ResolvedNode, created: CreatedInstance): InstanceHandle {
  return { node_id: node.node_id, infra_id: node.infra_id, instance_id: created.instance_id, resource, driver_data: created.driver_data ?? {} };
}

async function start(h: ResourceHandler, node: ResolvedNode): Promise<InstanceHandle> {
  return handleOf(node, await h.create(node, { idempotencyKey: node.node_id, signal: signal() }));
}

function dirOf(e: Env, handle: InstanceHandle): string {
  return join(e.base, handle.infra_id, handle.node_id);
}

function pidOf(handle: InstanceHandle): number {
  const pid = handle.driver_data['pid'];
  assert.equal(typeof pid, 'number');
  return pid as number;
}

async function waitState(h: ResourceHandler, handle: InstanceHandle, state: ResourceState): Promise<void> {
  await eventually(() => h.getState(handle), (s) => s === state, `state ${state}`);
}

async function waitForFile(path: string): Promise<string> {
  return eventually(
    () => (existsSync(path) ? readFileSync(path, 'utf8') : ''),
    (t) => t.length > 0,
    `${path} to be written`,
  );
}

after(() => {
  rmSync(root, { recursive: true, force: true });
});

driverConformance('local', async () => {
  const e = env(`conformance-${randomUUID()}`);
  return {
    createHandler: () => e.handler(),
    resolvedNode: (nodeId) => resolvedNode(resource, infraId, nodeId),
    infraId,
    resource,
    cleanup: async () => {
      for (const pid of processesUnder(e.base)) process.kill(pid, 'SIGKILL');
      await e.store.close();
    },
    leftovers: async () => instancesUnder(e.base),
  };
});

describe('local driver: docker-form contextualisation', () => {
  const e = env('docker');
  const h = e.handler();

  it('gives the node its own loopback address, on which its command serves a TCP port', async () => {
    const script = `
      const fs = require('fs');
      fs.writeFileSync('ip.txt', process.env.OCCOPUS_NODE_IP);
      require('net').createServer((s) => s.end('hello from ' + process.env.OCCOPUS_NODE_NAME)).listen(7070, process.env.OCCOPUS_NODE_IP);`;
    const node = dockerNode(resource, infraId, randomUUID(), ['node', '-e', script]);
    node.name = 'server';
    const handle = await start(h, node);
    const { public: [ip], private: [privateIp] } = await h.getAddresses(handle);
    assert.ok(ip && ip.startsWith(e.range.split('.').slice(0, 3).join('.') + '.'), `${ip} is not in ${e.range}`);
    assert.equal(privateIp, ip);
    assert.equal(await waitForFile(join(dirOf(e, handle), 'ip.txt')), ip);
    const reply = await eventually(
      () =>
        new Promise<string>((resolveReply) => {
          const socket = connect(7070, ip);
          let data = '';
          socket.on('data', (c) => (data += c));
          socket.on('end', () => resolveReply(data));
          socket.on('error', () => resolveReply(''));
        }),
      (r) => r !== '',
      'the node to serve its port',
    );
    assert.equal(reply, 'hello from server');
    const stat = statSync(dirOf(e, handle));
    assert.equal(stat.mode & 0o777, 0o700, 'the instance directory is private');
    await h.drop(handle);
  });

  it('runs a string command through /bin/sh -c and a list command without a shell', async () => {
    const shellNode = dockerNode(resource, infraId, randomUUID(), 'echo "$OCCOPUS_NODE_ID" > sh.txt; exec sleep 300');
    const listNode = dockerNode(resource, infraId, randomUUID(), [
      'node',
      '-e',
      "require('fs').writeFileSync('argv.json', JSON.stringify(process.argv.slice(1))); setInterval(() => {}, 1000)",
      '$HOME',
      "it's; touch pwned",
      'a b',
    ]);
    const [shellHandle, listHandle] = await Promise.all([start(h, shellNode), start(h, listNode)]);
    assert.equal((await waitForFile(join(dirOf(e, shellHandle), 'sh.txt'))).trim(), shellNode.node_id);
    const argv = JSON.parse(await waitForFile(join(dirOf(e, listHandle), 'argv.json'))) as string[];
    assert.deepEqual(argv, ['$HOME', "it's; touch pwned", 'a b']);
    assert.equal(existsSync(join(dirOf(e, listHandle), 'pwned')), false);
    await Promise.all([h.drop(shellHandle), h.drop(listHandle)]);
  });

  it('gives the process a minimal environment with the node facts and the docker env entries', async () => {
    process.env['OCCOPUS_TEST_SECRET'] = 'must-not-leak';
    try {
      const node = dockerNode(
        resource,
        infraId,
        randomUUID(),
        ['node', '-e', "require('fs').writeFileSync('env.json', JSON.stringify(process.env)); setInterval(() => {}, 1000)"],
        ['GREETING=hello world', 'EQUALS=a=b', 'EMPTY='],
      );
      node.name = 'envnode';
      const handle = await start(h, node);
      const dir = dirOf(e, handle);
      const childEnv = JSON.parse(await waitForFile(join(dir, 'env.json'))) as Record<string, string>;
      const [ip] = (await h.getAddresses(handle)).public;
      assert.equal(childEnv['GREETING'], 'hello world');
      assert.equal(childEnv['EQUALS'], 'a=b');
      assert.equal(childEnv['EMPTY'], '');
      assert.equal(childEnv['HOME'], dir);
      assert.equal(childEnv['OCCOPUS_NODE_IP'], ip);
      assert.equal(childEnv['OCCOPUS_NODE_ID'], node.node_id);
      assert.equal(childEnv['OCCOPUS_NODE_NAME'], 'envnode');
      assert.equal(childEnv['OCCOPUS_INFRA_ID'], infraId);
      assert.ok(childEnv['PATH']);
      assert.equal(childEnv['OCCOPUS_TEST_SECRET'], undefined, "the orchestrator's environment leaked into the node");
      await h.drop(handle);
    } finally {
      delete process.env['OCCOPUS_TEST_SECRET'];
    }
  });

  it('a command that cannot be started fails the create and leaves nothing, its address included', async () => {
    const tiny = env('tiny');
    // A /30 has exactly two usable addresses: if the failed create kept one, the second create below fails.
    const config = structuredClone(defaultConfig);
    config.drivers.local = { base_dir: tiny.base, address_range: '127.3.3.0/30', stop_grace: 1 };
    const th = localDriver.createHandler(resource, { auth: null, store: tiny.store, config, log: tiny.log });
    const bad = dockerNode(resource, infraId, randomUUID(), ['/nonexistent/program']);
    await assert.rejects(th.create(bad, { idempotencyKey: bad.node_id, signal: signal() }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'E_DRIVER');
      assert.match(err.message, /nonexistent/);
      return true;
    });
    assert.deepEqual(listLocalInstances(tiny.base), []);
    const a = await start(th, resolvedNode(resource, infraId, randomUUID()));
    const b = await start(th, resolvedNode(resource, infraId, randomUUID()));
    const addresses = [(await th.getAddresses(a)).public[0], (await th.getAddresses(b)).public[0]].sort();
    assert.deepEqual(addresses, ['127.3.3.1', '127.3.3.2']);
    const third = resolvedNode(resource, infraId, randomUUID());
    await assert.rejects(th.create(third, { idempotencyKey: third.node_id, signal: signal() }), /every address/);
    assert.equal(listLocalInstances(tiny.base).length, 2, 'the refused create left its directory behind');
    await th.drop(a);
    // The dropped instance's address is free again.
    const c = await start(th, third);
    assert.ok((await th.getAddresses(c)).public[0]);
    await Promise.all([th.drop(b), th.drop(c)]);
    assert.deepEqual(processesUnder(tiny.base), []);
  });

  it('an instance outlives the command that created it, and another process can drop it', async () => {
    const dbDir = mkdtempSync(join(root, 'db-'));
    const { SqliteStore } = await import('../../src/store/sqlite.js');
    const dbFile = join(dbDir, 'state.db');
    const shared = env('outlive', SqliteStore.open(dbFile, 'tester'));
    const nodeId = randomUUID();
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'test', 'drivers', 'local-child.ts'), shared.base, dbFile, shared.range, infraId, nodeId],
      { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 },
    );
    const created = JSON.parse(out.trim()) as CreatedInstance;
    const node = resolvedNode(resource, infraId, nodeId);
    const handle = handleOf(node, created);
    assert.ok(alive(pidOf(handle)), 'the instance died with the command that created it');
    const sh = shared.handler();
    await waitState(sh, handle, 'ready');
    assert.equal((await sh.find(nodeId, { infra_id: infraId, resource }))?.instance_id, created.instance_id);
    await sh.drop(handle);
    assert.equal(alive(pidOf(handle)), false);
    assert.equal(await sh.getState(handle), 'unknown');
    await shared.store.close();
  });
});

describe('local driver: cloud-init subset', () => {
  const e = env('cloudinit');
  const h = e.handler();

  it('writes write_files under the instance root with their permissions and encodings', async () => {
    const unique = `occopus-test-${randomUUID()}`;
    const context = [
      '#cloud-config',
      'write_files:',
      `- path: /tmp/${unique}.txt`,
      '  content: "hello\\n"',
      "  permissions: '0600'",
      '- path: /opt/app/run.sh',
      '  encoding: b64',
      `  content: ${Buffer.from('#!/bin/sh\necho hi\n').toString('base64')}`,
      '  permissions: 0755',
      '- path: ../../../escape.txt',
      '  content: contained',
    ].join('\n');
    const handle = await start(h, cloudinitNode(resource, infraId, randomUUID(), context));
    const rootDir = join(dirOf(e, handle), 'root');
    const txt = join(rootDir, 'tmp', `${unique}.txt`);
    assert.equal(readFileSync(txt, 'utf8'), 'hello\n');
    assert.equal(statSync(txt).mode & 0o777, 0o600);
    assert.equal(existsSync(join('/tmp', `${unique}.txt`)), false, 'a cloud-init file escaped to the real /tmp');
    const script = join(rootDir, 'opt', 'app', 'run.sh');
    assert.equal(readFileSync(script, 'utf8'), '#!/bin/sh\necho hi\n');
    assert.equal(statSync(script).mode & 0o777, 0o755);
    assert.equal(readFileSync(join(rootDir, 'escape.txt'), 'utf8'), 'contained');
    assert.deepEqual(e.log.warnings, []);
    await h.drop(handle);
  });

  it('runs runcmd in order, quoting list items, and then stays running like a VM', async () => {
    const context = [
      '#cloud-config',
      'runcmd:',
      '- echo one >> order.txt',
      '- [sh, -c, "echo two >> order.txt"]',
      `- [sh, -c, 'printf "%s|" "$@" > args.txt', sh, '$(touch pwned)', "it's", 'a b']`,
      "- echo 'three' >> order.txt",
    ].join('\n');
    const handle = await start(h, cloudinitNode(resource, infraId, randomUUID(), context));
    const dir = dirOf(e, handle);
    await eventually(() => (existsSync(join(dir, 'order.txt')) ? readFileSync(join(dir, 'order.txt'), 'utf8') : ''), (t) => t.includes('three'), 'runcmd');
    assert.equal(readFileSync(join(dir, 'order.txt'), 'utf8'), 'one\ntwo\nthree\n');
    assert.equal(readFileSync(join(dir, 'args.txt'), 'utf8'), "$(touch pwned)|it's|a b|");
    assert.equal(existsSync(join(dir, 'pwned')), false, 'a runcmd list item reached a shell unquoted');
    await waitState(h, handle, 'ready');
    await h.drop(handle);
  });

  it('runs a #! user-data script, then stays running', async () => {
    const handle = await start(h, cloudinitNode(resource, infraId, randomUUID(), '#!/bin/sh\necho "script ran" > script.txt\n'));
    assert.equal(await waitForFile(join(dirOf(e, handle), 'script.txt')), 'script ran\n');
    await new Promise((r) => setTimeout(r, 200));
    await waitState(h, handle, 'ready');
    await h.drop(handle);
  });

  it('warns once, naming every cloud-config key it does not support', async () => {
    const log = recordingLog();
    const config = structuredClone(defaultConfig);
    config.drivers.local = { base_dir: e.base, address_range: e.range, stop_grace: 1 };
    const wh = localDriver.createHandler(resource, { auth: null, store: e.store, config, log });
    const context = '#cloud-config\npackages: [nginx]\nbootcmd: [echo hi]\nwrite_files:\n- path: /x\n  content: y\n  owner: root:root\n';
    const handle = await start(wh, cloudinitNode(resource, infraId, randomUUID(), context));
    assert.equal(log.warnings.length, 1, log.warnings.join('\n'));
    assert.match(log.warnings[0] ?? '', /packages/);
    assert.match(log.warnings[0] ?? '', /bootcmd/);
    assert.match(log.warnings[0] ?? '', /owner/);
    assert.doesNotMatch(log.warnings[0] ?? '', /write_files,/);
    await wh.drop(handle);
  });

  it('refuses a malformed write_files entry with a typed error naming the field, leaving nothing', async () => {
    const before = listLocalInstances(e.base).length;
    const node = cloudinitNode(resource, infraId, randomUUID(), "#cloud-config\nwrite_files:\n- path: /x\n  permissions: 'rw-r--r--'\n");
    await assert.rejects(h.create(node, { idempotencyKey: node.node_id, signal: signal() }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'E_DRIVER');
      assert.match(err.message, /write_files\[0\]\.permissions/);
      return true;
    });
    assert.equal(listLocalInstances(e.base).length, before);
  });
});

describe('local driver: lifecycle and process safety', () => {
  const e = env('lifecycle');

  it('a node whose process was killed is shutdown, and find still returns it', async () => {
    const h = e.handler();
    const node = resolvedNode(resource, infraId, randomUUID());
    const handle = await start(h, node);
    await waitState(h, handle, 'ready');
    process.kill(-pidOf(handle), 'SIGKILL');
    await waitState(h, handle, 'shutdown');
    assert.equal((await h.find(node.node_id, { infra_id: infraId, resource }))?.instance_id, handle.instance_id);
    await h.drop(handle);
    assert.equal(await h.getState(handle), 'unknown');
  });

  it('never signals a live process whose start time is not the recorded one (pid reuse)', async () => {
    const h = e.handler();
    const stranger = spawn('sleep', ['300'], { stdio: 'ignore', detached: true });
    const pid = stranger.pid;
    assert.ok(pid);
    try {
      const nodeId = randomUUID();
      const dir = join(e.base, infraId, nodeId);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const fake = { node_id: nodeId, infra_id: infraId, node_name: 'web', address: null, pid, start_time: '1', created_at: Date.now() };
      writeFileSync(join(dir, 'instance.json'), JSON.stringify(fake));
      const found = await h.find(nodeId, { infra_id: infraId, resource });
      assert.ok(found);
      const handle = handleOf(resolvedNode(resource, infraId, nodeId), found);
      assert.equal(await h.getState(handle), 'shutdown', 'a stranger process was taken for the instance');
      await h.drop(handle);
      assert.equal(existsSync(dir), false);
      assert.ok(alive(pid), 'drop killed a process that was not ours');
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  it('drop sends SIGTERM to the whole group, then SIGKILL after the grace period', async () => {
    const graceSeconds = 0.6;
    const h = e.handler({ stop_grace: graceSeconds });
    const marker = join(mkdtempSync(join(root, 'marker-')), 'term.txt');
    // The shell ignores nothing but traps TERM, so only SIGKILL ends it; its `sleep` children die on TERM.
    const node = dockerNode(resource, infraId, randomUUID(), `trap "echo TERM >> '${marker}'" TERM; while :; do sleep 0.1; done`);
    const handle = await start(h, node);
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await h.drop(handle);
    const took = Date.now() - started;
    assert.equal(alive(pidOf(handle)), false, 'the process survived the drop');
    assert.match(await waitForFile(marker), /TERM/, 'SIGTERM was not sent first');
    assert.ok(took >= graceSeconds * 1000 * 0.9, `SIGKILL came before the grace period ended (${took} ms)`);
    assert.equal(await h.getState(handle), 'unknown');
  });

  it('drop also stops processes the node left behind in its group after its main process ended', async () => {
    const h = e.handler();
    const node = dockerNode(resource, infraId, randomUUID(), 'sleep 300 & echo $! > child.pid');
    const handle = await start(h, node);
    const childPid = Number((await waitForFile(join(dirOf(e, handle), 'child.pid'))).trim());
    await waitState(h, handle, 'shutdown');
    assert.ok(alive(childPid));
    await h.drop(handle);
    assert.equal(alive(childPid), false, 'a background process of the node survived its drop');
  });

  it('creates under ~/.occopus/local by default, following $HOME', () => {
    const saved = process.env['HOME'];
    process.env['HOME'] = '/home/someone-else';
    try {
      assert.equal(localBaseDir(null), '/home/someone-else/.occopus/local');
      assert.equal(localBaseDir('/srv/nodes'), '/srv/nodes');
    } finally {
      process.env['HOME'] = saved;
    }
  });
});

test('no instance process of these tests is left running', () => {
  assert.deepEqual(processesUnder(root), []);
});
