/**
 * The docker driver against a real Docker engine: the shared conformance suite, then what is
 * particular to containers (command and env as Occopus passes them, labels and names, states,
 * images from every kind of origin, networks, endpoints over TCP and TLS, crash leftovers).
 * Every container made here carries an `occopus.infra_id` of this file's and is removed after.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createServer as createTlsServer } from 'node:tls';
import { createGzip } from 'node:zlib';
import { defaultConfig } from '../../src/config/config.js';
import type { ResourceSection } from '../../src/descriptors/types.js';
import dockerDriver, {
  containerName,
  DockerResourceHandler,
  LABEL_INFRA_ID,
  LABEL_NODE_ID,
  LABEL_NODE_NAME,
  ORIGIN_LABEL,
} from '../../src/drivers/docker/index.js';
import type { CreatedInstance, InstanceHandle, ResourceHandler } from '../../src/drivers/resource-handler.js';
import type { ResolvedNode } from '../../src/resolution/resolve.js';
import { MemoryStore } from '../../src/store/memory.js';
import {
  containerLogs,
  containersWithLabel,
  DOCKER_ENDPOINT,
  dockerClient,
  eventually,
  fixture,
  removeContainers,
  removeImage,
  requireDocker,
  TEST_IMAGE,
} from '../helpers/docker.js';
import { driverConformance } from './conformance.js';
import { dockerNode, recordingLog, resolvedNode } from './helpers.js';

const docker = dockerClient();
const tmp = mkdtempSync(join(tmpdir(), 'occopus-docker-driver-'));
const store = new MemoryStore('tester');
const local: ResourceSection = { type: 'docker', endpoint: DOCKER_ENDPOINT, origin: 'local', image: TEST_IMAGE, tag: 'latest' };
/** Images and networks this file made, removed at the end. */
const madeImages: string[] = [];
const madeNetworks: string[] = [];
const infraIds: string[] = [];

function newInfra(): string {
  const id = randomUUID();
  infraIds.push(id);
  return id;
}

function handlerFor(resource: ResourceSection, auth: Record<string, unknown> | null = null): ResourceHandler {
  return dockerDriver.createHandler(resource, { auth, store, config: defaultConfig, log: recordingLog() });
}

const signal = (): AbortSignal => new AbortController().signal;

function handleOf(node: ResolvedNode, created: CreatedInstance): InstanceHandle {
  return {
    node_id: node.node_id,
    infra_id: node.infra_id,
    instance_id: created.instance_id,
    resource: node.resource,
    driver_data: created.driver_data ?? {},
  };
}

async function start(h: ResourceHandler, node: ResolvedNode): Promise<InstanceHandle> {
  return handleOf(node, await h.create(node, { idempotencyKey: node.node_id, signal: signal() }));
}

/** A node like the docker-helloworld example's: its start script prints $message and serves it. */
function helloNode(resource: ResourceSection, infraId: string, message = 'Hello World!'): ResolvedNode {
  return dockerNode(resource, infraId, randomUUID(), 'sh -c /root/start.sh', [`message=${message}`]);
}

async function leftovers(infraId: string): Promise<number> {
  return (await containersWithLabel(docker, `${LABEL_INFRA_ID}=${infraId}`)).length;
}

before(() => requireDocker(docker));
after(async () => {
  for (const id of infraIds) await removeContainers(docker, `${LABEL_INFRA_ID}=${id}`);
  for (const ref of madeImages) await removeImage(docker, ref);
  for (const net of madeNetworks) await docker.getNetwork(net).remove().catch(() => undefined);
  await store.close();
  rmSync(tmp, { recursive: true, force: true });
});

driverConformance('docker', async () => {
  await requireDocker(docker);
  const infraId = newInfra();
  return {
    createHandler: () => handlerFor(local),
    resolvedNode: (nodeId) => dockerNode(local, infraId, nodeId, 'sh -c /root/start.sh', ['message=conformance']),
    infraId,
    resource: local,
    cleanup: async () => void (await removeContainers(docker, `${LABEL_INFRA_ID}=${infraId}`)),
    leftovers: () => leftovers(infraId),
  };
});

