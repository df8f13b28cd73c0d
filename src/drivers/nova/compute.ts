/** Nova (compute API v2.1): flavors and servers, as the driver needs them. */
import { DriverError } from '../../errors.js';
import type { Deadline } from '../http-retry.js';
import type { OpenStackClient } from './client.js';

export interface Flavor {
  id: string;
  name: string;
  disk: number;
}

export interface ServerAddress {
  addr: string;
  version?: number;
  'OS-EXT-IPS:type'?: string;
}

export interface Server {
  id: string;
  name: string;
  status: string;
  metadata?: Record<string, string>;
  addresses?: Record<string, ServerAddress[]>;
  fault?: { message?: string; code?: number };
  'OS-EXT-STS:task_state'?: string | null;
  'os-extended-volumes:volumes_attached'?: { id: string; delete_on_termination?: boolean }[];
}

export interface CallOptions {
  deadline?: Deadline;
  signal?: AbortSignal;
}

export class ComputeApi {
  private flavors: Flavor[] | null = null;

  constructor(private readonly client: OpenStackClient) {}

  /** `flavor_name` is an id or a name (tutorials give ids such as `3`); ids win, as in openstacksdk. */
  async resolveFlavor(wanted: string, options: CallOptions = {}): Promise<Flavor> {
    this.flavors ??= await this.listFlavors(options);
    const found = this.flavors.find((f) => f.id === wanted) ?? this.flavors.find((f) => f.name === wanted);
    if (!found) {
      const known = this.flavors.map((f) => (f.name === f.id ? f.id : `${f.name} (${f.id})`)).join(', ');
      this.flavors = null;
      throw new DriverError(`nova: flavor '${wanted}' does not exist (available: ${known || 'none'})`);
    }
    return found;
  }

  private async listFlavors(options: CallOptions): Promise<Flavor[]> {
    const out = await this.client.request<{ flavors?: { id: unknown; name: unknown; disk?: unknown }[] }>('compute', 'GET', '/flavors/detail', options);
    return (out?.flavors ?? []).map((f) => ({ id: String(f.id), name: String(f.name), disk: typeof f.disk === 'number' ? f.disk : 0 }));
  }

  async createServer(body: unknown, options: CallOptions = {}): Promise<string> {
    const out = await this.client.request<{ server?: { id?: unknown } }>('compute', 'POST', '/servers', { ...options, body });
    const id = out?.server?.id;
    if (typeof id !== 'string') throw new DriverError('nova: the server was accepted, but Nova returned no id');
    return id;
  }

  /** The server, or null when Nova does not know it (any more). */
  async getServer(id: string, options: CallOptions = {}): Promise<Server | null> {
    if (!id) return null;
    const out = await this.client.request<{ server?: Server }>('compute', 'GET', `/servers/${encodeURIComponent(id)}`, { ...options, allow404: true });
    return out?.server ?? null;
  }

  async deleteServer(id: string, options: CallOptions = {}): Promise<void> {
    await this.client.request('compute', 'DELETE', `/servers/${encodeURIComponent(id)}`, { ...options, allow404: true });
  }

  /** Servers of the project carrying `metadata[key] === value` (Nova cannot filter on metadata itself). */
  async serversWithMetadata(key: string, value: string, options: CallOptions = {}): Promise<Server[]> {
    const found: Server[] = [];
    let marker: string | null = null;
    for (let page = 0; page < 1000; page++) {
      const query: Record<string, string> = { limit: '500' };
      if (marker) query['marker'] = marker;
      const out = await this.client.request<{ servers?: Server[]; servers_links?: { rel?: string }[] }>('compute', 'GET', '/servers/detail', {
        ...options,
        query,
      });
      const servers = out?.servers ?? [];
      found.push(...servers.filter((s) => s.metadata?.[key] === value));
      const last = servers[servers.length - 1];
      if (!last || !out?.servers_links?.some((l) => l.rel === 'next')) break;
      marker = last.id;
    }
    return found;
  }
}
