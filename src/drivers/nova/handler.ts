/**
 * The `nova` resource driver: OpenStack through Keystone v3, Nova, Neutron and Cinder on `fetch`
 * (plugins §3). What it keeps from Occopus: the resource keys, server names, user data, flavor
 * lookup by id or name, the optional boot volume and floating IP, the state words and the address
 * order. What it fixes (plugins §12):
 * - everything it makes carries the node id (server metadata, floating IP description, volume
 *   metadata), so `find` works after a crash and nothing is left behind: a failed or cancelled
 *   create removes its server, floating IP and volume; drop releases the floating IP (Occopus
 *   never did, bug 2) and, unless `volume_persist`, the volume;
 * - waits (volume available, server active) have deadlines and stop on the AbortSignal;
 * - a server that no longer exists is `unknown` instead of a crash (bug 12), and is read directly
 *   by id instead of listing every server of the project on each poll;
 * - one Keystone token is reused until shortly before it expires (bug 21).
 */
import { isIP } from 'node:net';
import type { ResourceSection } from '../../descriptors/types.js';
import { DriverError } from '../../errors.js';
import type { ResolvedNode } from '../../resolution/resolve.js';
import { sleep, throwIfAborted } from '../../util/abort.js';
import {
  DEFAULT_RETRY_POLICY,
  backoffDelay,
  checkDeadline,
  deadlineIn,
  pollUntil,
  type Deadline,
  type RetryPolicy,
} from '../http-retry.js';
import type {
  Addresses,
  CreateOptions,
  CreatedInstance,
  DriverContext,
  DriverLogger,
  InstanceHandle,
  ResourceHandler,
  ResourceState,
} from '../resource-handler.js';
import { OpenStackClient, mayHaveTakenEffect } from './client.js';
import { ComputeApi, type Flavor, type Server } from './compute.js';
import { keystoneSession, keystoneUrl, novaAuth } from './keystone.js';
import { NetworkApi } from './network.js';
import { VolumeApi } from './volume.js';

export const NODE_ID_METADATA = 'occopus_node_id';
export const INFRA_ID_METADATA = 'occopus_infra_id';
/** A kept (`volume_persist`) volume is re-labelled so that no later clean-up of the node takes it. */
export const PERSISTED_METADATA = 'occopus_persisted_from_node';
/** Nova refuses user data longer than this once base64-encoded. */
export const NOVA_USER_DATA_LIMIT = 65535;

/** The floating IP's description names the node it was allocated for. */
export function floatingIpDescription(nodeId: string): string {
  return `occopus node ${nodeId}`;
}

const STATUS_MAP: Record<string, ResourceState> = {
  BUILD: 'pending',
  REBUILD: 'pending',
  RESIZE: 'pending',
  VERIFY_RESIZE: 'pending',
  REVERT_RESIZE: 'pending',
  MIGRATING: 'pending',
  REBOOT: 'pending',
  HARD_REBOOT: 'pending',
  PASSWORD: 'pending',
  ACTIVE: 'ready',
  ERROR: 'failed',
  DELETED: 'shutdown',
  SOFT_DELETED: 'shutdown',
  SHUTOFF: 'temp_failed',
  SUSPENDED: 'temp_failed',
  PAUSED: 'temp_failed',
  SHELVED: 'temp_failed',
  SHELVED_OFFLOADED: 'temp_failed',
  RESCUE: 'temp_failed',
};

/** Volume states in which Cinder accepts a delete. */
const DELETABLE = new Set(['available', 'error', 'error_restoring', 'error_extending', 'error_managing']);

export interface NovaHandlerOptions {
  retry?: RetryPolicy;
  /** One HTTP attempt (default 30 s). */
  requestTimeoutMs?: number;
  /** One API call with its retries (default 60 s). */
  callDeadlineMs?: number;
  /** A whole create; default the node's `create_timeout`, else the engine's. */
  createDeadlineMs?: number;
  /** A whole drop or clean-up, waiting for the server to go included (default 300 s). */
  dropDeadlineMs?: number;
  /** First wait between state polls; it grows to 5 s (default 500 ms). */
  pollIntervalMs?: number;
}

function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

/** Occopus's generated name (plugins §0.2), made a valid host name: lower case, `[a-z0-9-]`, 63 characters. */
export function generatedServerName(node: Pick<ResolvedNode, 'infra_name' | 'infra_id' | 'name' | 'node_id'>): string {
  const raw = [
    'occopus',
    (node.infra_name || 'undef_infraname').slice(0, 18),
    (node.infra_id || 'undef_infraid').slice(0, 8),
    (node.name || 'undef_nodename').slice(0, 18),
    (node.node_id || 'undef_nodeid').slice(0, 8),
  ].join('-');
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .slice(0, 63)
    .replace(/-+$/, '');
}

