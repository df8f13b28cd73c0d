/**
 * The `ec2-ping` and `nova-ping` examples, exactly as users download them except for their
 * endpoint (and the EC2 region, which the AWS SDK needs to be a real region name) and an
 * auth_data.yaml, run through the built CLI against the local EC2 and OpenStack fakes: build,
 * report, scale, heal, destroy — and after injected faults, a failed boot and a SIGKILL during the
 * build, the fakes show no leaked server, floating IP or volume.
 *
 * The fakes are seeded with the examples' placeholder values (image, flavor, network, key, groups,
 * pool), as a real cloud would have the user's values. The engine's default ping health check runs
 * against the fakes' loopback addresses.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertNoStackTrace, sandbox, sharedExamples, type CliResult, type Sandbox } from '../helpers/cli.js';
import { eventually } from '../helpers/local-env.js';
import type { InfraReport } from '../../src/enactor/report.js';
import { startEc2Fake, type Ec2Fake } from '../fakes/ec2/server.js';
import { startOpenStackFake, type OpenStackFake } from '../fakes/openstack/server.js';

/** A private occopus installation (HOME, config, SQLite store, auth_data.yaml) with a copy of one example. */
interface CloudEnv extends Sandbox {
  dir: string;
  infraFile: string;
  /** The copied files, relative path → [original, copy]. */
  files: Map<string, [string, string]>;
  /** Like `run`, without blocking this process: the fakes live in it and must keep answering. */
  exec(args: string[], timeoutMs?: number): Promise<CliResult>;
  report(infraId: string): Promise<InfraReport>;
  ok(args: string[]): Promise<string>;
}

