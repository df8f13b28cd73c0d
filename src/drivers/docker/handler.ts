/**
 * The `docker` resource handler: each instance is a container on a Docker engine.
 *
 * Idempotency and crash safety: every container carries the labels `occopus.node_id` (the
 * idempotency key), `occopus.infra_id` and `occopus.node_name`, and a name derived from them
 * (`occopus-<infra8>-<node name>-<node8>`), which the engine refuses to give twice, so a repeated
 * create finds the first container instead of making a second, and `find` locates a container by
 * label whatever its state. A create interrupted between creating and starting the container
 * leaves a never-started one; `find` starts it, completing the create it adopts.
 *
 * State (plugins §8, with Occopus's bugs fixed): running → ready, created/restarting → pending,
 * paused → temp_failed, exited/removing → shutdown, dead or a start error → failed, gone → unknown.
 * Addresses: the container's IP on each of its networks (the `network` of the resource first).
 * Drop: forced removal with its anonymous volumes; a container already gone is success.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import Dockerode from 'dockerode';
import type { ContainerCreateOptions, ContainerInspectInfo, DockerOptions } from 'dockerode';
import type { JsonObject, ResourceSection } from '../../descriptors/types.js';
import { DriverError, OccopusError } from '../../errors.js';
import type { ResolvedNode } from '../../resolution/resolve.js';
import { CancelledError, throwIfAborted } from '../../util/abort.js';
import type {
  Addresses,
  CreateOptions,
  CreatedInstance,
  DriverLogger,
  InstanceHandle,
  ResourceHandler,
  ResourceState,
} from '../resource-handler.js';
import { commandArgv, environment } from './command.js';
import { displayEndpoint, dockerEndpoint, type DockerEndpoint } from './endpoint.js';
import { describeDockerError, isUnreachable, statusOf } from './errors.js';
import { DEFAULT_DOWNLOAD_TIMEOUTS, ensureImage, imageRef, type DownloadTimeouts } from './image.js';

export const LABEL_NODE_ID = 'occopus.node_id';
export const LABEL_INFRA_ID = 'occopus.infra_id';
export const LABEL_NODE_NAME = 'occopus.node_name';

export interface DockerHandlerOptions {
  resource: ResourceSection;
  /** The selected auth_data entry (TLS material), or null. */
  auth: Record<string, unknown> | null;
  log: DriverLogger;
  downloadTimeouts?: DownloadTimeouts;
  /** Longest silence on an Engine API connection (ms). */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
}

type StateInfo = Partial<Pick<ContainerInspectInfo['State'], 'Status' | 'Running' | 'Paused' | 'Restarting' | 'Dead' | 'Error' | 'StartedAt'>>;

const NEVER = '0001-01-01T00:00:00Z';
/** Networks on which the engine refuses network-scoped aliases. */
const BUILTIN_NETWORKS = new Set(['bridge', 'host', 'none', 'default']);

/** Occopus stored the Python repr of the create reply (plugins §0.3); a plain id since. */
export function containerIdOf(instanceId: string): string | null {
  if (/^[0-9a-f]{64}$/.test(instanceId)) return instanceId;
  return /'Id':\s*'([0-9a-f]{64})'/.exec(instanceId)?.[1] ?? null;
}

/** A never-started container (created, no start error) — what an interrupted create leaves. */
function neverStarted(state: StateInfo): boolean {
  return state.Status === 'created' && !state.Error && (!state.StartedAt || state.StartedAt.startsWith(NEVER));
}

export function mapState(state: StateInfo): ResourceState {
  switch (state.Status) {
    case 'running':
      return 'ready';
    case 'created':
      // A failed start (command not found, ...) leaves the container `created` with an error.
      return state.Error ? 'failed' : 'pending';
    case 'restarting':
      return 'pending';
    case 'paused':
      return 'temp_failed';
    case 'exited':
    case 'removing':
      return 'shutdown';
    case 'dead':
      return 'failed';
    default:
      if (state.Running) return state.Paused ? 'temp_failed' : 'ready';
      return 'unknown';
  }
}

function sanitize(text: string): string {
  return text.replace(/[^a-zA-Z0-9_.-]+/g, '-').replace(/^[-_.]+/, '').slice(0, 40) || 'node';
}

export function containerName(infraId: string, nodeName: string, nodeId: string, full = false): string {
  return `occopus-${sanitize(infraId.slice(0, 8))}-${sanitize(nodeName)}-${sanitize(full ? nodeId : nodeId.slice(0, 8))}`;
}