interface NovaSettings {
  imageId: string;
  flavor: string;
  networkId: string | null;
  keyName: string | null;
  securityGroups: string[];
  serverName: string | null;
  floatingIp: boolean;
  pool: string | null;
  volumeSize: number | null;
  persist: boolean;
}

function settingsOf(r: ResourceSection): NovaSettings {
  const pool = text(r['floating_ip_pool']) || null;
  const size = r['volume_size'];
  const volumeSize = size === null || size === undefined || size === '' ? null : Number(size);
  if (volumeSize !== null && (!Number.isInteger(volumeSize) || volumeSize < 0)) {
    throw new DriverError(`nova: volume_size must be a non-negative integer (GB), not '${String(size)}'`);
  }
  return {
    imageId: text(r['image_id']),
    flavor: text(r['flavor_name']),
    networkId: text(r['network_id']) || null,
    keyName: text(r['key_name']) || null,
    securityGroups: Array.isArray(r['security_groups']) ? r['security_groups'].map(text).filter(Boolean) : [],
    serverName: text(r['server_name']) || null,
    // Occopus allocated for any value of `floating_ip`, even false; false now means no.
    floatingIp: ('floating_ip' in r && r['floating_ip'] !== false) || pool !== null,
    pool,
    volumeSize,
    persist: r['volume_persist'] === true,
  };
}

export class NovaResourceHandler implements ResourceHandler {
  private readonly settings: NovaSettings;
  private readonly compute: ComputeApi;
  private readonly network: NetworkApi;
  private readonly volumes: VolumeApi;
  private readonly retry: RetryPolicy;
  private readonly pollMs: number;
  private readonly dropMs: number;

  constructor(
    resource: ResourceSection,
    private readonly context: Pick<DriverContext, 'auth' | 'log' | 'config'>,
    private readonly options: NovaHandlerOptions = {},
  ) {
    const endpoint = text(resource['endpoint']);
    const authUrl = keystoneUrl(endpoint);
    const userDomain = text(resource['user_domain_name']) || 'Default';
    const auth = novaAuth(context.auth, endpoint, text(resource['project_id']), userDomain);
    this.settings = settingsOf(resource);
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.pollMs = options.pollIntervalMs ?? 500;
    this.dropMs = options.dropDeadlineMs ?? 300_000;
    const transport = { retry: this.retry, requestTimeoutMs: options.requestTimeoutMs ?? 30_000 };
    const session = keystoneSession(authUrl, auth, transport);
    const client = new OpenStackClient(session, text(resource['region_name']) || null, {
      ...transport,
      callDeadlineMs: options.callDeadlineMs ?? 60_000,
    });
    this.compute = new ComputeApi(client);
    this.network = new NetworkApi(client);
    this.volumes = new VolumeApi(client);
  }

  private get log(): DriverLogger {
    return this.context.log;
  }

