/**
 * The on-disk side of a local instance: `<base>/<infra_id>/<node_id>/` holds its `instance.json`
 * (what the driver needs to find, check and stop it again, from any process), its `output.log`
 * and its cloud-init `root/`. The directory is the resource: while it exists, the instance exists.
 */
import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { DriverError } from '../../errors.js';

export const INSTANCE_FILE = 'instance.json';
export const OUTPUT_LOG = 'output.log';

const instanceFileSchema = z.object({
  node_id: z.string(),
  infra_id: z.string(),
  node_name: z.string().nullable(),
  /** Noted before the address lease is taken, so a drop can always release it. */
  address: z.string().nullable(),
  /** Process group leader; null until it is started (or if it exited before it could be inspected). */
  pid: z.number().int().nullable(),
  start_time: z.string().nullable(),
  /** Epoch milliseconds. */
  created_at: z.number(),
});

export type LocalInstanceFile = z.infer<typeof instanceFileSchema>;

export interface LocalInstance {
  infra_id: string;
  node_id: string;
  dir: string;
  /** null when `instance.json` is missing or damaged (a create interrupted very early). */
  record: LocalInstanceFile | null;
}

/** `drivers.local.base_dir`, or `~/.occopus/local` (following $HOME). */
export function localBaseDir(configured: string | null): string {
  return configured ?? join(homedir(), '.occopus', 'local');
}

/** A single, harmless directory name: ids come from the store, but a path must never be built from `..`. */
function segment(value: string, what: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/.test(value)) {
    throw new DriverError(`local: ${what} '${value}' cannot be used as a directory name`);
  }
  return value;
}

export function instanceDir(base: string, infraId: string, nodeId: string): string {
  return join(base, segment(infraId, 'infrastructure id'), segment(nodeId, 'node id'));
}

export function readInstanceFile(dir: string): LocalInstanceFile | null {
  let text: string;
  try {
    text = readFileSync(join(dir, INSTANCE_FILE), 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = instanceFileSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Replaces `instance.json` atomically, so a reader in another process never sees half of it. */
export function writeInstanceFile(dir: string, record: LocalInstanceFile): void {
  const tmp = join(dir, `.${INSTANCE_FILE}.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, join(dir, INSTANCE_FILE));
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** Every instance directory under `base` (live or not), for orphan checks and tests. */
export function listLocalInstances(base: string): LocalInstance[] {
  if (!existsSync(base)) return [];
  return subdirs(base).flatMap((infraId) =>
    subdirs(join(base, infraId)).map((nodeId) => {
      const dir = join(base, infraId, nodeId);
      return { infra_id: infraId, node_id: nodeId, dir, record: readInstanceFile(dir) };
    }),
  );
}
