/**
 * Loopback addresses for local instances. On Linux every 127/8 address answers without any setup,
 * so each instance gets its own from `drivers.local.address_range`. The allocation is a store lease
 * per address (held by the node id), which makes it atomic across every process sharing the store.
 */
import { ConfigError, DriverError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import { throwIfAborted } from '../../util/abort.js';

/** Leases never run out in practice; drop releases them. */
const ADDRESS_LEASE_MS = 10 * 365 * 24 * 3600 * 1000;

export const SHARED_LOOPBACK = '127.0.0.1';

export interface AddressRange {
  cidr: string;
  /** Unsigned 32-bit first and last address of the range. */
  first: number;
  last: number;
}

function toUint(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

function toIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses the configured range; it must lie inside 127.0.0.0/8, the only addresses that need no setup. */
export function parseAddressRange(cidr: string): AddressRange {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  const base = m?.[1] === undefined ? null : toUint(m[1]);
  const prefix = Number(m?.[2]);
  if (base === null || !(prefix >= 0 && prefix <= 32)) {
    throw new ConfigError(`drivers.local.address_range: '${cidr}' is not an IPv4 range like '127.77.0.0/16'`);
  }
  const size = 2 ** (32 - prefix);
  const first = base - (base % size);
  const last = first + size - 1;
  if (first >>> 24 !== 127 || last >>> 24 !== 127) {
    throw new ConfigError(`drivers.local.address_range: '${cidr}' must lie inside 127.0.0.0/8 (loopback)`);
  }
  return { cidr, first, last };
}

function usable(n: number, range: AddressRange): boolean {
  const lastOctet = n & 255;
  if (lastOctet === 0 || lastOctet === 255) return false;
  // Network and broadcast addresses exist only in ranges with more than two addresses.
  if (range.last - range.first >= 3 && (n === range.first || n === range.last)) return false;
  return true;
}

/** FNV-1a, so that concurrent allocations start probing at different places. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function leaseKey(ip: string): string {
  return `local-address:${ip}`;
}

/**
 * Takes a free address of the range for `holder` (an address it already holds counts as free).
 * `beforeAcquire` runs before each lease attempt, so the caller can note the address where a later
 * drop will find it even if this process dies right after the lease is taken.
 */
export async function allocateAddress(
  store: Store,
  range: AddressRange,
  holder: string,
  beforeAcquire: (ip: string) => void,
  signal?: AbortSignal,
): Promise<string> {
  const size = range.last - range.first + 1;
  const start = hash(holder) % size;
  for (let i = 0; i < size; i++) {
    throwIfAborted(signal);
    const n = range.first + ((start + i) % size);
    if (!usable(n, range)) continue;
    const ip = toIp(n);
    const lease = await store.getLease(leaseKey(ip));
    if (lease && lease.holder !== holder && lease.expires_at > Date.now()) continue;
    beforeAcquire(ip);
    if (await store.acquireLease(leaseKey(ip), holder, ADDRESS_LEASE_MS)) return ip;
  }
  throw new DriverError(`local: every address of drivers.local.address_range '${range.cidr}' is in use`);
}

/** Gives the address back, only if `holder` still holds it. Releasing twice is harmless. */
export async function releaseAddress(store: Store, ip: string, holder: string): Promise<void> {
  await store.releaseLease(leaseKey(ip), holder);
}