  async create(node: ResolvedNode, { idempotencyKey: key, signal }: CreateOptions): Promise<CreatedInstance> {
    throwIfAborted(signal);
    const userData = this.userData(node);
    const existing = await this.find(key);
    if (existing) return existing;
    throwIfAborted(signal);

    const seconds = node.create_timeout ?? this.context.config.engine.create_timeout;
    const deadline = deadlineIn(this.options.createDeadlineMs ?? seconds * 1000, `nova: creating node '${node.name}'`);
    const s = this.settings;
    let serverId: string | null = null;
    try {
      const flavor = await this.compute.resolveFlavor(s.flavor, { deadline, signal });
      // Checked before anything is made, so a wrong pool costs no server.
      const external = s.floatingIp ? await this.network.externalNetwork(s.pool, { deadline, signal }) : null;
      const name = s.serverName ?? generatedServerName(node);
      const bdm = s.volumeSize === null ? null : await this.bootVolume(node, key, flavor, name, deadline, signal);
      const server: Record<string, unknown> = {
        name,
        imageRef: bdm ? '' : s.imageId,
        flavorRef: flavor.id,
        min_count: 1,
        max_count: 1,
        metadata: { [NODE_ID_METADATA]: key, [INFRA_ID_METADATA]: node.infra_id },
      };
      if (s.networkId) server['networks'] = [{ uuid: s.networkId }];
      if (s.securityGroups.length) server['security_groups'] = s.securityGroups.map((g) => ({ name: g }));
      if (s.keyName) server['key_name'] = s.keyName;
      if (userData) server['user_data'] = userData;
      if (bdm) server['block_device_mapping_v2'] = bdm;
      throwIfAborted(signal);
      // Not cancelled half-way (it could take effect unseen); Ctrl+C is honoured right after it.
      serverId = await this.createOnce(
        'server',
        () => this.compute.createServer({ server }, { deadline }),
        async () => (await this.compute.serversWithMetadata(NODE_ID_METADATA, key, { deadline }))[0]?.id ?? null,
        deadline,
        signal,
      );
      this.log.debug('nova server requested', { node_id: key, server_id: serverId });
      throwIfAborted(signal);
      if (external) {
        await this.waitActive(serverId, node.name, deadline, signal);
        await this.attachFloatingIp(serverId, external.id, key, deadline, signal);
      }
      throwIfAborted(signal);
      return { instance_id: serverId, driver_data: {} };
    } catch (e) {
      await this.cleanup(key, serverId ? [serverId] : []).catch((cleanupError: unknown) =>
        this.log.warn(`nova: could not clean up after the failed create of node ${key}: ${String(cleanupError)}`),
      );
      throw e;
    }
  }

  /**
   * The server created for `key`, when its create finished. Half-made ones (a crash before the
   * floating IP, a server in ERROR) and leftovers without a server are cleaned up and give null,
   * so the engine creates the node again.
   */
  async find(key: string, _context?: { infra_id: string; resource: ResourceSection }): Promise<CreatedInstance | null> {
    const deadline = deadlineIn(this.dropMs, `nova: looking for node ${key}`);
    const servers = (await this.compute.serversWithMetadata(NODE_ID_METADATA, key, { deadline })).filter(
      (srv) => srv['OS-EXT-STS:task_state'] !== 'deleting' && srv.status !== 'DELETED' && srv.status !== 'SOFT_DELETED',
    );
    const fips = this.settings.floatingIp ? await this.network.floatingIpsWithDescription(floatingIpDescription(key), { deadline }) : [];
    const complete = servers.find((srv) => srv.status !== 'ERROR' && (!this.settings.floatingIp || fips.some((f) => f.port_id)));
    if (complete) {
      const extra = servers.filter((srv) => srv.id !== complete.id).map((srv) => srv.id);
      if (extra.length) await this.deleteServers(extra, deadline);
      return { instance_id: complete.id, driver_data: {} };
    }
    if (servers.length || fips.length || this.settings.volumeSize !== null) await this.cleanup(key, servers.map((srv) => srv.id));
    return null;
  }

  async drop(handle: InstanceHandle, options: { signal?: AbortSignal } = {}): Promise<void> {
    const deadline = deadlineIn(this.dropMs, `nova: dropping server ${handle.instance_id || handle.node_id}`);
    const signal = options.signal;
    if (this.settings.floatingIp) await this.releaseFloatingIps(handle.node_id, deadline, signal);
    const attached: string[] = [];
    if (handle.instance_id) {
      const server = await this.compute.getServer(handle.instance_id, { deadline, signal });
      if (server) {
        for (const v of server['os-extended-volumes:volumes_attached'] ?? []) if (v.delete_on_termination) attached.push(v.id);
        await this.compute.deleteServer(server.id, { deadline, signal });
        await this.waitGone(server.id, deadline, signal);
      }
    }
    if (this.settings.volumeSize === null && attached.length === 0) return;
    const tagged = this.settings.volumeSize === null ? [] : await this.volumes.volumesWithMetadata(NODE_ID_METADATA, handle.node_id, { deadline, signal });
    if (this.settings.persist) {
      for (const v of tagged) await this.volumes.setMetadata(v.id, { [PERSISTED_METADATA]: handle.node_id }, { deadline, signal });
      return;
    }
    for (const id of new Set([...tagged.map((v) => v.id), ...attached])) await this.deleteVolume(id, deadline, signal);
  }

  async getState(handle: InstanceHandle): Promise<ResourceState> {
    const server = await this.compute.getServer(handle.instance_id);
    if (!server) return 'unknown';
    if (server['OS-EXT-STS:task_state'] === 'deleting') return 'shutdown';
    return STATUS_MAP[server.status] ?? 'unknown';
  }

