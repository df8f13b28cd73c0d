/**
 * The `local` resource handler: each instance is a detached process group on this machine, with its
 * own directory and loopback address. Everything needed to find, check and stop an instance is on
 * disk (`instance.json`) or in the store (the address lease), so any occopus process can take over
 * from the one that created it.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { JsonObject, ResourceSection } from '../../descriptors/types.js';
import { DriverError, OccopusError } from '../../errors.js';
import type { ResolvedNode } from '../../resolution/resolve.js';
import type { Store } from '../../store/store.js';
import { throwIfAborted } from '../../util/abort.js';
import type {
  Addresses,
  CreateOptions,
  CreatedInstance,
  DriverLogger,
  InstanceHandle,
  ResourceHandler,
  ResourceState,
} from '../resource-handler.js';
import { allocateAddress, releaseAddress, SHARED_LOOPBACK, type AddressRange } from './addresses.js';
import { writeCloudFiles } from './cloud-init.js';
import {
  instanceDir,
  OUTPUT_LOG,
  readInstanceFile,
  writeInstanceFile,
  type LocalInstanceFile,
} from './instance-dir.js';
import { BOOT_SCRIPT, bootScript, launchArgv, planLaunch, USER_DATA_SCRIPT, type LaunchInput } from './launch.js';
import { identify, isAlive, stopGroup, type ProcessIdentity } from './process.js';

export interface LocalHandlerOptions {
  baseDir: string;
  /** null: every instance shares 127.0.0.1 (systems where only that loopback address answers). */
  range: AddressRange | null;
  stopGraceMs: number;
  store: Store;
  log: DriverLogger;
}

function identityOf(record: { pid: number | null; start_time: string | null } | null): ProcessIdentity | null {
  return record && record.pid !== null && record.start_time !== null ? { pid: record.pid, start_time: record.start_time } : null;
}

function instanceId(record: LocalInstanceFile): string {
  if (record.pid === null) return `local-unstarted-${record.node_id}`;
  return `local-${record.pid}-${record.start_time ?? 'gone'}`;
}

function created(record: LocalInstanceFile, dir: string): CreatedInstance {
  const driver_data: JsonObject = { dir, address: record.address, pid: record.pid, start_time: record.start_time };
  return { instance_id: instanceId(record), driver_data };
}

/** The instance file's view of a handle when the file is gone or damaged: what the store kept. */
function fromDriverData(handle: InstanceHandle): LocalInstanceFile {
  const d = handle.driver_data;
  return {
    node_id: handle.node_id,
    infra_id: handle.infra_id,
    node_name: null,
    address: typeof d['address'] === 'string' ? d['address'] : null,
    pid: typeof d['pid'] === 'number' ? d['pid'] : null,
    start_time: typeof d['start_time'] === 'string' ? d['start_time'] : null,
    created_at: 0,
  };
}

/** `command` and `env` mean something only in the docker form; elsewhere they are user attributes. */
function launchInput(node: ResolvedNode): LaunchInput {
  const docker = node.contextualisation?.type === 'docker';
  return {
    context: typeof node.context === 'string' ? node.context : null,
    command: docker ? node.attributes['command'] : null,
    env: docker ? node.attributes['env'] : null,
  };
}

function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/** How long a new process must stay alive before it counts as running. */
export const BOOT_GRACE_MS = 500;

export class LocalResourceHandler implements ResourceHandler {
  constructor(private readonly options: LocalHandlerOptions) {}

  async create(node: ResolvedNode, { idempotencyKey: key, signal }: CreateOptions): Promise<CreatedInstance> {
    throwIfAborted(signal);
    const label = `local: node '${node.name}' (${key})`;
    let plan;
    try {
      plan = planLaunch(launchInput(node));
    } catch (e) {
      if (e instanceof OccopusError) throw new DriverError(`${label}: ${e.message}`, e);
      throw e;
    }
    const dir = instanceDir(this.options.baseDir, node.infra_id, key);
    if (!this.makeInstanceDir(dir)) {
      const existing = readInstanceFile(dir);
      if (existing && existing.pid !== null) return created(existing, dir);
      throw new DriverError(`${label} is already being created, or an earlier create was interrupted; drop it first`);
    }
    for (const w of plan.warnings) this.options.log.warn(`${label}: ${w}`, { node_id: key });

    let record: LocalInstanceFile = {
      node_id: key,
      infra_id: node.infra_id,
      node_name: node.name,
      address: null,
      pid: null,
      start_time: null,
      created_at: Date.now(),
    };
    const save = (patch: Partial<LocalInstanceFile>): void => {
      record = { ...record, ...patch };
      writeInstanceFile(dir, record);
    };
    try {
      save({});
      const address = this.options.range
        ? await allocateAddress(this.options.store, this.options.range, key, (ip) => save({ address: ip }), signal)
        : SHARED_LOOPBACK;
      save({ address });
      throwIfAborted(signal);

      writeCloudFiles(dir, plan.files);
      if (plan.script !== null) writeFileSync(join(dir, USER_DATA_SCRIPT), plan.script, { mode: 0o700 });
      const boot = bootScript(plan, join(dir, USER_DATA_SCRIPT));
      const bootPath = boot === null ? null : join(dir, BOOT_SCRIPT);
      if (boot !== null && bootPath !== null) writeFileSync(bootPath, boot, { mode: 0o700 });

      const env: NodeJS.ProcessEnv = {
        PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
        HOME: dir,
        LANG: process.env['LANG'] ?? 'C.UTF-8',
        ...plan.env,
        OCCOPUS_NODE_IP: address,
        OCCOPUS_NODE_ID: node.node_id,
        OCCOPUS_NODE_NAME: node.name,
        OCCOPUS_INFRA_ID: node.infra_id,
      };
      const [file, args] = launchArgv(plan, bootPath);
      const started = await startDetached(file, args, dir, env);
      save({ pid: started.pid, start_time: started.identity?.start_time ?? null });
      throwIfAborted(signal);
      return created(record, dir);
    } catch (e) {
      // Nothing may outlive a failed create: the process (no grace), the directory, the address.
      await this.destroy(dir, key, record, 0).catch((cleanupError: unknown) =>
        this.options.log.warn(`${label}: cleanup after a failed create did not finish`, { error: String(cleanupError) }),
      );
      if (e instanceof OccopusError) throw e;
      throw new DriverError(`${label} could not be started: ${(e as Error).message}`, e);
    }
  }

