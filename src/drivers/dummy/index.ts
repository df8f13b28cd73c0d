/**
 * The `dummy` resource driver: a simulated cloud for tests, demos and benchmarks (runtime §9.3
 * brings back Occopus's historic one). Its "cloud" lives in the store (namespace `dummy-cloud`),
 * so every process sharing the store sees the same instances. Creates can be slow, can fail at a
 * given rate, and instances become ready after a delay; addresses are unique loopback addresses,
 * so health checks that ping them succeed without any network.
 */
import { randomUUID } from 'node:crypto';
import type { JsonObject, JsonValue, ResourceSection } from '../../descriptors/types.js';
import { DriverError } from '../../errors.js';
import type { ResolvedNode } from '../../resolution/resolve.js';
import type { Store } from '../../store/store.js';
import { sleep, throwIfAborted } from '../../util/abort.js';
import type {
  Addresses,
  CreateOptions,
  CreatedInstance,
  DriverContext,
  InstanceHandle,
  ResourceDriver,
  ResourceHandler,
  ResourceState,
} from '../resource-handler.js';
import { dummyResourceDefaults } from './schema.js';

export const DUMMY_NAMESPACE = 'dummy-cloud';
const META_NAMESPACE = 'dummy-cloud-meta';
/** `<infra_id>/<node_id>` → instance id, so `find` is one lookup, not a scan of the whole cloud. */
const INDEX_NAMESPACE = 'dummy-cloud-index';
const COUNTER_KEY = 'address-counter';
/** Loopback, and clear of the local driver's default 127.77.0.0/16. */
export const DEFAULT_ADDRESS_PATTERN = '127.1.{hi}.{lo}';
const ADDRESS_LEASE_MS = 10 * 365 * 24 * 3600 * 1000;
/** Each counter value fills one address: hi 0–255, lo 1–254 (never a .0 or .255 address). */
const ADDRESS_SLOTS = 256 * 254;

/** `running` follows the clock (pending until `ready_at`); the others are forced by tests. */
export type DummyInstanceState = 'running' | 'failed' | 'shutdown' | 'temp_failed';

export interface DummyInstanceRecord {
  instance_id: string;
  node_id: string;
  infra_id: string;
  /** Epoch milliseconds. */
  created_at: number;
  ready_at: number;
  address: string;
  state: DummyInstanceState;
}

const STATES: readonly DummyInstanceState[] = ['running', 'failed', 'shutdown', 'temp_failed'];

function asRecord(value: JsonValue | null): DummyInstanceRecord | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const v = value;
  const ok =
    typeof v['instance_id'] === 'string' &&
    typeof v['node_id'] === 'string' &&
    typeof v['infra_id'] === 'string' &&
    typeof v['created_at'] === 'number' &&
    typeof v['ready_at'] === 'number' &&
    typeof v['address'] === 'string' &&
    STATES.includes(v['state'] as DummyInstanceState);
  return ok ? (v as unknown as DummyInstanceRecord) : null;
}

function toJson(record: DummyInstanceRecord): JsonObject {
  return { ...record };
}

/** Every instance of the simulated cloud (all infrastructures of the store's user). */
export async function listDummyInstances(store: Store): Promise<DummyInstanceRecord[]> {
  const all = await store.kvList(DUMMY_NAMESPACE);
  return Object.values(all)
    .map(asRecord)
    .filter((r): r is DummyInstanceRecord => r !== null);
}

/**
 * Test hook: forces the state an instance reports (`running` hands it back to the clock), so engine
 * tests can simulate a VM that fails or shuts down. Returns false if the instance does not exist.
 */
export async function setDummyInstanceState(store: Store, instanceId: string, state: DummyInstanceState): Promise<boolean> {
  const record = asRecord(await store.kvGet(DUMMY_NAMESPACE, instanceId));
  if (!record) return false;
  await store.kvPut(DUMMY_NAMESPACE, instanceId, toJson({ ...record, state }));
  return true;
}

