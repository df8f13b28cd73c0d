/**
 * Backend-level access to a store, beside the user-scoped {@link Store} port: which users hold data
 * and a complete copy of one user's data, for `occopus store migrate`. Every backend implements it;
 * the engine never uses it.
 */
import type { JsonValue, NodeDefinition } from '../descriptors/types.js';
import type { StaticDescription } from '../compiler/types.js';
import type { InstanceRecord, Lease, ScalingRequest, Store, StoredEvent } from './store.js';

/** Everything kept under one infrastructure id. Data may exist without a description. */
export interface InfraDump {
  infra_id: string;
  description: StaticDescription | null;
  meta: Record<string, JsonValue>;
  /** In listing order (`created_at`, ties by insertion). */
  instances: InstanceRecord[];
  /** The failed-instance archive, in archive order. */
  failed: InstanceRecord[];
  /** Health-check failure timers: node id → first failure (epoch ms). */
  failing: Record<string, number>;
  /** Pending scaling requests, oldest first. */
  scaling: ScalingRequest[];
  /** Every stored event, numbered 1..n. */
  events: StoredEvent[];
}

/** One user's data, complete. */
export interface UserDump {
  user: string;
  node_definitions: Record<string, NodeDefinition[]>;
  /** Described infrastructures first, in creation order; then ids that only have data, sorted. */
  infrastructures: InfraDump[];
  /** Leases that have not expired, by key. */
  leases: Record<string, Lease>;
  /** namespace → key → value. */
  kv: Record<string, Record<string, JsonValue>>;
}

export interface StoreAdmin {
  /** Users that hold any data, sorted. */
  listUsers(): Promise<string[]>;
  /** A consistent copy of everything `user` has (empty parts when the user has nothing). */
  exportUser(user: string): Promise<UserDump>;
  /**
   * Atomic: writes every dump. Refuses with a StoreError, changing nothing, when the backing already
   * holds data of any of the users.
   */
  importUsers(dumps: UserDump[]): Promise<void>;
}

export function isStoreAdmin(store: Store): store is Store & StoreAdmin {
  const s = store as Partial<StoreAdmin>;
  return typeof s.listUsers === 'function' && typeof s.exportUser === 'function' && typeof s.importUsers === 'function';
}

/** The events of `infra` checked to be numbered 1..n, as every backend numbers them. */
export function checkEventNumbering(infra: InfraDump): void {
  infra.events.forEach((e, i) => {
    if (e.seq !== i + 1) {
      throw new Error(`events of infrastructure ${infra.infra_id} are not numbered 1..n (event ${i + 1} has number ${e.seq})`);
    }
  });
}

/** Whether a dump holds nothing at all. */
export function isEmptyDump(dump: UserDump): boolean {
  return (
    Object.keys(dump.node_definitions).length === 0 &&
    dump.infrastructures.length === 0 &&
    Object.keys(dump.leases).length === 0 &&
    Object.keys(dump.kv).length === 0
  );
}

/** Orders infrastructure dumps as {@link UserDump.infrastructures} says: described in `order`, then the rest sorted. */
export function orderInfraDumps(dumps: Map<string, InfraDump>, describedOrder: string[]): InfraDump[] {
  const described = describedOrder.map((id) => dumps.get(id)).filter((d): d is InfraDump => d !== undefined);
  const seen = new Set(describedOrder);
  const rest = [...dumps.keys()].filter((id) => !seen.has(id)).sort();
  return [...described, ...rest.map((id) => dumps.get(id) as InfraDump)];
}

export function emptyInfraDump(infraId: string): InfraDump {
  return { infra_id: infraId, description: null, meta: {}, instances: [], failed: [], failing: {}, scaling: [], events: [] };
}

/** Whether an infrastructure dump has anything worth keeping. */
export function infraDumpHasData(d: InfraDump): boolean {
  return (
    d.description !== null ||
    Object.keys(d.meta).length > 0 ||
    d.instances.length > 0 ||
    d.failed.length > 0 ||
    Object.keys(d.failing).length > 0 ||
    d.scaling.length > 0 ||
    d.events.length > 0
  );
}