  /** Floating addresses are public, fixed ones private (plugins §3: getip takes the floating IP first). */
  async getAddresses(handle: InstanceHandle): Promise<Addresses> {
    const server = await this.compute.getServer(handle.instance_id);
    const result: Addresses = { public: [], private: [] };
    if (!server) return result;
    for (const list of Object.values(server.addresses ?? {})) {
      for (const a of list) {
        if (!isIP(a.addr)) continue;
        const into = a['OS-EXT-IPS:type'] === 'floating' ? result.public : result.private;
        if (!into.includes(a.addr)) into.push(a.addr);
      }
    }
    // Nova's address cache can lag behind Neutron just after the floating IP was associated.
    if (this.settings.floatingIp) {
      for (const f of await this.network.floatingIpsWithDescription(floatingIpDescription(handle.node_id))) {
        if (f.port_id && isIP(f.floating_ip_address) && !result.public.includes(f.floating_ip_address)) result.public.push(f.floating_ip_address);
      }
    }
    return result;
  }

  // ---------------------------------------------------------------------------------------------

  private userData(node: ResolvedNode): string | null {
    if (!node.context) return null;
    const encoded = Buffer.from(node.context, 'utf8').toString('base64');
    if (encoded.length > NOVA_USER_DATA_LIMIT) {
      throw new DriverError(
        `nova: the rendered cloud-init of node '${node.name}' is ${Buffer.byteLength(node.context, 'utf8')} bytes ` +
          `(${encoded.length} base64-encoded), but Nova accepts at most ${NOVA_USER_DATA_LIMIT} bytes once base64-encoded`,
      );
    }
    return encoded;
  }