export interface DummyHandlerOptions {
  /** Chance source for `failure_rate`, in [0, 1) like `Math.random` (the default). */
  random?: () => number;
  /** Clock in epoch milliseconds (default `Date.now`). */
  now?: () => number;
}

interface DummySettings {
  createDelayMs: number;
  readyDelayMs: number;
  failureRate: number;
  addressPattern: string;
}

function seconds(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;
}

function settingsOf(resource: ResourceSection): DummySettings {
  const rate = resource['failure_rate'];
  return {
    createDelayMs: seconds(resource['create_delay'], dummyResourceDefaults.create_delay) * 1000,
    readyDelayMs: seconds(resource['ready_delay'], dummyResourceDefaults.ready_delay) * 1000,
    failureRate: typeof rate === 'number' && rate >= 0 && rate <= 1 ? rate : dummyResourceDefaults.failure_rate,
    addressPattern: typeof resource['address_pattern'] === 'string' ? resource['address_pattern'] : DEFAULT_ADDRESS_PATTERN,
  };
}

/** Fills `{hi}`/`{lo}` (also spelt `{n}`/`{m}`) from a counter value. */
function fillPattern(pattern: string, counter: number): string {
  const slot = counter % ADDRESS_SLOTS;
  const hi = String(Math.floor(slot / 254));
  const lo = String((slot % 254) + 1);
  return pattern.replace(/\{(hi|n)\}/g, hi).replace(/\{(lo|m)\}/g, lo);
}

function indexKey(infraId: string, nodeId: string): string {
  return `${infraId}/${nodeId}`;
}

function addressLeaseKey(address: string): string {
  return `dummy-address:${address}`;
}

