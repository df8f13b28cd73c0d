/**
 * The user data store (Occopus's UDS) as a port. Backends: SQLite (embedded default), memory
 * (tests), Redis (shared deployments). Every value is JSON, never executable. A Store instance is
 * scoped to one user (Occopus keys everything by the OS login name): two users sharing one
 * database or Redis server never see each other's data.
 *
 * Failure semantics shared by all backends:
 * - every method either completes fully or throws a {@link StoreError} and changes nothing;
 * - methods documented as atomic are atomic across processes sharing the backend;
 * - `get*` of something missing returns `null` (or `[]`), it does not throw.
 */
import type { JsonObject, JsonValue, NodeDefinition } from '../descriptors/types.js';
import type { StaticDescription } from '../compiler/types.js';

/**
 * Journal state of an instance record. `creating` is written before the driver is called, so a
 * crash can never leave a cloud resource the store does not know about; `created` once the driver
 * returned an instance id; `dropping` before the driver's drop is called.
 */
export type InstanceLifecycle = 'creating' | 'created' | 'dropping';

/** One node instance (Occopus's instance_data plus the journal fields). */
export interface InstanceRecord {
  node_id: string;
  infra_id: string;
  node_name: string;
  lifecycle: InstanceLifecycle;
  /** Resource type (driver) that owns the instance. */
  resource_type: string;
  /** Backend id, `null` until the driver's create returned. */
  instance_id: string | null;
  /** Epoch seconds when the driver's create returned (used by the `simple` downscale strategy). */
  instance_start_time: number | null;
  /** Epoch milliseconds when the record was journaled; instances are listed in this order. */
  created_at: number;
  /** instance_data: node_description, resolved_node_definition, resource, and driver data. */
  data: JsonObject;
}

/** A request to change the number of instances of one node, consumed by the enactor. */
export type ScalingRequest =
  | { node: string; kind: 'create'; count: number }
  /** `selector` is a node id or an address; `null` lets the downscale strategy choose. */
  | { node: string; kind: 'destroy'; selector: string | null }
  | { node: string; kind: 'target'; count: number };

export interface StoredEvent {
  /** Monotonic per infrastructure, starting at 1. */
  seq: number;
  infra_id: string;
  name: string;
  /** Epoch milliseconds. */
  timestamp: number;
  data: JsonObject;
}

export interface Lease {
  holder: string;
  /** Epoch milliseconds after which the lease may be taken by another holder. */
  expires_at: number;
}

export interface Store {
  /** The user this store is scoped to. */
  readonly user: string;

  // --- node definitions (`node_def:{user}@{type}` in Occopus) ---

  /** Atomic: replaces the list of each type given; types not given are untouched. */
  importNodeDefinitions(defs: Record<string, NodeDefinition[]>): Promise<void>;
  /** The implementations of a node type, `[]` when the type was never imported. */
  getNodeDefinitions(type: string): Promise<NodeDefinition[]>;
  listNodeDefinitionTypes(): Promise<string[]>;

  // --- infrastructures ---

  /** Insert or replace the compiled description. */
  putInfrastructure(description: StaticDescription): Promise<void>;
  getInfrastructure(infraId: string): Promise<StaticDescription | null>;
  /** Infrastructure ids in creation order. */
  listInfrastructures(): Promise<string[]>;
  /** Atomic: removes the description and everything kept under it (instances, archive, scaling
   * requests, timers, events, meta). Removing an unknown id succeeds. */
  removeInfrastructure(infraId: string): Promise<void>;

  /** Small per-infrastructure values (notification, last observed report, maintained flag). */
  setInfraMeta(infraId: string, key: string, value: JsonValue | null): Promise<void>;
  getInfraMeta(infraId: string, key: string): Promise<JsonValue | null>;

  // --- instances: the journal ---

  /** Insert a new record. Throws a StoreError if the node id exists. */
  insertInstance(record: InstanceRecord): Promise<void>;
  /**
   * Atomic compare-and-set: applies `patch` only if the record exists and, when `expected` is
   * given, its lifecycle is one of them. Returns the updated record, or `null` if nothing changed.
   */
  updateInstance(
    infraId: string,
    nodeId: string,
    patch: Partial<Omit<InstanceRecord, 'node_id' | 'infra_id'>>,
    expected?: InstanceLifecycle[],
  ): Promise<InstanceRecord | null>;
  getInstance(infraId: string, nodeId: string): Promise<InstanceRecord | null>;
  /** All records of an infrastructure in `created_at` order (ties: insertion order). */
  listInstances(infraId: string): Promise<InstanceRecord[]>;
  /** Returns whether a record was removed. */
  removeInstance(infraId: string, nodeId: string): Promise<boolean>;
  /** Keep a copy of a failed instance (Occopus's `failed_nodes`). */
  archiveFailedInstance(record: InstanceRecord): Promise<void>;
  listFailedInstances(infraId: string): Promise<InstanceRecord[]>;

  // --- health-check failure timers (runtime §1.4) ---

  /** Atomic: records `now` as the first failure unless one is recorded; returns the recorded time. */
  markFailing(infraId: string, nodeId: string, now: number): Promise<number>;
  getFailingSince(infraId: string, nodeId: string): Promise<number | null>;
  clearFailing(infraId: string, nodeId: string): Promise<void>;

  // --- scaling requests ---

  addScalingRequests(infraId: string, requests: ScalingRequest[]): Promise<void>;
  /** Atomic: returns every pending request in submission order and removes them, so each request
   * is consumed exactly once even with several processes. */
  takeScalingRequests(infraId: string): Promise<ScalingRequest[]>;
  /** Pending requests, without consuming them. */
  peekScalingRequests(infraId: string): Promise<ScalingRequest[]>;

  // --- leases (one maintainer per infrastructure) ---

  /** Atomic: takes the lease if it is free, expired, or already held by `holder` (then renews). */
  acquireLease(key: string, holder: string, ttlMs: number, now?: number): Promise<boolean>;
  /** Atomic: extends the lease only if `holder` still holds it. */
  renewLease(key: string, holder: string, ttlMs: number, now?: number): Promise<boolean>;
  /** Releases the lease only if `holder` holds it. */
  releaseLease(key: string, holder: string): Promise<void>;
  getLease(key: string): Promise<Lease | null>;

  // --- events ---

  /** Appends an event and returns its sequence number. */
  appendEvent(infraId: string, name: string, timestamp: number, data: JsonObject): Promise<number>;
  /** Events with `seq > afterSeq`, oldest first, at most `limit`. */
  readEvents(infraId: string, afterSeq?: number, limit?: number): Promise<StoredEvent[]>;

  // --- key-value space for drivers (e.g. the dummy cloud's simulated instances) ---

  kvGet(namespace: string, key: string): Promise<JsonValue | null>;
  kvPut(namespace: string, key: string, value: JsonValue): Promise<void>;
  kvDelete(namespace: string, key: string): Promise<boolean>;
  kvList(namespace: string): Promise<Record<string, JsonValue>>;

  close(): Promise<void>;
}