describe('docker driver: contextualisation as Occopus passes it', () => {
  const h = handlerFor(local);
  const infraId = newInfra();
  after(() => h.close?.());

  it('splits a string command shell-style into the argv (no shell runs it) and passes env', async () => {
    const node = dockerNode(local, infraId, randomUUID(), `sh -c 'echo "[$message] [$0] [$1]"' "a b" '$HOME'`, ['message=Hello World!']);
    const handle = await start(h, node);
    await eventually(() => h.getState(handle), (s) => s === 'shutdown', 'the command to finish');
    assert.equal(await containerLogs(docker, handle.instance_id), '[Hello World!] [a b] [$HOME]\n');
    await h.drop(handle);
  });

  it('takes a list command as the argv', async () => {
    const node = dockerNode(local, infraId, randomUUID(), ['echo', 'a  b', '$x'], []);
    const handle = await start(h, node);
    await eventually(() => h.getState(handle), (s) => s === 'shutdown', 'the command to finish');
    assert.equal(await containerLogs(docker, handle.instance_id), 'a  b $x\n');
    await h.drop(handle);
  });

  it('an image without a default command and no command: a clear error, nothing left', async () => {
    const node = resolvedNode(local, infraId, randomUUID(), { attributes: {} });
    await assert.rejects(h.create(node, { idempotencyKey: node.node_id, signal: signal() }), {
      code: 'E_DRIVER',
      message: /has no default command; set contextualisation\.command/,
    });
    assert.equal(await h.find(node.node_id, { infra_id: infraId, resource: local }), null);
  });

  it('a command that does not exist fails the create and leaves nothing', async () => {
    const before = await leftovers(infraId);
    const node = dockerNode(local, infraId, randomUUID(), 'no-such-program --flag', []);
    await assert.rejects(h.create(node, { idempotencyKey: node.node_id, signal: signal() }), {
      code: 'E_DRIVER',
      message: /starting the container failed: .*no-such-program/,
    });
    assert.equal(await leftovers(infraId), before);
  });
});