export class DummyResourceHandler implements ResourceHandler {
  private readonly settings: DummySettings;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(
    resource: ResourceSection,
    private readonly store: Store,
    options: DummyHandlerOptions = {},
  ) {
    this.settings = settingsOf(resource);
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  async create(node: ResolvedNode, { idempotencyKey: key, signal }: CreateOptions): Promise<CreatedInstance> {
    throwIfAborted(signal);
    const existing = await this.findRecord(key, node.infra_id);
    if (existing) return { instance_id: existing.instance_id, driver_data: { address: existing.address } };

    // Two overlapping creates with one key would otherwise both see "nothing yet" and both create.
    const claim = `dummy-create:${key}`;
    const token = randomUUID();
    if (!(await this.store.acquireLease(claim, token, this.settings.createDelayMs + 60_000))) {
      throw new DriverError(`dummy: node ${key} is already being created`);
    }
    let address: string | null = null;
    const instanceId = `dummy-${randomUUID()}`;
    try {
      await sleep(this.settings.createDelayMs, signal);
      if (this.random() < this.settings.failureRate) {
        throw new DriverError(`dummy: simulated failure creating node '${node.name}' (failure_rate ${this.settings.failureRate})`);
      }
      address = await this.allocateAddress(instanceId);
      const createdAt = this.now();
      const record: DummyInstanceRecord = {
        instance_id: instanceId,
        node_id: key,
        infra_id: node.infra_id,
        created_at: createdAt,
        ready_at: createdAt + this.settings.readyDelayMs,
        address,
        state: 'running',
      };
      // Index first: a crash between the two writes must leave an instance that `find` still sees.
      await this.store.kvPut(INDEX_NAMESPACE, indexKey(node.infra_id, key), instanceId);
      await this.store.kvPut(DUMMY_NAMESPACE, instanceId, toJson(record));
      throwIfAborted(signal);
      return { instance_id: instanceId, driver_data: { address } };
    } catch (e) {
      await this.store.kvDelete(DUMMY_NAMESPACE, instanceId);
      await this.store.kvDelete(INDEX_NAMESPACE, indexKey(node.infra_id, key));
      if (address !== null) await this.store.releaseLease(addressLeaseKey(address), instanceId);
      throw e;
    } finally {
      await this.store.releaseLease(claim, token);
    }
  }

  async find(key: string, context: { infra_id: string; resource: ResourceSection }): Promise<CreatedInstance | null> {
    const record = await this.findRecord(key, context.infra_id);
    return record ? { instance_id: record.instance_id, driver_data: { address: record.address } } : null;
  }

  async drop(handle: InstanceHandle): Promise<void> {
    const record = asRecord(await this.store.kvGet(DUMMY_NAMESPACE, handle.instance_id));
    await this.store.kvDelete(DUMMY_NAMESPACE, handle.instance_id);
    if (record) await this.store.kvDelete(INDEX_NAMESPACE, indexKey(record.infra_id, record.node_id));
    const stored = handle.driver_data['address'];
    const address = record?.address ?? (typeof stored === 'string' ? stored : null);
    if (address !== null) await this.store.releaseLease(addressLeaseKey(address), handle.instance_id);
  }

  async getState(handle: InstanceHandle): Promise<ResourceState> {
    const record = asRecord(await this.store.kvGet(DUMMY_NAMESPACE, handle.instance_id));
    if (!record) return 'unknown';
    if (record.state !== 'running') return record.state;
    return this.now() < record.ready_at ? 'pending' : 'ready';
  }

  async getAddresses(handle: InstanceHandle): Promise<Addresses> {
    // An instance keeps the address its create handed over in driver_data: no store read per check.
    const given = handle.driver_data['address'];
    if (typeof given === 'string') return { public: [given], private: [given] };
    const record = asRecord(await this.store.kvGet(DUMMY_NAMESPACE, handle.instance_id));
    return record ? { public: [record.address], private: [record.address] } : { public: [], private: [] };
  }

  private async findRecord(nodeId: string, infraId: string): Promise<DummyInstanceRecord | null> {
    const instanceId = await this.store.kvGet(INDEX_NAMESPACE, indexKey(infraId, nodeId));
    if (typeof instanceId !== 'string') return null;
    const record = asRecord(await this.store.kvGet(DUMMY_NAMESPACE, instanceId));
    return record && record.node_id === nodeId && record.infra_id === infraId ? record : null;
  }

  /**
   * The next free address of the pattern. The counter only spreads the search; uniqueness comes from
   * a store lease per address, which is atomic across processes. A pattern without placeholders
   * gives every instance the same address, as the user asked.
   */
  private async allocateAddress(instanceId: string): Promise<string> {
    const pattern = this.settings.addressPattern;
    if (fillPattern(pattern, 0) === fillPattern(pattern, 1) && fillPattern(pattern, 0) === fillPattern(pattern, 254)) {
      return pattern;
    }
    const stored = await this.store.kvGet(META_NAMESPACE, COUNTER_KEY);
    const start = typeof stored === 'number' && Number.isInteger(stored) && stored >= 0 ? stored : 0;
    for (let i = 0; i < ADDRESS_SLOTS; i++) {
      const address = fillPattern(pattern, start + i);
      if (await this.store.acquireLease(addressLeaseKey(address), instanceId, ADDRESS_LEASE_MS)) {
        await this.store.kvPut(META_NAMESPACE, COUNTER_KEY, (start + i + 1) % ADDRESS_SLOTS);
        return address;
      }
    }
    throw new DriverError(`dummy: every address of the pattern '${pattern}' is in use`);
  }
}

export function createDummyHandler(
  resource: ResourceSection,
  context: Pick<DriverContext, 'store'>,
  options: DummyHandlerOptions = {},
): DummyResourceHandler {
  return new DummyResourceHandler(resource, context.store, options);
}

const dummyDriver: ResourceDriver = {
  type: 'dummy',
  createHandler: (resource, context) => createDummyHandler(resource, context),
};

export default dummyDriver;