/** The IP addresses of a container, the given network's first. */
export function addressesOf(info: Pick<ContainerInspectInfo, 'NetworkSettings'>, preferred?: string): string[] {
  const networks = Object.entries(info.NetworkSettings?.Networks ?? {});
  networks.sort(([a], [b]) => Number(b === preferred) - Number(a === preferred));
  const out: string[] = [];
  for (const [, n] of networks) {
    for (const ip of [n.IPAddress, n.GlobalIPv6Address]) if (ip && !out.includes(ip)) out.push(ip);
  }
  return out;
}

interface SharedTask {
  promise: Promise<void>;
  controller: AbortController;
  waiters: number;
}

export class DockerResourceHandler implements ResourceHandler {
  readonly docker: Dockerode;
  readonly endpoint: string;
  private readonly agent: HttpAgent;
  private readonly closing = new AbortController();
  private readonly images = new Map<string, SharedTask>();
  private readonly hostModeAddress: string;
  /**
   * Set when `endpoint` is no Docker API address at all (the examples' placeholder, say): nothing
   * can ever have been created there, so creates fail with this and drops succeed, instead of an
   * infrastructure that can be neither built nor destroyed.
   */
  private readonly unusable: DriverError | null = null;

  constructor(private readonly options: DockerHandlerOptions) {
    let endpoint: DockerEndpoint;
    try {
      endpoint = dockerEndpoint(String(options.resource['endpoint'] ?? ''), options.auth);
    } catch (e) {
      // Bad TLS material is not forgiven: containers may exist that only a fixed auth_data reaches.
      if (!(e instanceof DriverError)) throw e;
      this.unusable = e;
      endpoint = { display: displayEndpoint(String(options.resource['endpoint'] ?? '')), options: { socketPath: '/nonexistent' } };
    }
    this.endpoint = endpoint.display;
    // A private pool, destroyed on close, so a finished command never waits on idle sockets.
    this.agent = endpoint.options.protocol === 'https' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    const connection: DockerOptions & { agent: HttpAgent; connectionTimeout: number } = {
      ...endpoint.options,
      timeout: options.requestTimeoutMs ?? 120_000,
      connectionTimeout: options.connectTimeoutMs ?? 10_000,
      agent: this.agent,
    };
    this.docker = new Dockerode(connection);
    // `network: host` shares the engine host's addresses.
    this.hostModeAddress = endpoint.options.socketPath ? '127.0.0.1' : String(endpoint.options.host);
  }

  async create(node: ResolvedNode, { idempotencyKey: key, signal }: CreateOptions): Promise<CreatedInstance> {
    if (this.unusable) throw this.unusable;
    throwIfAborted(signal);
    const label = `docker: node '${node.name}' (${key})`;
    const resource = node.resource;
    const ref = imageRef(String(resource['image']), String(resource['tag']));
    let spec: ContainerCreateOptions;
    try {
      spec = this.containerSpec(node, key, ref);
    } catch (e) {
      if (e instanceof OccopusError) throw new DriverError(`${label}: ${e.message}`, e);
      throw e;
    }
    if (typeof node.context === 'string' && node.context.trim()) {
      this.options.log.warn(`${label}: a container gets no cloud-init user data; it was ignored`, { node_id: key });
    }

    await this.ensureImage(ref, String(resource['origin']), signal);
    throwIfAborted(signal);

    // Not given the signal: a request cut off mid-way could leave a container this create never learns of.
    const made = await this.createContainer(spec, node, key, label);
    const container = this.docker.getContainer(made.id);
    const driver_data: JsonObject = { name: made.name, image: ref, endpoint: this.endpoint };
    try {
      throwIfAborted(signal);
      if (made.fresh || made.neverStarted) await this.start(made.id);
      throwIfAborted(signal);
      return { instance_id: made.id, driver_data };
    } catch (e) {
      // Only what this call made is rolled back; a container found under the key belongs to the first create.
      if (made.fresh) {
        await container.remove({ force: true, v: true }).catch((removeError: unknown) => {
          if (statusOf(removeError) !== 404) {
            this.options.log.warn(`${label}: removing the container after a failed create did not work`, {
              error: describeDockerError(removeError),
            });
          }
        });
      }
      if (e instanceof OccopusError) throw e;
      const network = node.resource['network'];
      if (statusOf(e) === 404 && typeof network === 'string' && /network .*not found/i.test(describeDockerError(e))) {
        throw new DriverError(`${label}: the Docker network '${network}' does not exist`, e);
      }
      throw new DriverError(`${label}: starting the container failed: ${this.reasonOf(e)}`, e);
    }
  }