function cloudEnv(example: string, replacements: Record<string, string>, authData: string): CloudEnv {
  const box = sandbox();
  mkdirSync(join(box.home, '.occopus'), { recursive: true });
  writeFileSync(
    join(box.home, '.occopus', 'occopus_config.yaml'),
    JSON.stringify({
      store: `sqlite:${join(box.home, 'occopus.db')}`,
      engine: { lease_ttl: 3, poll_interval: 0.2, create_timeout: 60, enactor_interval: 1 },
      logging: { level: 'warn' },
    }),
  );
  writeFileSync(join(box.home, '.occopus', 'auth_data.yaml'), authData, { mode: 0o600 });
  const source = join(sharedExamples, example);
  const dir = join(box.home, example);
  const files = new Map<string, [string, string]>();
  const copy = (rel: string): void => {
    const from = join(source, rel);
    const names = readdirSync(from, { withFileTypes: true });
    mkdirSync(join(dir, rel), { recursive: true });
    for (const entry of names) {
      const relPath = join(rel, entry.name);
      if (entry.isDirectory()) {
        copy(relPath);
        continue;
      }
      const original = readFileSync(join(source, relPath), 'utf8');
      let changed = original;
      for (const [from, to] of Object.entries(replacements)) changed = changed.split(from).join(to);
      writeFileSync(join(dir, relPath), changed);
      files.set(relPath, [original, changed]);
    }
  };
  copy('.');
  const infraFile = join(dir, readdirSync(dir).find((f) => f.startsWith('infra-')) ?? 'missing');
  const exec = (args: string[], timeoutMs = 120_000): Promise<CliResult> =>
    new Promise((resolve) => {
      const child = box.spawn(args);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  return {
    ...box,
    dir,
    infraFile,
    files,
    exec,
    async report(infraId) {
      const r = await exec(['maintain', '--json', '-r', '-i', infraId]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as InfraReport;
    },
    async ok(args) {
      const r = await exec(args);
      assert.equal(r.code, 0, `occopus ${args.join(' ')} failed:\n${r.stderr}`);
      return r.stdout;
    },
  };
}

function infraIdOf(stdout: string): string {
  const lines = stdout.trim().split('\n');
  return (lines[lines.length - 1] ?? '').trim();
}

function instancesOf(rep: InfraReport, node: string): Array<{ id: string; address: string; state: string }> {
  return Object.entries(rep.nodes[node]?.instances ?? {}).map(([id, i]) => ({
    id,
    address: Array.isArray(i.resource_address) ? String(i.resource_address[0]) : String(i.resource_address),
    state: i.state,
  }));
}

/** The copy differs from the published example only where the replacements say. */
function assertOnlyReplaced(env: CloudEnv, replaced: string[]): void {
  for (const [rel, [original, copy]] of env.files) {
    const a = original.split('\n');
    const b = copy.split('\n');
    assert.equal(a.length, b.length, rel);
    a.forEach((line, i) => {
      if (line !== b[i]) assert.ok(replaced.some((r) => line.includes(r)), `${rel}:${i + 1} changed: ${line}`);
    });
  }
}

/**
 * Starts a build and SIGKILLs it as soon as `ready()` says the cloud has started something (so the
 * create may not be recorded yet); returns the infra id the build announced.
 */
async function buildKilledWhen(env: CloudEnv, ready: () => boolean): Promise<string> {
  const child: ChildProcess = env.spawn(['build', env.infraFile]);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await eventually(() => child.exitCode === null && ready(), 30_000, 'the cloud to start a server');
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  const infraId = /building infrastructure ([0-9a-f-]{36})/.exec(stderr)?.[1] ?? '';
  assert.match(infraId, /^[0-9a-f-]{36}$/, stderr);
  return infraId;
}

const NODES = ['ping-receiver', 'ping-sender'];

/** The example's infrastructure with scaling limits on the receiver, for `build -i`. */
function scalableInfra(env: CloudEnv): string {
  const text = readFileSync(env.infraFile, 'utf8').replace(/^( *)(name: ping-receiver\n)/m, '$1$2$1scaling: {min: 1, max: 2}\n');
  assert.match(text, /scaling: \{min: 1, max: 2\}/);
  const file = join(env.home, 'infra-scalable.yaml');
  writeFileSync(file, text);
  return file;
}

// ---------------------------------------------------------------------------------------------

describe('the ec2-ping example on the EC2 fake', () => {
  let fake: Ec2Fake;
  let env: CloudEnv;
  let infraId = '';
  const live = (): number => fake.live().length;
  const settled = (): boolean => fake.instances().every((i) => i.state === 'terminated' || i.state === 'running');

  before(async () => {
    fake = await startEc2Fake({
      bootMs: 300,
      terminateMs: 150,
      purgeMs: 60_000,
      images: ['replace_with_id_of_your_image_on_your_target_cloud'],
      instanceTypes: ['replace_with_instance_type_of_your_image_on_your_target_cloud'],
      keyNames: ['replace_with_key_name_on_your_target_cloud'],
      securityGroupIds: ['replace_with_security_group_id1_on_your_target_cloud', 'replace_with_security_group_id2_on_your_target_cloud'],
      subnetIds: ['replace_with_subnet_id_on_your_target_cloud'],
    });
    env = cloudEnv(
      'ec2-ping',
      {
        replace_with_endpoint_of_ec2_interface_of_your_cloud: fake.endpoint,
        replace_with_regionname_of_your_ec2_interface: fake.region,
      },
      `resource:\n  - type: ec2\n    name: my_ec2_cloud\n    auth_data:\n      accesskey: ${fake.accessKey}\n      secretkey: ${fake.secretKey}\n`,
    );
    assertOnlyReplaced(env, ['endpoint: ', 'regionname: ']);
    await env.ok(['import', join(env.dir, 'nodes', 'node_definitions.yaml')]);
  });
  after(async () => {
    await fake?.close();
    env?.cleanup();
  });

  test('builds: both nodes ready at public addresses, the sender got the receiver address in its user data', async () => {
    const built = await env.exec(['build', env.infraFile]);
    assert.equal(built.code, 0, built.stderr);
    assert.doesNotMatch(built.stderr, /Warning|error/i, 'nothing but progress on stderr');
    infraId = infraIdOf(built.stdout);
    assert.match(infraId, /^[0-9a-f-]{36}$/);
    const rep = await env.report(infraId);
    const [receiver] = instancesOf(rep, 'ping-receiver');
    const [sender] = instancesOf(rep, 'ping-sender');
    assert.equal(receiver?.state, 'ready');
    assert.equal(sender?.state, 'ready');
    assert.equal(live(), 2);
    const instances = fake.live();
    assert.ok(instances.some((i) => i.publicIp === receiver?.address));
    const senderVm = instances.find((i) => i.publicIp === sender?.address);
    assert.match(senderVm?.userData ?? '', new RegExp(`ping ${receiver?.address.replace(/\./g, '\\.')} -c 5`));
    assert.deepEqual(senderVm?.securityGroupIds, ['replace_with_security_group_id1_on_your_target_cloud', 'replace_with_security_group_id2_on_your_target_cloud']);
    assert.equal(senderVm?.tags['occopus:node_id'], sender?.id);
  });

  test('scales: the example allows one receiver; with limits, up by count and down by node id', async () => {
    const refused = await env.exec(['scale', '-i', infraId, '-n', 'ping-receiver', '-c', '1']);
    assert.equal(refused.code, 0, refused.stderr);
    assert.match(refused.stderr, /at most 1 instance\(s\)/);
    await env.ok(['maintain', '-i', infraId]);
    assert.equal(instancesOf(await env.report(infraId), 'ping-receiver').length, 1);

    await env.ok(['build', '-i', infraId, scalableInfra(env)]);
    await env.ok(['scale', '-i', infraId, '-n', 'ping-receiver', '-c', '1']);
    await env.ok(['maintain', '-i', infraId]);
    const two = instancesOf(await env.report(infraId), 'ping-receiver');
    assert.deepEqual(two.map((i) => i.state), ['ready', 'ready']);
    assert.equal(live(), 3);

    const victim = two[1] as { id: string; address: string };
    await env.ok(['scale', '-i', infraId, '-n', 'ping-receiver', '-f', victim.address]);
    await env.ok(['maintain', '-i', infraId]);
    assert.deepEqual(instancesOf(await env.report(infraId), 'ping-receiver').map((i) => i.id), two.filter((i) => i.id !== victim.id).map((i) => i.id));
    await eventually(() => live() === 2 && settled(), 10_000, 'the dropped instance to be terminated');
  });

  test('heals: a receiver terminated behind its back is replaced', async () => {
    const [receiver] = instancesOf(await env.report(infraId), 'ping-receiver');
    const vm = fake.live().find((i) => i.tags['occopus:node_id'] === receiver?.id);
    assert.ok(vm);
    fake.setState(vm.instanceId, 'terminated');
    await env.ok(['maintain', '-i', infraId]);
    const [replacement] = instancesOf(await env.report(infraId), 'ping-receiver');
    assert.ok(replacement && replacement.id !== receiver?.id);
    assert.equal(replacement.state, 'ready');
    await eventually(() => live() === 2 && settled(), 10_000, 'two live instances');
  });

  test('destroys: every instance terminated', async () => {
    await env.ok(['destroy', '-i', infraId]);
    await eventually(() => live() === 0, 10_000, 'every instance to be terminated');
    assert.match((await env.exec(['maintain', '-l'])).stdout, /No active infrastructure!/);
  });

  test('throttling, 5xx and lost answers during a build: retried, nothing duplicated, nothing leaked', async () => {
    fake.throttle(2, 'RunInstances');
    fake.serverErrors(1, 'RunInstances', true);
    fake.serverErrors(2, 'DescribeInstances');
    fake.faults.latencyMs = 20;
    try {
      infraId = infraIdOf(await env.ok(['build', env.infraFile]));
    } finally {
      fake.faults.clear();
    }
    assert.equal(live(), 2, 'one instance per node');
    for (const node of NODES) assert.equal(instancesOf(await env.report(infraId), node)[0]?.state, 'ready');
    await env.ok(['destroy', '-i', infraId]);
    await eventually(() => live() === 0, 10_000, 'every instance to be terminated');
  });

  test('a boot that fails fails the build, which leaves nothing', async () => {
    fake.failNextBoots(1);
    const r = await env.exec(['build', env.infraFile]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /failed, everything it created was destroyed/);
    assertNoStackTrace(r.stderr);
    await eventually(() => live() === 0, 10_000, 'every instance to be terminated');
  });

  test('a build killed with SIGKILL while the receiver boots: the next maintain completes it, destroy leaves nothing', async () => {
    const before = fake.instances().length;
    infraId = await buildKilledWhen(env, () => fake.instances().length > before);
    await env.ok(['maintain', '-i', infraId]);
    const rep = await env.report(infraId);
    for (const node of NODES) assert.deepEqual(instancesOf(rep, node).map((i) => i.state), ['ready'], node);
    assert.equal(live(), 2, 'the started receiver was adopted, not duplicated');
    await env.ok(['destroy', '-i', infraId]);
    await eventually(() => live() === 0, 10_000, 'every instance to be terminated');
  });

  test('a build killed with SIGKILL: occopus-destroy alone cleans up', async () => {
    const before = fake.instances().length;
    infraId = await buildKilledWhen(env, () => fake.instances().length > before);
    await env.ok(['destroy', '-i', infraId]);
    await eventually(() => live() === 0, 10_000, 'every instance to be terminated');
  });
});

// ---------------------------------------------------------------------------------------------

describe('the nova-ping example on the OpenStack fake', () => {
  let fake: OpenStackFake;
  let env: CloudEnv;
  let infraId = '';
  const clean = (): boolean => Object.values(fake.leaks()).every((n) => n === 0);

  before(async () => {
    fake = await startOpenStackFake({
      bootMs: 400,
      deleteMs: 100,
      users: [{ name: 'occopus-user', password: 'n0va-Pa55word', domain: 'Default', projects: ['replace_with_projectid_to_use'] }],
      images: ['replace_with_id_of_your_image_on_your_target_cloud'],
      flavors: [{ id: 'replace_with_id_of_the_flavor_on_your_target_cloud', name: 'm1.small', vcpus: 1, ram: 2048, disk: 20 }],
      networks: [
        { id: 'replace_with_id_of_network_on_your_target_cloud', name: 'private', external: false },
        { id: 'b7a9e3c2-0000-4000-8000-000000000001', name: 'replace_with_name_of_floating_ip_pool_or_remove', external: true },
      ],
      keypairs: ['replace_with_name_of_keypair_or_remove'],
      securityGroups: ['replace_with_security_group_to_add_or_remove_section'],
    });
    env = cloudEnv(
      'nova-ping',
      { replace_with_endpoint_of_nova_interface_of_your_cloud: fake.authUrl },
      'resource:\n  - type: nova\n    auth_data:\n      username: occopus-user\n      password: n0va-Pa55word\n',
    );
    assertOnlyReplaced(env, ['endpoint: ']);
    await env.ok(['import', join(env.dir, 'nodes', 'node_definitions.yaml')]);
  });
  after(async () => {
    await fake?.close();
    env?.cleanup();
  });

  test('builds: both servers active with floating IPs, the sender got the receiver floating IP', async () => {
    infraId = infraIdOf(await env.ok(['build', env.infraFile]));
    const rep = await env.report(infraId);
    const [receiver] = instancesOf(rep, 'ping-receiver');
    const [sender] = instancesOf(rep, 'ping-sender');
    assert.equal(receiver?.state, 'ready');
    assert.equal(sender?.state, 'ready');
    assert.deepEqual(fake.leaks(), { servers: 2, floatingIps: 2, volumes: 0 });
    const fips = fake.floatingIps();
    assert.deepEqual(fips.map((f) => f.floating_ip_address).sort(), [receiver?.address, sender?.address].sort(), 'getip gives the floating IPs');
    assert.ok(fips.every((f) => f.port_id !== null));
    const servers = fake.servers();
    assert.deepEqual(servers.map((s) => s.name).sort(), ['mypingreceiver', 'mypingsender']);
    const senderVm = servers.find((s) => s.name === 'mypingsender');
    assert.match(senderVm?.user_data ?? '', new RegExp(`ping ${receiver?.address.replace(/\./g, '\\.')} -c 5`));
    assert.equal(senderVm?.flavor, 'replace_with_id_of_the_flavor_on_your_target_cloud');
    assert.equal(fake.tokensIssued <= 3, true, `a token per command, not per call (${fake.tokensIssued} issued)`);
  });

  test('scales: the example allows one receiver; with limits, up by count and down by address', async () => {
    const refused = await env.exec(['scale', '-i', infraId, '-n', 'ping-receiver', '-c', '1']);
    assert.equal(refused.code, 0, refused.stderr);
    assert.match(refused.stderr, /at most 1 instance\(s\)/);
    await env.ok(['build', '-i', infraId, scalableInfra(env)]);
    await env.ok(['scale', '-i', infraId, '-n', 'ping-receiver', '-c', '1']);
    await env.ok(['maintain', '-i', infraId]);
    const two = instancesOf(await env.report(infraId), 'ping-receiver');
    assert.deepEqual(two.map((i) => i.state), ['ready', 'ready']);
    assert.deepEqual(fake.leaks(), { servers: 3, floatingIps: 3, volumes: 0 });
    const victim = two[0] as { id: string; address: string };
    await env.ok(['scale', '-i', infraId, '-n', 'ping-receiver', '-f', victim.address]);
    await env.ok(['maintain', '-i', infraId]);
    assert.equal(instancesOf(await env.report(infraId), 'ping-receiver').length, 1);
    assert.deepEqual(fake.leaks(), { servers: 2, floatingIps: 2, volumes: 0 }, 'the dropped server released its floating IP');
    assert.ok(!fake.floatingIps().some((f) => f.floating_ip_address === victim.address));
  });

  test('heals: a receiver in ERROR is replaced, and its floating IP released', async () => {
    const [receiver] = instancesOf(await env.report(infraId), 'ping-receiver');
    const vm = fake.servers().find((s) => s.metadata['occopus_node_id'] === receiver?.id);
    assert.ok(vm);
    fake.setServerStatus(vm.id, 'ERROR');
    await env.ok(['maintain', '-i', infraId]);
    const [replacement] = instancesOf(await env.report(infraId), 'ping-receiver');
    assert.ok(replacement && replacement.id !== receiver?.id);
    assert.equal(replacement.state, 'ready');
    assert.ok(!fake.servers().some((s) => s.id === vm.id), 'the failed server was deleted');
    assert.deepEqual(fake.leaks(), { servers: 2, floatingIps: 2, volumes: 0 });
  });

  test('destroys: no server, no floating IP left', async () => {
    await env.ok(['destroy', '-i', infraId]);
    await eventually(clean, 10_000, 'every server and floating IP to be gone');
  });

  test('throttling, 5xx and lost answers during a build: retried, nothing duplicated, nothing leaked', async () => {
    fake.throttle(2, /^POST \/compute\/servers$/, 0);
    fake.serverErrors(1, /^POST \/compute\/servers$/, true);
    fake.serverErrors(1, /^POST \/network\/floatingips$/, true);
    fake.serverErrors(3, /^GET \/compute\/servers\/[^/]+$/);
    fake.throttle(1, /^POST \/identity\/auth\/tokens$/);
    try {
      infraId = infraIdOf(await env.ok(['build', env.infraFile]));
    } finally {
      fake.faults.clear();
    }
    assert.deepEqual(fake.leaks(), { servers: 2, floatingIps: 2, volumes: 0 });
    await env.ok(['destroy', '-i', infraId]);
    await eventually(clean, 10_000, 'everything to be gone');
  });

  test('a boot that fails fails the build, which leaves nothing', async () => {
    fake.failNextBoots(1);
    const r = await env.exec(['build', env.infraFile]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /failed, everything it created was destroyed/);
    assert.match(r.stderr, /No valid host was found/);
    assertNoStackTrace(r.stderr);
    await eventually(clean, 10_000, 'everything to be gone');
  });

  test('a build killed with SIGKILL before the floating IP: the next maintain redoes it, destroy leaves nothing', async () => {
    infraId = await buildKilledWhen(env, () => fake.servers().length > 0);
    assert.equal(fake.floatingIps().length, 0, 'killed before the floating IP');
    await env.ok(['maintain', '-i', infraId]);
    const rep = await env.report(infraId);
    for (const node of NODES) assert.deepEqual(instancesOf(rep, node).map((i) => i.state), ['ready'], node);
    assert.deepEqual(fake.leaks(), { servers: 2, floatingIps: 2, volumes: 0 }, 'the half-made receiver was removed, not kept');
    await env.ok(['destroy', '-i', infraId]);
    await eventually(clean, 10_000, 'everything to be gone');
  });

  test('a build killed with SIGKILL once the receiver has its floating IP: occopus-destroy alone cleans up', async () => {
    infraId = await buildKilledWhen(env, () => fake.floatingIps().length > 0);
    await env.ok(['destroy', '-i', infraId]);
    await eventually(clean, 10_000, 'everything to be gone');
  });
});
