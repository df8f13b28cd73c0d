/** Cinder (block storage API v3): the boot volumes of `volume_size`. */
import { DriverError } from '../../errors.js';
import type { OpenStackClient } from './client.js';
import type { CallOptions } from './compute.js';

export interface Volume {
  id: string;
  status: string;
  metadata?: Record<string, string>;
  attachments?: { server_id?: string }[];
}

export class VolumeApi {
  constructor(private readonly client: OpenStackClient) {}

  async createVolume(spec: { size: number; imageRef: string; name: string; metadata: Record<string, string> }, options: CallOptions = {}): Promise<Volume> {
    const out = await this.client.request<{ volume?: Volume }>('volume', 'POST', '/volumes', { ...options, body: { volume: spec } });
    if (!out?.volume?.id) throw new DriverError('nova: Cinder accepted the volume, but returned none');
    return out.volume;
  }

  async getVolume(id: string, options: CallOptions = {}): Promise<Volume | null> {
    const out = await this.client.request<{ volume?: Volume }>('volume', 'GET', `/volumes/${encodeURIComponent(id)}`, { ...options, allow404: true });
    return out?.volume ?? null;
  }

  async setBootable(id: string, options: CallOptions = {}): Promise<void> {
    await this.client.request('volume', 'POST', `/volumes/${encodeURIComponent(id)}/action`, { ...options, body: { 'os-set_bootable': { bootable: true } } });
  }

  async volumesWithMetadata(key: string, value: string, options: CallOptions = {}): Promise<Volume[]> {
    const out = await this.client.request<{ volumes?: Volume[] }>('volume', 'GET', '/volumes/detail', {
      ...options,
      query: { metadata: JSON.stringify({ [key]: value }) },
    });
    return (out?.volumes ?? []).filter((v) => v.metadata?.[key] === value);
  }

  /** Replaces the volume's metadata (Cinder's PUT semantics). */
  async setMetadata(id: string, metadata: Record<string, string>, options: CallOptions = {}): Promise<void> {
    await this.client.request('volume', 'PUT', `/volumes/${encodeURIComponent(id)}/metadata`, { ...options, body: { metadata } });
  }

  async deleteVolume(id: string, options: CallOptions = {}): Promise<void> {
    await this.client.request('volume', 'DELETE', `/volumes/${encodeURIComponent(id)}`, { ...options, allow404: true });
  }
}