  /**
   * A create request made idempotent: when it fails in a way that may have taken effect (5xx, a
   * broken connection), look for what it would have made before trying again.
   */
  private async createOnce(
    what: string,
    post: () => Promise<string>,
    lookup: () => Promise<string | null>,
    deadline: Deadline,
    signal: AbortSignal,
  ): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await post();
      } catch (e) {
        if (!mayHaveTakenEffect(e) || attempt + 1 >= this.retry.maxAttempts) throw e;
        const found = await lookup();
        if (found) return found;
        checkDeadline(signal, deadline);
        const wait = backoffDelay(attempt, this.retry);
        this.log.debug(`nova: creating the ${what} failed, trying again`, { error: String(e), wait_ms: wait });
        await sleep(wait, signal);
      }
    }
  }

  private async bootVolume(
    node: ResolvedNode,
    key: string,
    flavor: Flavor,
    name: string,
    deadline: Deadline,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>[]> {
    const s = this.settings;
    const size = s.volumeSize ?? 0;
    if (size === 0) {
      // Occopus sent the SDK default of 50 GB here (bug 20); the flavor's root disk is what "automatic" means.
      if (!flavor.disk) {
        throw new DriverError(`nova: volume_size 0 means a boot volume of the flavor's disk size, but flavor '${flavor.name}' has none; give volume_size in GB`);
      }
      return [{ boot_index: 0, uuid: s.imageId, source_type: 'image', destination_type: 'volume', volume_size: flavor.disk, delete_on_termination: !s.persist }];
    }
    const volumeId = await this.createOnce(
      'boot volume',
      async () =>
        (
          await this.volumes.createVolume(
            { size, imageRef: s.imageId, name: `${name}-boot`, metadata: { [NODE_ID_METADATA]: key, [INFRA_ID_METADATA]: node.infra_id } },
            { deadline },
          )
        ).id,
      async () => (await this.volumes.volumesWithMetadata(NODE_ID_METADATA, key, { deadline }))[0]?.id ?? null,
      deadline,
      signal,
    );
    await pollUntil(
      async () => {
        const v = await this.volumes.getVolume(volumeId, { deadline, signal });
        if (!v) throw new DriverError(`nova: boot volume ${volumeId} of node '${node.name}' disappeared`);
        if (v.status === 'available') return v;
        if (v.status.startsWith('error')) throw new DriverError(`nova: boot volume ${volumeId} of node '${node.name}' went to status '${v.status}'`);
        return undefined;
      },
      { deadline, signal, intervalMs: this.pollMs },
    );
    await this.volumes.setBootable(volumeId, { deadline, signal });
    return [{ boot_index: 0, uuid: volumeId, source_type: 'volume', destination_type: 'volume', delete_on_termination: !s.persist }];
  }

  private async waitActive(serverId: string, name: string, deadline: Deadline, signal: AbortSignal): Promise<Server> {
    return pollUntil(
      async () => {
        const server = await this.compute.getServer(serverId, { deadline, signal });
        if (!server) throw new DriverError(`nova: server ${serverId} of node '${name}' disappeared while it was being built`);
        if (server.status === 'ACTIVE') return server;
        if (server.status === 'ERROR') {
          throw new DriverError(`nova: server ${serverId} of node '${name}' failed to build${server.fault?.message ? `: ${server.fault.message}` : ''}`);
        }
        return undefined;
      },
      { deadline, signal, intervalMs: this.pollMs },
    );
  }

  private async attachFloatingIp(serverId: string, networkId: string, key: string, deadline: Deadline, signal: AbortSignal): Promise<void> {
    const port = await pollUntil(async () => (await this.network.portsOf(serverId, { deadline, signal }))[0], {
      deadline,
      signal,
      intervalMs: this.pollMs,
    });
    const description = floatingIpDescription(key);
    // Allocated and associated in one request, so no unassociated address can be left over.
    const id = await this.createOnce(
      'floating IP',
      async () => (await this.network.createFloatingIp(networkId, port.id, description, { deadline })).id,
      async () => (await this.network.floatingIpsWithDescription(description, { deadline }))[0]?.id ?? null,
      deadline,
      signal,
    );
    this.log.debug('nova floating IP attached', { node_id: key, floating_ip_id: id });
  }

  private async releaseFloatingIps(key: string, deadline: Deadline, signal?: AbortSignal): Promise<void> {
    for (const f of await this.network.floatingIpsWithDescription(floatingIpDescription(key), { deadline, signal })) {
      await this.network.deleteFloatingIp(f.id, { deadline, signal });
    }
  }

  /** Removes everything made for `key` (a failed create keeps nothing, persistent volume included). */
  private async cleanup(key: string, serverIds: string[]): Promise<void> {
    const deadline = deadlineIn(this.dropMs, `nova: cleaning up node ${key}`);
    const tagged = await this.compute.serversWithMetadata(NODE_ID_METADATA, key, { deadline });
    const ids = [...new Set([...serverIds, ...tagged.map((srv) => srv.id)])];
    if (this.settings.floatingIp) await this.releaseFloatingIps(key, deadline);
    const volumes = await this.deleteServers(ids, deadline);
    if (this.settings.volumeSize !== null) {
      for (const v of await this.volumes.volumesWithMetadata(NODE_ID_METADATA, key, { deadline })) volumes.add(v.id);
    }
    for (const id of volumes) await this.deleteVolume(id, deadline);
  }

  /** Deletes the servers and waits until they are gone; returns the volumes they had attached. */
  private async deleteServers(ids: string[], deadline: Deadline): Promise<Set<string>> {
    const volumes = new Set<string>();
    for (const id of ids) {
      const server = await this.compute.getServer(id, { deadline });
      if (!server) continue;
      for (const v of server['os-extended-volumes:volumes_attached'] ?? []) volumes.add(v.id);
      await this.compute.deleteServer(id, { deadline });
    }
    for (const id of ids) await this.waitGone(id, deadline);
    return volumes;
  }

  private async waitGone(serverId: string, deadline: Deadline, signal?: AbortSignal): Promise<void> {
    await pollUntil(
      async () => ((await this.compute.getServer(serverId, { deadline, signal })) === null ? true : undefined),
      { deadline, ...(signal ? { signal } : {}), intervalMs: this.pollMs },
    );
  }

  /**
   * Deletes a volume once Cinder allows it (a volume detaches some time after its server is gone)
   * and waits until it is gone: a delete can fail (`error_deleting`), and then it must be retried.
   */
  private async deleteVolume(id: string, deadline: Deadline, signal?: AbortSignal): Promise<void> {
    await pollUntil(
      async () => {
        const v = await this.volumes.getVolume(id, { deadline, signal });
        if (!v) return true;
        if (v.status === 'error_deleting') throw new DriverError(`nova: Cinder failed to delete volume ${id} (status error_deleting)`);
        if (DELETABLE.has(v.status)) await this.volumes.deleteVolume(id, { deadline, signal });
        return undefined;
      },
      { deadline, ...(signal ? { signal } : {}), intervalMs: this.pollMs },
    );
  }
}

export function createNovaHandler(
  resource: ResourceSection,
  context: Pick<DriverContext, 'auth' | 'log' | 'config'>,
  options: NovaHandlerOptions = {},
): NovaResourceHandler {
  return new NovaResourceHandler(resource, context, options);
}