  async find(key: string, context: { infra_id: string; resource: ResourceSection }): Promise<CreatedInstance | null> {
    if (this.unusable) return null;
    const [found] = await this.listByKey(key, context.infra_id);
    if (!found) return null;
    if (found.State === 'created') {
      const info = await this.inspect(found.Id);
      if (info && neverStarted(info.State)) {
        await this.start(found.Id).catch((e: unknown) =>
          this.options.log.warn(`docker: an interrupted create left container ${found.Id.slice(0, 12)} unstarted, and starting it failed`, {
            node_id: key,
            error: describeDockerError(e),
          }),
        );
      }
    }
    return {
      instance_id: found.Id,
      driver_data: { name: (found.Names?.[0] ?? '').replace(/^\//, ''), image: found.Image, endpoint: this.endpoint },
    };
  }

  async drop(handle: InstanceHandle, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.unusable) return;
    const ids = new Set<string>();
    const id = containerIdOf(handle.instance_id);
    if (id) ids.add(id);
    // Also whatever else carries this node's key (a create that raced the one recorded).
    for (const c of await this.listByKey(handle.node_id, handle.infra_id)) ids.add(c.Id);
    for (const containerId of ids) {
      throwIfAborted(options.signal);
      await this.remove(containerId, options.signal);
    }
  }

  async getState(handle: InstanceHandle): Promise<ResourceState> {
    const id = containerIdOf(handle.instance_id);
    if (!id || this.unusable) return 'unknown';
    const info = await this.inspect(id);
    return info ? mapState(info.State) : 'unknown';
  }

  async getAddresses(handle: InstanceHandle): Promise<Addresses> {
    const id = containerIdOf(handle.instance_id);
    const info = id && !this.unusable ? await this.inspect(id) : null;
    if (!info) return { public: [], private: [] };
    let addresses = addressesOf(info, typeof handle.resource['network'] === 'string' ? handle.resource['network'] : undefined);
    if (addresses.length === 0 && info.HostConfig?.NetworkMode === 'host') addresses = [this.hostModeAddress];
    // One engine network: what Occopus reports for both (plugins §8).
    return { public: addresses, private: [...addresses] };
  }

  async close(): Promise<void> {
    this.closing.abort(new CancelledError('the docker driver is closing'));
    this.agent.destroy();
  }

  private containerSpec(node: ResolvedNode, key: string, ref: string): ContainerCreateOptions {
    const cmd = commandArgv(node.attributes['command']);
    const env = environment(node.attributes['env']);
    const network = typeof node.resource['network'] === 'string' ? node.resource['network'] : null;
    const spec: ContainerCreateOptions = {
      name: containerName(node.infra_id, node.name, key),
      Image: ref,
      Env: env,
      Labels: { [LABEL_NODE_ID]: key, [LABEL_INFRA_ID]: node.infra_id, [LABEL_NODE_NAME]: node.name },
      HostConfig: network ? { NetworkMode: network } : {},
    };
    if (cmd) spec.Cmd = cmd;
    if (network && !BUILTIN_NETWORKS.has(network) && !network.startsWith('container:')) {
      // Other containers on the network reach this one by its node name too.
      spec.NetworkingConfig = { EndpointsConfig: { [network]: { Aliases: [node.name] } } };
    }
    return spec;
  }

  /** One fetch per image at a time; it stops only when every create waiting for it has given up. */
  private async ensureImage(ref: string, origin: string, signal: AbortSignal): Promise<void> {
    for (;;) {
      throwIfAborted(signal);
      const shared = this.imageTask(ref, origin);
      shared.waiters++;
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = (): void => {
          if (--shared.waiters === 0) shared.controller.abort(signal.reason);
          reject(new CancelledError());
        };
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
      aborted.catch(() => undefined);
      try {
        await Promise.race([shared.promise, aborted]);
        return;
      } catch (e) {
        // The fetch was given up by the creates that waited for it just before this one joined: start anew.
        if (e instanceof CancelledError && !signal.aborted && !this.closing.signal.aborted) continue;
        throw e;
      } finally {
        if (onAbort) signal.removeEventListener('abort', onAbort);
        if (!signal.aborted) shared.waiters--;
      }
    }
  }

  private imageTask(ref: string, origin: string): SharedTask {
    const key = `${ref}\0${origin}`;
    const existing = this.images.get(key);
    if (existing) return existing;
    const controller = new AbortController();
    const stop = (): void => controller.abort(this.closing.signal.reason);
    this.closing.signal.addEventListener('abort', stop, { once: true });
    const colon = ref.lastIndexOf(':');
    const promise = ensureImage(
      {
        docker: this.docker,
        endpoint: this.endpoint,
        log: this.options.log,
        timeouts: this.options.downloadTimeouts ?? DEFAULT_DOWNLOAD_TIMEOUTS,
      },
      { image: ref.slice(0, colon), tag: ref.slice(colon + 1), origin },
      controller.signal,
    ).finally(() => {
      this.closing.signal.removeEventListener('abort', stop);
      this.images.delete(key);
    });
    promise.catch(() => undefined);
    const task: SharedTask = { promise, controller, waiters: 0 };
    this.images.set(key, task);
    return task;
  }

  private async createContainer(
    spec: ContainerCreateOptions,
    node: ResolvedNode,
    key: string,
    label: string,
  ): Promise<{ id: string; name: string; fresh: boolean; neverStarted: boolean }> {
    let full = false;
    for (let attempt = 0; ; attempt++) {
      const name = containerName(node.infra_id, node.name, key, full);
      try {
        const container = await this.docker.createContainer({ ...spec, name });
        return { id: container.id, name, fresh: true, neverStarted: true };
      } catch (e) {
        const status = statusOf(e);
        const reason = describeDockerError(e);
        if (status === 409 && attempt < 40) {
          // The name is taken: by a create with this key (idempotent), or by a stranger.
          const holder = await this.inspect(name);
          if (holder?.Config.Labels?.[LABEL_NODE_ID] === key) {
            return { id: holder.Id, name, fresh: false, neverStarted: neverStarted(holder.State) };
          }
          if (holder && !full) {
            full = true;
            continue;
          }
          // Reserved by a create still registering it, or by one being removed: look again shortly.
          if (!holder) {
            await new Promise((r) => setTimeout(r, 50));
            continue;
          }
        }
        if (status === 404 && /network .*not found/i.test(reason)) {
          throw new DriverError(`${label}: the Docker network '${String(node.resource['network'])}' does not exist`, e);
        }
        if (/no command specified/i.test(reason)) {
          throw new DriverError(`${label}: image ${spec.Image} has no default command; set contextualisation.command`, e);
        }
        throw new DriverError(`${label}: creating the container failed: ${this.reasonOf(e)}`, e);
      }
    }
  }

  private async start(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).start();
    } catch (e) {
      if (statusOf(e) === 304) return; // already started: by a concurrent create or find
      throw e;
    }
  }

  private async remove(id: string, signal?: AbortSignal): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.docker.getContainer(id).remove({ force: true, v: true });
        return;
      } catch (e) {
        const status = statusOf(e);
        if (status === 404) return;
        // "removal already in progress": another drop got there first; wait until it is gone.
        if (status === 409 && attempt < 50) {
          await new Promise((r) => setTimeout(r, 100));
          throwIfAborted(signal);
          continue;
        }
        throw new DriverError(`docker: removing container ${id.slice(0, 12)} failed: ${this.reasonOf(e)}`, e);
      }
    }
  }

  private async inspect(id: string): Promise<ContainerInspectInfo | null> {
    try {
      return await this.docker.getContainer(id).inspect();
    } catch (e) {
      if (statusOf(e) === 404) return null;
      throw new DriverError(`docker: inspecting container ${id.slice(0, 12)} failed: ${this.reasonOf(e)}`, e);
    }
  }

  private async listByKey(key: string, infraId: string): Promise<Dockerode.ContainerInfo[]> {
    try {
      const found = await this.docker.listContainers({
        all: true,
        filters: { label: [`${LABEL_NODE_ID}=${key}`, `${LABEL_INFRA_ID}=${infraId}`] },
      });
      // Oldest first: the one a repeated create would have returned.
      return found.sort((a, b) => a.Created - b.Created);
    } catch (e) {
      throw new DriverError(`docker: listing the containers of node ${key} failed: ${this.reasonOf(e)}`, e);
    }
  }

  private reasonOf(e: unknown): string {
    const reason = describeDockerError(e);
    return isUnreachable(e) ? `cannot reach the Docker engine at ${this.endpoint} (${reason})` : reason;
  }
}