describe('docker driver: identity, state, drop', () => {
  const h = handlerFor(local);
  const infraId = newInfra();
  after(() => h.close?.());

  it('labels the container with its node and infrastructure and names it uniquely', async () => {
    const node = helloNode(local, infraId);
    const handle = await start(h, node);
    const info = await docker.getContainer(handle.instance_id).inspect();
    assert.equal(info.Config.Labels[LABEL_NODE_ID], node.node_id);
    assert.equal(info.Config.Labels[LABEL_INFRA_ID], infraId);
    assert.equal(info.Config.Labels[LABEL_NODE_NAME], 'web');
    assert.equal(info.Name, `/${containerName(infraId, 'web', node.node_id)}`);
    assert.equal(info.Name, `/occopus-${infraId.slice(0, 8)}-web-${node.node_id.slice(0, 8)}`);
    await h.drop(handle);
  });

  it('creates with one key at the same time, even from two handlers, make one container', async () => {
    const node = helloNode(local, infraId);
    const other = handlerFor(local);
    const made = await Promise.all(
      [h, other, h, other].map((x) => x.create(node, { idempotencyKey: node.node_id, signal: signal() })),
    );
    assert.equal(new Set(made.map((m) => m.instance_id)).size, 1);
    assert.equal((await containersWithLabel(docker, `${LABEL_NODE_ID}=${node.node_id}`)).length, 1);
    await eventually(() => h.getState(handleOf(node, made[0] as CreatedInstance)), (s) => s === 'ready', 'ready');
    await h.drop(handleOf(node, made[0] as CreatedInstance));
    await other.close?.();
  });

  it('a stranger holding the container name does not stop the create', async () => {
    const node = helloNode(local, infraId);
    const stranger = await docker.createContainer({
      name: containerName(infraId, node.name, node.node_id),
      Image: `${TEST_IMAGE}:latest`,
      Cmd: ['sleep', '600'],
      Labels: { [LABEL_INFRA_ID]: infraId },
    });
    const handle = await start(h, node);
    assert.notEqual(handle.instance_id, stranger.id);
    assert.equal((await docker.getContainer(handle.instance_id).inspect()).Name, `/${containerName(infraId, node.name, node.node_id, true)}`);
    await h.drop(handle);
    assert.equal((await stranger.inspect()).State.Status, 'created', 'the stranger was touched');
    await stranger.remove({ force: true });
  });

  it('maps the engine states: paused is temp_failed, killed is shutdown', async () => {
    const handle = await start(h, helloNode(local, infraId));
    const container = docker.getContainer(handle.instance_id);
    assert.equal(await h.getState(handle), 'ready');
    await container.pause();
    assert.equal(await h.getState(handle), 'temp_failed');
    await container.unpause();
    assert.equal(await h.getState(handle), 'ready');
    await container.kill();
    await eventually(() => h.getState(handle), (s) => s === 'shutdown', 'shutdown after a kill');
    await h.drop(handle);
    assert.equal(await h.getState(handle), 'unknown');
  });

  it('a container an interrupted create left unstarted is started by find and adopted', async () => {
    const node = helloNode(local, infraId);
    // What a create killed between the engine's create and start leaves behind.
    const made = await docker.createContainer({
      name: containerName(infraId, node.name, node.node_id),
      Image: `${TEST_IMAGE}:latest`,
      Cmd: ['sh', '-c', '/root/start.sh'],
      Labels: { [LABEL_NODE_ID]: node.node_id, [LABEL_INFRA_ID]: infraId, [LABEL_NODE_NAME]: node.name },
    });
    const restarted = handlerFor(local);
    const found = await restarted.find(node.node_id, { infra_id: infraId, resource: local });
    assert.equal(found?.instance_id, made.id);
    const handle = handleOf(node, found as CreatedInstance);
    await eventually(() => restarted.getState(handle), (s) => s === 'ready', 'the adopted container to run');
    await restarted.drop(handle);
    assert.equal((await containersWithLabel(docker, `${LABEL_NODE_ID}=${node.node_id}`)).length, 0);
    await restarted.close?.();
  });

  it('reads the Python repr instance ids Occopus stored', async () => {
    const handle = await start(h, helloNode(local, infraId));
    const legacy = { ...handle, instance_id: `{'Id': '${handle.instance_id}', 'Warnings': []}` };
    assert.equal(await h.getState(legacy), 'ready');
    assert.ok((await h.getAddresses(legacy)).public.length > 0);
    await h.drop(legacy);
    assert.equal(await h.getState(handle), 'unknown');
  });

  it('never drops another container through a short id or a name', async () => {
    const victim = await start(h, helloNode(local, infraId));
    const name = String(victim.driver_data['name']);
    for (const instance_id of [victim.instance_id.slice(0, 12), name]) {
      await h.drop({ ...victim, node_id: randomUUID(), instance_id });
    }
    assert.equal(await h.getState(victim), 'ready', 'a drop reached a container by prefix or name');
    await h.drop(victim);
  });

  it('drop also removes a second container with the same key', async () => {
    const node = helloNode(local, infraId);
    const handle = await start(h, node);
    await docker.createContainer({
      Image: `${TEST_IMAGE}:latest`,
      Cmd: ['sleep', '600'],
      Labels: { [LABEL_NODE_ID]: node.node_id, [LABEL_INFRA_ID]: infraId },
    });
    await h.drop(handle);
    assert.equal((await containersWithLabel(docker, `${LABEL_NODE_ID}=${node.node_id}`)).length, 0);
  });
});

