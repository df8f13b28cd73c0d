/**
 * The Occopus docker examples end to end on a real Docker engine, driven through the CLI as a user
 * would: import, build, report, reconfigure and scale, heal a killed container, destroy, and a
 * build killed with SIGKILL that the next maintain pass completes. The node definitions are the
 * examples' with only the endpoint and the origin changed (the lab's S3 is out of reach: the
 * origin becomes the local tarball built by scripts/docker-test-images.sh); the infrastructure
 * descriptions are used as they are.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { assertNoStackTrace, sharedExamples } from '../helpers/cli.js';
import { localEnv } from '../helpers/local-env.js';
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
} from '../helpers/docker.js';
import type { InfraReport } from '../../src/enactor/report.js';

const LABEL_INFRA = 'occopus.infra_id';
const LABEL_NODE = 'occopus.node_id';
const EXAMPLE_IMAGES = ['busybox_helloworld:latest', 'busybox_ping:latest'];

const docker = dockerClient();
const env = localEnv({ lease_ttl: 2 });
const infraIds = new Set<string>();

after(async () => {
  for (const id of infraIds) await removeContainers(docker, `${LABEL_INFRA}=${id}`);
  for (const ref of EXAMPLE_IMAGES) await forgetImportedImage(ref);
  env.cleanup();
});

/** Removes an example image, but only one occopus imported (it carries the origin label). */
async function forgetImportedImage(ref: string): Promise<void> {
  const info = await docker
    .getImage(ref)
    .inspect()
    .catch(() => null);
  if (info?.Config?.Labels?.['occopus.origin']) await removeImage(docker, ref);
}

/**
 * The example's node definitions with only the endpoint and origin replaced; asserts that nothing
 * else changed.
 */
function adaptNodeDefinitions(example: string): string {
  const original = readFileSync(join(sharedExamples, example, 'nodes', 'node_definitions.yaml'), 'utf8');
  const adapted = original
    .replace(/endpoint: replace_with_your_docker_endpoint/g, `endpoint: ${DOCKER_ENDPOINT}`)
    .replace(/origin: https:\/\/s3\.lpds\.sztaki\.hu\/docker\/(busybox_\w+)\.tar/g, (_, name: string) => {
      return `origin: ${fixture(`${name}.tar` as 'busybox_helloworld.tar' | 'busybox_ping.tar')}`;
    });
  const a = original.split('\n');
  const b = adapted.split('\n');
  assert.equal(a.length, b.length);
  a.forEach((line, i) => {
    if (line !== b[i]) assert.match(line, /^\s+(endpoint|origin): /, `line ${i + 1} changed: ${line}`);
  });
  const file = join(env.home, `${example}-nodes.yaml`);
  writeFileSync(file, adapted);
  return file;
}

function infraFile(example: string, name: string): string {
  return join(sharedExamples, example, name);
}