  async find(key: string, context: { infra_id: string; resource: ResourceSection }): Promise<CreatedInstance | null> {
    const dir = instanceDir(this.options.baseDir, context.infra_id, key);
    if (!existsSync(dir)) return null;
    const record = readInstanceFile(dir) ?? {
      node_id: key,
      infra_id: context.infra_id,
      node_name: null,
      address: null,
      pid: null,
      start_time: null,
      created_at: 0,
    };
    return created(record, dir);
  }

  async drop(handle: InstanceHandle, options: { signal?: AbortSignal } = {}): Promise<void> {
    const dir = this.dirOf(handle);
    const record = readInstanceFile(dir) ?? fromDriverData(handle);
    await this.destroy(dir, handle.node_id, record, this.options.stopGraceMs, options.signal);
  }

  async getState(handle: InstanceHandle): Promise<ResourceState> {
    const dir = this.dirOf(handle);
    if (!existsSync(dir)) return 'unknown';
    const record = readInstanceFile(dir) ?? fromDriverData(handle);
    const identity = identityOf(record);
    if (!identity || !isAlive(identity)) return 'shutdown';
    // A process that dies in its first moments (a command that exits at once, a typo'd binary
    // behind `sh -c`) must fail the create rather than be seen "ready" by a fast first poll.
    return Date.now() - record.created_at < BOOT_GRACE_MS ? 'pending' : 'ready';
  }

  async getAddresses(handle: InstanceHandle): Promise<Addresses> {
    const address = (readInstanceFile(this.dirOf(handle)) ?? fromDriverData(handle)).address;
    return address ? { public: [address], private: [address] } : { public: [], private: [] };
  }

  private dirOf(handle: InstanceHandle): string {
    return instanceDir(this.options.baseDir, handle.infra_id, handle.node_id);
  }

  /** Creates the instance directory; false if it already exists (another create got there first). */
  private makeInstanceDir(dir: string): boolean {
    // A concurrent drop may remove the (empty) infrastructure directory between the two mkdirs.
    for (let attempt = 0; ; attempt++) {
      mkdirSync(dirname(dir), { recursive: true, mode: 0o700 });
      try {
        mkdirSync(dir, { mode: 0o700 });
        return true;
      } catch (e) {
        if (errnoCode(e) === 'EEXIST') return false;
        if (errnoCode(e) !== 'ENOENT' || attempt >= 3) throw e;
      }
    }
  }

  private async destroy(
    dir: string,
    nodeId: string,
    record: LocalInstanceFile,
    graceMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    const identity = identityOf(record);
    if (identity && !(await stopGroup(identity, graceMs, signal))) {
      throw new DriverError(`local: the processes of node ${nodeId} (group ${identity.pid}) did not exit after SIGKILL`);
    }
    rmSync(dir, { recursive: true, force: true });
    try {
      rmdirSync(dirname(dir));
    } catch {
      // Other instances of the infrastructure still live there.
    }
    if (record.address && this.options.range) await releaseAddress(this.options.store, record.address, nodeId);
  }
}

interface Started {
  pid: number;
  /** null only if the process was already gone when inspected (possible where `ps` is used). */
  identity: ProcessIdentity | null;
}

/**
 * Spawns the instance's process as the leader of a new process group, detached from ours so it
 * outlives the command that created it, with its output appended to `output.log`.
 */
async function startDetached(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Started> {
  const log = openSync(join(cwd, OUTPUT_LOG), 'a', 0o600);
  try {
    const child = spawn(file, args, { cwd, env, detached: true, stdio: ['ignore', log, log] });
    const pid = child.pid;
    if (pid === undefined) {
      const error = await new Promise<Error>((resolve) => child.once('error', resolve));
      throw new DriverError(`cannot run '${file}': ${error.message}`, error);
    }
    // Inspected before yielding to the event loop: until then the child cannot have been reaped,
    // so its /proc entry (at worst a zombie's) is still there to give the start time.
    const identity = identify(pid);
    child.on('error', () => undefined);
    child.unref();
    return { pid, identity };
  } finally {
    closeSync(log);
  }
}