describe('docker driver: images from origin', () => {
  const infraId = newInfra();
  let server: Server;
  let base = '';
  let downloads = 0;
  const unique = (what: string): string => {
    const ref = `occopus-test-${what}-${randomUUID().slice(0, 8)}`;
    madeImages.push(`${ref}:t1`);
    return ref;
  };

  before(async () => {
    const tarball = fixture('busybox_helloworld.tar');
    server = createHttpServer((req, res) => {
      if (req.url?.startsWith('/busybox_helloworld.tar')) {
        downloads++;
        res.writeHead(200, { 'content-type': 'application/x-tar' });
        createReadStream(tarball).pipe(res);
      } else if (req.url === '/stall') {
        // Never answers: the download must give up on its own.
      } else {
        res.writeHead(404).end('not here');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('imports a root-filesystem tarball from a path, labelled with where it came from', async () => {
    const image = unique('path');
    const resource = { ...local, origin: fixture('busybox_helloworld.tar'), image, tag: 't1' };
    const h = handlerFor(resource);
    const handle = await start(h, helloNode(resource, infraId));
    await eventually(() => h.getState(handle), (s) => s === 'ready', 'ready');
    const info = await docker.getImage(`${image}:t1`).inspect();
    assert.equal(info.Config.Labels?.[ORIGIN_LABEL], fixture('busybox_helloworld.tar'));
    await h.drop(handle);
    await h.close?.();
  });

  it('downloads it from a URL once, however many creates wait for it', async () => {
    const image = unique('url');
    const resource = { ...local, origin: `${base}/busybox_helloworld.tar?X-Amz-Signature=SECRET`, image, tag: 't1' };
    const h = handlerFor(resource);
    const before = downloads;
    const handles = await Promise.all([1, 2, 3].map(() => start(h, helloNode(resource, infraId))));
    assert.equal(downloads - before, 1);
    const info = await docker.getImage(`${image}:t1`).inspect();
    assert.equal(info.Config.Labels?.[ORIGIN_LABEL], `${base}/busybox_helloworld.tar`, 'the signed query was kept');
    for (const handle of handles) await h.drop(handle);
    await h.close?.();
  });

  it('loads a (gzipped) docker save archive and tags it as the node asks', async () => {
    const archive = join(tmp, 'saved.tar.gz');
    const saved = await docker.getImage(`${TEST_IMAGE}:latest`).get();
    await pipeline(saved, createGzip(), createWriteStream(archive));
    const image = unique('saved');
    const resource = { ...local, origin: `file://${archive}`, image, tag: 't1' };
    const h = handlerFor(resource);
    const handle = await start(h, helloNode(resource, infraId));
    await eventually(() => h.getState(handle), (s) => s === 'ready', 'ready');
    await h.drop(handle);
    await h.close?.();
  });

  const failures: Array<[string, (r: ResourceSection) => ResourceSection, RegExp, string?]> = [
    ['a URL that answers 404', (r) => ({ ...r, origin: `${base}/gone.tar?sig=SECRET` }), /downloading the image archive .*\/gone\.tar failed: HTTP 404/],
    ['a server that never answers', (r) => ({ ...r, origin: `${base}/stall` }), /failed: no answer within 0\.3 s/],
    ['a missing file', (r) => ({ ...r, origin: join(tmp, 'nope.tar') }), /nope\.tar .* does not exist/],
    ["origin 'local' and no such image", (r) => ({ ...r, origin: 'local' }), /is not on the Docker engine .* origin 'local'/],
    ['Docker Hub when no registry can be reached', (r) => ({ ...r, origin: 'dockerhub', image: `occopus-test/none-${randomUUID().slice(0, 8)}` }), /pulling occopus-test\/none-.* failed: ./],
  ];
  for (const [what, change, message] of failures) {
    it(`${what}: a clear error without secrets, and nothing left`, async () => {
      const resource = change({ ...local, image: unique('missing'), tag: 't1' });
      const h = new DockerResourceHandler({ resource, auth: null, log: recordingLog(), downloadTimeouts: { responseMs: 300, idleMs: 300 } });
      const node = helloNode(resource, infraId);
      await assert.rejects(h.create(node, { idempotencyKey: node.node_id, signal: signal() }), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'E_DRIVER');
        assert.match(e.message, message);
        assert.doesNotMatch(e.message, /SECRET/);
        return true;
      });
      assert.equal(await h.find(node.node_id, { infra_id: infraId, resource }), null);
      await h.close();
    });
  }

  it('a create cancelled while the image downloads stops at once and leaves nothing', async () => {
    const resource = { ...local, origin: `${base}/stall`, image: unique('cancel'), tag: 't1' };
    const h = handlerFor(resource);
    const node = helloNode(resource, infraId);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const began = Date.now();
    await assert.rejects(h.create(node, { idempotencyKey: node.node_id, signal: controller.signal }), { code: 'E_CANCELLED' });
    assert.ok(Date.now() - began < 10_000);
    assert.equal(await h.find(node.node_id, { infra_id: infraId, resource }), null);
    await h.close?.();
  });
});

describe('docker driver: networks', () => {
  const infraId = newInfra();
  const network = `occopus-test-net-${randomUUID().slice(0, 8)}`;
  before(async () => {
    madeNetworks.push(network);
    await docker.createNetwork({ Name: network, Labels: { 'occopus.test': 'true' } });
  });

  it('joins the given network, reachable there by its node name', async () => {
    const resource = { ...local, network };
    const h = handlerFor(resource);
    const server = await start(h, helloNode(resource, infraId, 'on my network'));
    const info = await docker.getContainer(server.instance_id).inspect();
    const ip = info.NetworkSettings.Networks[network]?.IPAddress;
    assert.ok(ip);
    assert.deepEqual((await h.getAddresses(server)).public, [ip]);
    // Another container on the network fetches the page by the node name alone.
    const fetchByName = 'for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://web/ 2>/dev/null && exit 0; sleep 0.3; done; exit 1';
    const command = ['sh', '-c', fetchByName];
    const client = await start(
      h,
      resolvedNode(resource, infraId, randomUUID(), { name: 'client', contextualisation: { type: 'docker', env: [], command }, attributes: { env: [], command } }),
    );
    await eventually(() => h.getState(client), (s) => s === 'shutdown', 'the client to finish');
    assert.equal(await containerLogs(docker, client.instance_id), 'on my network\n');
    await h.drop(client);
    await h.drop(server);
    await h.close?.();
  });

  it('a network that does not exist: a clear error, nothing left', async () => {
    const resource = { ...local, network: 'occopus-test-no-such-network' };
    const h = handlerFor(resource);
    const node = helloNode(resource, infraId);
    await assert.rejects(h.create(node, { idempotencyKey: node.node_id, signal: signal() }), {
      code: 'E_DRIVER',
      message: /network 'occopus-test-no-such-network' does not exist/,
    });
    assert.equal(await h.find(node.node_id, { infra_id: infraId, resource }), null);
    await h.close?.();
  });
});

describe('docker driver: endpoints', () => {
  const infraId = newInfra();
  const socketPath = DOCKER_ENDPOINT.replace(/^unix:\/\//, '');
  const certs = join(tmp, 'certs');
  const pem = (name: string): string => readFileSync(join(certs, name), 'utf8');
  const servers: Array<{ close(cb: () => void): void }> = [];
  let tcpPort = 0;
  let tlsPort = 0;

  before(async () => {
    // A CA, a server certificate for 127.0.0.1 and a client certificate, as for `dockerd --tlsverify`.
    execFileSync('mkdir', ['-p', certs]);
    const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: certs, stdio: 'pipe' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=occopus test CA');
    writeFileSync(join(certs, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
    for (const who of ['server', 'client']) {
      ssl('req', ...ec, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who}`);
      const ext = who === 'server' ? ['-extfile', 'server.ext'] : [];
      ssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.pem`, '-days', '1', ...ext);
    }
    // The engine's socket behind a plain TCP port and behind TLS with client certificates.
    const tcp = createTcpServer((sock) => sock.pipe(connect(socketPath)).pipe(sock).on('error', () => sock.destroy()));
    const tls = createTlsServer(
      { key: pem('server.key'), cert: pem('server.pem'), ca: pem('ca.pem'), requestCert: true, rejectUnauthorized: true },
      (sock) => sock.pipe(connect(socketPath)).pipe(sock).on('error', () => sock.destroy()),
    );
    tls.on('tlsClientError', () => undefined);
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    tcpPort = (tcp.address() as AddressInfo).port;
    tlsPort = (tls.address() as AddressInfo).port;
    servers.push(tcp, tls);
  });
  after(async () => {
    for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
  });

  async function lifecycle(resource: ResourceSection, auth: Record<string, unknown> | null): Promise<void> {
    const h = handlerFor(resource, auth);
    const handle = await start(h, helloNode(resource, infraId));
    await eventually(() => h.getState(handle), (s) => s === 'ready', 'ready');
    assert.ok((await h.getAddresses(handle)).public.length > 0);
    await h.drop(handle);
    assert.equal(await h.getState(handle), 'unknown');
    await h.close?.();
  }

  it('tcp://host:port (plain HTTP)', () => lifecycle({ ...local, endpoint: `tcp://127.0.0.1:${tcpPort}` }, null));

  it('https:// with the CA and a client certificate from auth_data', () =>
    lifecycle({ ...local, endpoint: `https://127.0.0.1:${tlsPort}` }, { ca: pem('ca.pem'), cert: pem('client.pem'), key: pem('client.key') }));

  it('tcp:// becomes TLS when auth_data holds certificates', () =>
    lifecycle({ ...local, endpoint: `tcp://127.0.0.1:${tlsPort}` }, { ca: pem('ca.pem'), cert: pem('client.pem'), key: pem('client.key') }));

  it('TLS without a client certificate, or trusting another CA, fails clearly without printing keys', async () => {
    const resource = { ...local, endpoint: `https://127.0.0.1:${tlsPort}` };
    for (const auth of [{ ca: pem('ca.pem') }, { ca: pem('client.pem'), cert: pem('client.pem'), key: pem('client.key') }]) {
      const h = handlerFor(resource, auth);
      const node = helloNode(resource, infraId);
      await assert.rejects(h.create(node, { idempotencyKey: node.node_id, signal: signal() }), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'E_DRIVER');
        assert.doesNotMatch(e.message, /PRIVATE KEY|BEGIN/);
        return true;
      });
      await h.close?.();
    }
  });

  it('an engine that does not answer: a clear error naming the endpoint', async () => {
    const resource = { ...local, endpoint: 'unix:///nonexistent/docker.sock' };
    const h = handlerFor(resource);
    const node = helloNode(resource, infraId);
    await assert.rejects(h.create(node, { idempotencyKey: node.node_id, signal: signal() }), {
      code: 'E_DRIVER',
      message: /cannot reach the Docker engine at unix:\/\/\/nonexistent\/docker\.sock/,
    });
    await h.close?.();
  });

  it('the examples\' placeholder endpoint: creates are refused naming the forms that work, drops succeed', async () => {
    const resource = { ...local, endpoint: 'replace_with_your_docker_endpoint' };
    const h = handlerFor(resource);
    const node = helloNode(resource, infraId);
    await assert.rejects(h.create(node, { idempotencyKey: node.node_id, signal: signal() }), {
      code: 'E_DRIVER',
      message: /not a Docker API address \(expected unix:\/\/\/path/,
    });
    // Nothing can exist at an address that is none, so an infrastructure with it can be destroyed.
    assert.equal(await h.find(node.node_id, { infra_id: infraId, resource }), null);
    await h.drop({ node_id: node.node_id, infra_id: infraId, instance_id: '', resource, driver_data: {} });
    await h.close?.();
  });

  it('malformed TLS material is refused when the handler is made', () => {
    assert.throws(() => handlerFor({ ...local, endpoint: 'https://127.0.0.1:1' }, { cert: 'x' }), { code: 'E_AUTH' });
  });
});