function report(infraId: string): InfraReport {
  const r = env.run(['maintain', '--json', '-r', '-i', infraId]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as InfraReport;
}

interface Seen {
  id: string;
  address: string;
  state: string;
}

function instancesOf(rep: InfraReport, node: string): Seen[] {
  return Object.entries(rep.nodes[node]?.instances ?? {}).map(([id, i]) => ({
    id,
    address: Array.isArray(i.resource_address) ? (i.resource_address[0] as string) : String(i.resource_address),
    state: i.state,
  }));
}

function build(file: string, extra: string[] = []): string {
  const r = env.run(['build', ...extra, file], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  assertNoStackTrace(r.stderr);
  const infraId = env.infraIdOf(r.stdout);
  assert.match(infraId, /^[0-9a-f-]{36}$/);
  infraIds.add(infraId);
  return infraId;
}

function maintainOnce(infraId: string): void {
  const r = env.run(['maintain', '-i', infraId], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
}

/** The containers of one node of an infrastructure, by the labels the driver put on them. */
async function containersOf(infraId: string, nodeName?: string): Promise<Dockerode.ContainerInfo[]> {
  const all = await containersWithLabel(docker, `${LABEL_INFRA}=${infraId}`);
  return nodeName ? all.filter((c) => c.Labels['occopus.node_name'] === nodeName) : all;
}

async function inspect(id: string): Promise<Dockerode.ContainerInspectInfo> {
  return docker.getContainer(id).inspect();
}

function destroy(infraId: string): void {
  const r = env.run(['destroy', '-i', infraId], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
}

before(async () => {
  await requireDocker(docker);
  // So that the builds below fetch the images from their origin, as a fresh engine would.
  for (const ref of EXAMPLE_IMAGES) await forgetImportedImage(ref);
  for (const example of ['docker-helloworld', 'docker-ping']) {
    const r = env.run(['import', adaptNodeDefinitions(example)]);
    assert.equal(r.code, 0, r.stderr);
  }
});

describe('docker-helloworld through the CLI', () => {
  let infraId = '';

  test('builds: the image is imported from its origin, the container runs and prints the message', async () => {
    infraId = build(infraFile('docker-helloworld', 'infra-docker-helloworld.yaml'));
    const [container, ...others] = await containersOf(infraId, 'helloworld');
    assert.ok(container);
    assert.equal(others.length, 0);
    const info = await inspect(container.Id);
    assert.equal(info.State.Running, true);
    assert.deepEqual(info.Config.Cmd, ['sh', '-c', '/root/start.sh']);
    assert.ok(info.Config.Env.includes('message=Hello World! I have been created by Occopus.'), info.Config.Env.join(' '));
    const image = await docker.getImage('busybox_helloworld:latest').inspect();
    assert.equal(image.Config.Labels?.['occopus.origin'], fixture('busybox_helloworld.tar'), 'the image did not come from the origin');

    const [seen] = instancesOf(report(infraId), 'helloworld');
    assert.equal(seen?.state, 'ready');
    assert.equal(seen?.address, info.NetworkSettings.Networks['bridge']?.IPAddress);
    assert.equal(seen?.id, info.Config.Labels[LABEL_NODE]);
    assert.match(await containerLogs(docker, container.Id), /^Hello World! I have been created by Occopus\.\n/);
    const page = await eventually(
      () => fetch(`http://${seen?.address}/`, { signal: AbortSignal.timeout(3000) }).then((r) => r.text()).catch(() => ''),
      (t) => t !== '',
      'the container to serve its message',
    );
    assert.equal(page, 'Hello World! I have been created by Occopus.\n');
  });

  test('destroys it: no container left', async () => {
    destroy(infraId);
    assert.equal((await containersOf(infraId)).length, 0);
    assert.match(env.run(['maintain', '-l']).stdout, /No active infrastructure!/);
  });
});

describe('docker-ping through the CLI', () => {
  let infraId = '';
  let receiverAddress = '';

  async function assertPinging(senderId: string): Promise<void> {
    const info = await inspect(senderId);
    assert.ok(info.Config.Env.includes(`target_ip=${receiverAddress}`), `sender env: ${info.Config.Env.join(' ')}`);
    await eventually(() => containerLogs(docker, senderId), (l) => l.includes(`bytes from ${receiverAddress}`), 'ping replies');
  }

  test('builds: getip hands the receiver\'s address to the sender, which pings it', async () => {
    infraId = build(infraFile('docker-ping', 'infra-docker-ping.yaml'));
    const rep = report(infraId);
    const [receiver] = instancesOf(rep, 'ping-receiver');
    const [sender] = instancesOf(rep, 'ping-sender');
    assert.equal(receiver?.state, 'ready');
    assert.equal(sender?.state, 'ready');
    receiverAddress = receiver?.address ?? '';
    const [receiverContainer] = await containersOf(infraId, 'ping-receiver');
    assert.equal(receiverAddress, (await inspect(receiverContainer?.Id ?? '')).NetworkSettings.Networks['bridge']?.IPAddress);
    const [senderContainer] = await containersOf(infraId, 'ping-sender');
    assert.ok(senderContainer);
    await assertPinging(senderContainer.Id);
  });

  test('reconfigured with scaling limits, it scales up by count and down by node id', async () => {
    const scaled = join(env.home, 'infra-docker-ping-scaled.yaml');
    const original = readFileSync(infraFile('docker-ping', 'infra-docker-ping.yaml'), 'utf8');
    writeFileSync(scaled, original.replace('    type: docker_ping_sender_node', '    type: docker_ping_sender_node\n    scaling: {min: 1, max: 3}'));
    assert.equal(build(scaled, ['-i', infraId]), infraId);

    const up = env.run(['scale', '-i', infraId, '-n', 'ping-sender', '-c', '2']);
    assert.equal(up.code, 0, up.stderr);
    maintainOnce(infraId);
    const senders = instancesOf(report(infraId), 'ping-sender');
    assert.equal(senders.length, 3);
    const containers = await containersOf(infraId, 'ping-sender');
    assert.deepEqual(containers.map((c) => c.Labels[LABEL_NODE]).sort(), senders.map((s) => s.id).sort());
    for (const c of containers) await assertPinging(c.Id);

    const victim = senders[1] as Seen;
    const down = env.run(['scale', '-i', infraId, '-n', 'ping-sender', '-f', victim.id]);
    assert.equal(down.code, 0, down.stderr);
    maintainOnce(infraId);
    const left = instancesOf(report(infraId), 'ping-sender');
    assert.equal(left.length, 2);
    assert.ok(!left.some((s) => s.id === victim.id));
    assert.deepEqual((await containersOf(infraId, 'ping-sender')).map((c) => c.Labels[LABEL_NODE]).sort(), left.map((s) => s.id).sort());
  });

  test('heals: a killed container is replaced, and removed rather than left behind', async () => {
    const [victim] = await containersOf(infraId, 'ping-sender');
    assert.ok(victim);
    const victimNode = victim.Labels[LABEL_NODE] as string;
    await docker.getContainer(victim.Id).kill();
    await eventually(
      () => instancesOf(report(infraId), 'ping-sender').find((s) => s.id === victimNode)?.state,
      (s) => s !== 'ready',
      'the killed sender to be seen down',
    );
    maintainOnce(infraId);
    const senders = instancesOf(report(infraId), 'ping-sender');
    assert.equal(senders.length, 2);
    assert.ok(!senders.some((s) => s.id === victimNode), 'the killed instance is still recorded');
    for (const s of senders) assert.equal(s.state, 'ready');
    const containers = await containersOf(infraId, 'ping-sender');
    assert.deepEqual(containers.map((c) => c.Labels[LABEL_NODE]).sort(), senders.map((s) => s.id).sort());
    assert.ok(!containers.some((c) => c.Id === victim.Id), 'the exited container was left behind');
    const replacement = containers.find((c) => c.Labels[LABEL_NODE] !== victimNode && c.Id !== victim.Id) as Dockerode.ContainerInfo;
    await assertPinging(replacement.Id);
  });

  test('destroys it: no container left', async () => {
    destroy(infraId);
    assert.equal((await containersOf(infraId)).length, 0);
  });
});

describe('docker-ping build killed with SIGKILL', () => {
  /**
   * Starts a build and SIGKILLs it the moment the engine reports the first container created (the
   * driver has not started it yet); returns the infra id and that container's node id.
   */
  async function buildKilledAtFirstContainer(): Promise<{ infraId: string; nodeId: string }> {
    // A missing image makes the first create import it, which leaves time to watch for the container.
    for (const ref of EXAMPLE_IMAGES) await forgetImportedImage(ref);
    const child = env.spawn(['build', infraFile('docker-ping', 'infra-docker-ping.yaml')]);
    let stderr = '';
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const infraId = await new Promise<string>((resolve, reject) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const id = /building infrastructure ([0-9a-f-]{36})/.exec(stderr)?.[1];
        if (id) resolve(id);
      });
      child.once('exit', () => reject(new Error(`build ended before it said which infrastructure:\n${stderr}`)));
    });
    infraIds.add(infraId);
    const events = (await docker.getEvents({
      filters: { type: ['container'], event: ['create'], label: [`${LABEL_INFRA}=${infraId}`] },
    })) as unknown as NodeJS.ReadableStream & { destroy(): void };
    try {
      const created = new Promise<string>((resolve) => {
        events.on('data', (chunk: Buffer) => {
          const m = /"occopus\.node_id":"([0-9a-f-]{36})"/.exec(chunk.toString());
          if (m?.[1]) resolve(m[1]);
        });
      });
      // In case it was created before the subscription.
      const already = containersOf(infraId).then((cs) => cs[0]?.Labels[LABEL_NODE] ?? new Promise<string>(() => undefined));
      const ended = exited.then(() => Promise.reject(new Error(`build ended before creating a container:\n${stderr}`)));
      const nodeId = await Promise.race([created, already, ended]);
      child.kill('SIGKILL');
      await exited;
      return { infraId, nodeId };
    } finally {
      events.destroy();
    }
  }

  test('the next maintain pass adopts the container it left and completes the build', async () => {
    const { infraId, nodeId } = await buildKilledAtFirstContainer();
    maintainOnce(infraId);
    const rep = report(infraId);
    const receivers = instancesOf(rep, 'ping-receiver');
    const senders = instancesOf(rep, 'ping-sender');
    assert.deepEqual(receivers.map((r) => r.id), [nodeId], 'the receiver container was not adopted');
    assert.equal(senders.length, 1);
    for (const i of [...receivers, ...senders]) assert.equal(i.state, 'ready');
    // No container the store does not know about, and each node has exactly one.
    const containers = await containersOf(infraId);
    assert.deepEqual(containers.map((c) => c.Labels[LABEL_NODE]).sort(), [...receivers, ...senders].map((i) => i.id).sort());
    for (const c of containers) assert.equal(c.State, 'running');
    const sender = await inspect((await containersOf(infraId, 'ping-sender'))[0]?.Id ?? '');
    assert.ok(sender.Config.Env.includes(`target_ip=${receivers[0]?.address}`));
    destroy(infraId);
    assert.equal((await containersOf(infraId)).length, 0);
  });

  test('occopus-destroy alone removes what the killed build left', async () => {
    const { infraId } = await buildKilledAtFirstContainer();
    destroy(infraId);
    await eventually(() => containersOf(infraId), (cs) => cs.length === 0, 'no container left', 10_000);
    assert.doesNotMatch(env.run(['maintain', '-l']).stdout, new RegExp(infraId));
  });
});

describe('the docker example as shipped (placeholder endpoint)', () => {
  const pristine = localEnv();
  after(() => pristine.cleanup());

  test('the build fails with one clear message and leaves no infrastructure behind', () => {
    const imported = pristine.run(['import', join(sharedExamples, 'docker-helloworld', 'nodes', 'node_definitions.yaml')]);
    assert.equal(imported.code, 0, imported.stderr);
    const r = pristine.run(['build', infraFile('docker-helloworld', 'infra-docker-helloworld.yaml')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /endpoint 'replace_with_your_docker_endpoint' is not a Docker API address \(expected unix:\/\/\/path/);
    assert.match(r.stderr, /everything it created was destroyed/);
    assertNoStackTrace(r.stderr);
    assert.match(pristine.run(['maintain', '-l']).stdout, /No active infrastructure!/);
  });
});
