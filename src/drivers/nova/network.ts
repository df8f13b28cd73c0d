/** Neutron (network API v2.0): external networks, ports and floating IPs. */
import { DriverError } from '../../errors.js';
import type { OpenStackClient } from './client.js';
import type { CallOptions } from './compute.js';

export interface Network {
  id: string;
  name: string;
}

export interface Port {
  id: string;
  device_id: string;
}

export interface FloatingIp {
  id: string;
  floating_ip_address: string;
  port_id: string | null;
  description?: string;
}

export class NetworkApi {
  constructor(private readonly client: OpenStackClient) {}

  /** The external network named or numbered `pool`, or the first one when no pool is given. */
  async externalNetwork(pool: string | null, options: CallOptions = {}): Promise<Network> {
    const out = await this.client.request<{ networks?: Network[] }>('network', 'GET', '/networks', { ...options, query: { 'router:external': 'true' } });
    const nets = out?.networks ?? [];
    const found = pool === null ? nets[0] : (nets.find((n) => n.id === pool) ?? nets.find((n) => n.name === pool));
    if (!found) {
      throw new DriverError(
        pool === null
          ? 'nova: a floating IP was asked for, but the cloud has no external network'
          : `nova: floating_ip_pool '${pool}' is not an external network (available: ${nets.map((n) => n.name || n.id).join(', ') || 'none'})`,
      );
    }
    return found;
  }

  async portsOf(serverId: string, options: CallOptions = {}): Promise<Port[]> {
    const out = await this.client.request<{ ports?: Port[] }>('network', 'GET', '/ports', { ...options, query: { device_id: serverId } });
    return (out?.ports ?? []).filter((p) => p.device_id === serverId);
  }

  /** Allocates a floating IP on `networkId` and associates it with `portId` in one request. */
  async createFloatingIp(networkId: string, portId: string, description: string, options: CallOptions = {}): Promise<FloatingIp> {
    const out = await this.client.request<{ floatingip?: FloatingIp }>('network', 'POST', '/floatingips', {
      ...options,
      body: { floatingip: { floating_network_id: networkId, port_id: portId, description } },
    });
    if (!out?.floatingip?.id) throw new DriverError('nova: Neutron accepted the floating IP, but returned none');
    return out.floatingip;
  }

  async floatingIpsWithDescription(description: string, options: CallOptions = {}): Promise<FloatingIp[]> {
    const out = await this.client.request<{ floatingips?: FloatingIp[] }>('network', 'GET', '/floatingips', { ...options, query: { description } });
    return (out?.floatingips ?? []).filter((f) => f.description === description);
  }

  async deleteFloatingIp(id: string, options: CallOptions = {}): Promise<void> {
    await this.client.request('network', 'DELETE', `/floatingips/${encodeURIComponent(id)}`, { ...options, allow404: true });
  }
}
