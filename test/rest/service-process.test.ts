/**
 * The built `occopus-rest-service` as a real process: the token printed once on the first start,
 * the maintenance lease between the service and a CLI, a graceful SIGTERM (exit 0, in-flight
 * creates rolled back), and a restart that resumes maintaining what it maintained before.
 * Needs `npm run build` first.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertNoStackTrace, distCli } from '../helpers/cli.js';
import { openStore } from '../../src/store/open.js';
import { listDummyInstances } from '../../src/drivers/dummy/index.js';
import type { Store } from '../../src/store/store.js';
import { DUMMY_NODES, INFRA, makeHome, readSse, waitFor, waitForCounts } from './helpers.js';

const home = makeHome();
const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home.dir, USER: 'e2e', LOGNAME: 'e2e', LANG: 'C.UTF-8' };
const children = new Set<ChildProcess>();

after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  // Leave nothing behind in the dummy cloud either: the CLI tears down what is left.
  const store = join(home.dir, 'occopus.db');
  const list = spawnSync(process.execPath, [distCli(), '--store', `sqlite:${store}`, 'maintain', '-l', '--json'], { env, encoding: 'utf8' });
  const ids = list.status === 0 ? (JSON.parse(list.stdout) as { infrastructures: string[] }).infrastructures : [];
  for (const id of ids) spawnSync(process.execPath, [distCli(), 'destroy', '-i', id, '--wait', '10'], { env, encoding: 'utf8' });
  home.cleanup();
});

interface Service {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

async function startService(extraEnv: NodeJS.ProcessEnv = {}): Promise<Service> {
  const child = spawn(process.execPath, [distCli('occopus-rest-service'), '--port', '0'], {
    cwd: home.dir,
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  child.stdout?.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await waitFor(async () => /listening on (http:\/\/\S+)/.exec(stderr)?.[1], 'the service to listen', 15_000).catch((e: unknown) => {
    throw new Error(`${String(e)}\nstderr:\n${stderr}`);
  });
  return { child, url, stderr: () => stderr, exited };
}

async function stopWith(service: Service, signal: NodeJS.Signals): Promise<number | null> {
  service.child.kill(signal);
  const timer = setTimeout(() => service.child.kill('SIGKILL'), 30_000);
  try {
    return await service.exited;
  } finally {
    clearTimeout(timer);
  }
}

let token = '';
let service: Service;
let infraId = '';
let store: Store;

function api(method: string, path: string, body?: string): Promise<Response> {
  return fetch(`${service.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}` },
    ...(body !== undefined ? { body } : {}),
    signal: AbortSignal.timeout(30_000),
  });
}
async function report(): Promise<Record<string, unknown>> {
  const res = await api('GET', `/infrastructures/${infraId}`);
  assert.equal(res.status, 200);
  return (await res.json()) as Record<string, unknown>;
}

before(async () => {
  store = await openStore(`sqlite:${home.storePath}`, { user: 'e2e' });
});
after(async () => {
  await store.close();
});

describe('occopus-rest-service', () => {
  test('refuses --no-auth on a non-loopback address, without a stack trace', () => {
    const r = spawnSync(process.execPath, [distCli('occopus-rest-service'), '--no-auth', '--host', '0.0.0.0', '--port', '0'], {
      cwd: home.dir,
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /refusing to listen on 0\.0\.0\.0 without authentication/);
    assertNoStackTrace(r.stderr);
  });

  test('the first start generates the token, stores it with mode 0600 and prints it once', async () => {
    service = await startService();
    token = readFileSync(join(home.dir, '.occopus', 'api-token'), 'utf8').trim();
    assert.ok(token.length >= 32);
    assert.equal(service.stderr().split(token).length - 1, 1, service.stderr());
    assert.equal((await fetch(`${service.url}/infrastructures/`)).status, 401);
    assert.equal((await api('GET', '/infrastructures/')).status, 200);
  });

  test('builds over REST; a CLI cannot tear down what the service maintains (the lease)', async () => {
    assert.equal((await api('PUT', '/nodedefinitions', DUMMY_NODES)).status, 200);
    const posted = await api('POST', '/infrastructures/', INFRA);
    assert.equal(posted.status, 200);
    infraId = ((await posted.json()) as { infraid: string }).infraid;
    const rep = await waitForCounts(report, { server: 1, client: 1 });
    const meta = (rep as unknown as { _meta: { maintainer: { holder: string } } })._meta;
    assert.match(meta.maintainer.holder, new RegExp(`^maintain@.*:${service.child.pid}:`));

    const destroy = spawnSync(process.execPath, [distCli(), 'destroy', '-i', infraId], { cwd: home.dir, env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(destroy.status, 1, destroy.stderr);
    assert.match(destroy.stderr, new RegExp(`being maintained by maintain@.*:${service.child.pid}:`));
    await waitForCounts(report, { server: 1, client: 1 });
  });

  test('SIGTERM stops it gracefully (exit 0); the restarted service resumes maintaining and scales', async () => {
    const code = await stopWith(service, 'SIGTERM');
    assert.equal(code, 0, service.stderr());
    assert.match(service.stderr(), new RegExp(`resumed on the next start: ${infraId}`));
    assert.equal(await store.getLease(`maintain:${infraId}`), null, 'the lease was released');

    service = await startService();
    assert.match(service.stderr(), new RegExp(`resumed maintaining 1 infrastructure\\(s\\): ${infraId}`));
    assert.ok(!service.stderr().includes(token), 'the stored token is not printed again');
    const up = await api('POST', `/infrastructures/${infraId}/scaleup/client`);
    assert.equal(up.status, 200);
    const rep = await waitForCounts(report, { server: 1, client: 2 });
    assert.equal((rep as unknown as { _meta: { maintained: boolean } })._meta.maintained, true);
  });

  test('SIGTERM during a create rolls the create back', async () => {
    const slow = `'node_def:dummy_slow':\n  - resource: {type: dummy, create_delay: 60}\n    health_check: {ping: false}\n`;
    assert.equal((await api('PUT', '/nodedefinitions', slow)).status, 200);
    const changed = `${INFRA}  - {name: slow, type: dummy_slow}\n`.replace('dependencies:\n  - [*C, *S]\n', '') + 'dependencies:\n  - [*C, *S]\n';
    const put = await api('PUT', `/infrastructures/${infraId}`, changed);
    assert.equal(put.status, 200, await put.clone().text());
    const last = (await store.readEvents(infraId)).at(-1)?.seq ?? 0;
    const stream = await api('GET', `/infrastructures/${infraId}/events?after=${last}`);
    await readSse(stream, (m) => m.some((e) => e.event === 'nodecreating' && e.data.includes('"slow"')));
    assert.ok((await store.listInstances(infraId)).some((r) => r.node_name === 'slow'), 'the create is journaled');

    const code = await stopWith(service, 'SIGTERM');
    assert.equal(code, 0, service.stderr());
    assertNoStackTrace(service.stderr());
    assert.deepEqual(
      (await store.listInstances(infraId)).filter((r) => r.node_name === 'slow'),
      [],
      'the interrupted create left no record',
    );
    const ids = new Set((await store.listInstances(infraId)).map((r) => r.node_id));
    assert.deepEqual(
      (await listDummyInstances(store)).filter((i) => i.infra_id === infraId && !ids.has(i.node_id)),
      [],
      'and nothing in the cloud',
    );
  });
});
