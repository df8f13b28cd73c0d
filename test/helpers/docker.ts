/**
 * The real Docker engine the docker tests use (started by scripts/test-env.d/docker.sh), and the
 * test images built by scripts/docker-test-images.sh. A missing engine or image is a failure with
 * the command that fixes it, never a skip. Tests only touch containers carrying labels they chose.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { repoRoot } from './cli.js';

export const DOCKER_ENDPOINT = process.env['OCCOPUS_TEST_DOCKER_ENDPOINT'] ?? 'unix:///var/run/docker.sock';
export const fixturesDir = join(repoRoot, 'test', 'fixtures', 'docker');
/** Imported into the engine by scripts/docker-test-images.sh, for tests with `origin: local`. */
export const TEST_IMAGE = 'occopus-test-busybox';

export function dockerClient(): Dockerode {
  return new Dockerode({ socketPath: DOCKER_ENDPOINT.replace(/^unix:\/\//, ''), host: undefined });
}

export function fixture(name: 'busybox_helloworld.tar' | 'busybox_ping.tar'): string {
  const path = join(fixturesDir, name);
  if (!existsSync(path)) throw new Error(`missing ${path}: run scripts/docker-test-images.sh (or scripts/test-env.d/docker.sh)`);
  return path;
}

/** Fails with what to run when the engine or the test image is missing. */
export async function requireDocker(docker: Dockerode): Promise<void> {
  try {
    await docker.ping();
  } catch (e) {
    throw new Error(
      `no Docker engine answers at ${DOCKER_ENDPOINT} (${(e as Error).message}): run scripts/test-env.d/docker.sh as root`,
    );
  }
  try {
    await docker.getImage(`${TEST_IMAGE}:latest`).inspect();
  } catch {
    throw new Error(`the Docker test image ${TEST_IMAGE}:latest is missing: run scripts/docker-test-images.sh`);
  }
  fixture('busybox_helloworld.tar');
  fixture('busybox_ping.tar');
}

export async function containersWithLabel(docker: Dockerode, label: string): Promise<Dockerode.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [label] } });
}

/** Force-removes every container carrying `label` (`key=value`); returns how many there were. */
export async function removeContainers(docker: Dockerode, label: string): Promise<number> {
  const found = await containersWithLabel(docker, label);
  await Promise.all(
    found.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
  return found.length;
}

/** Removes an image if it exists and no container uses it. */
export async function removeImage(docker: Dockerode, ref: string): Promise<void> {
  await docker
    .getImage(ref)
    .remove()
    .catch(() => undefined);
}

/** The container's output so far (stdout and stderr), demultiplexed. */
export async function containerLogs(docker: Dockerode, id: string): Promise<string> {
  const raw = (await docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  const out: Buffer[] = [];
  for (let i = 0; i + 8 <= raw.length; ) {
    const size = raw.readUInt32BE(i + 4);
    out.push(raw.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return Buffer.concat(out).toString('utf8');
}

export async function eventually<T>(probe: () => Promise<T> | T, ok: (v: T) => boolean, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
