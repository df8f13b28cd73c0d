/**
 * The memory backend, for tests and throw-away runs. Several {@link MemoryStore}s (one per user)
 * can share one {@link MemoryBacking}, like several processes share one database file. Values go
 * in and out as JSON copies (see values.ts), so callers never alias what is stored and the backend
 * accepts exactly what the persistent ones accept.
 *
 * Atomicity comes for free: every method runs synchronously to completion before its promise
 * settles, and validates (copies) its input before it mutates anything.
 */
import { StoreError } from '../errors.js';
import type { JsonObject, JsonValue, NodeDefinition } from '../descriptors/types.js';
import type { StaticDescription } from '../compiler/types.js';
import type { InstanceLifecycle, InstanceRecord, Lease, ScalingRequest, Store, StoredEvent } from './store.js';
import { applyInstancePatch, jsonCopy, type InstancePatch } from './values.js';
import { checkEventNumbering, emptyInfraDump, orderInfraDumps, type InfraDump, type StoreAdmin, type UserDump } from './admin.js';

interface StoredInstance {
  /** Insertion counter, the tie-breaker of `created_at` order. */
  order: number;
  record: InstanceRecord;
}

/** What is kept under one infrastructure id, apart from its description. */
interface InfraBucket {
  meta: Map<string, JsonValue>;
  instances: Map<string, StoredInstance>;
  failed: Map<string, InstanceRecord>;
  failing: Map<string, number>;
  scaling: ScalingRequest[];
  events: StoredEvent[];
}

interface UserData {
  nodeDefinitions: Map<string, NodeDefinition[]>;
  /** Map order is creation order; a replace keeps the position. */
  descriptions: Map<string, StaticDescription>;
  buckets: Map<string, InfraBucket>;
  leases: Map<string, Lease>;
  kv: Map<string, Map<string, JsonValue>>;
}

/** The shared memory behind one or more MemoryStores. */
export class MemoryBacking {
  private readonly users = new Map<string, UserData>();
  private instanceCounter = 0;

  /** @internal */
  userData(user: string): UserData {
    let data = this.users.get(user);
    if (!data) {
      data = { nodeDefinitions: new Map(), descriptions: new Map(), buckets: new Map(), leases: new Map(), kv: new Map() };
      this.users.set(user, data);
    }
    return data;
  }

  /** @internal Users that hold any data. */
  userNames(): string[] {
    return [...this.users.entries()]
      .filter(([, d]) => d.nodeDefinitions.size + d.descriptions.size + d.buckets.size + d.leases.size + d.kv.size > 0)
      .map(([name]) => name);
  }

  /** @internal */
  nextInstanceOrder(): number {
    return ++this.instanceCounter;
  }
}

function sortedKeys<V>(map: Map<string, V>): string[] {
  return [...map.keys()].sort();
}

export class MemoryStore implements Store, StoreAdmin {
  readonly user: string;
  private readonly backing: MemoryBacking;
  private closed = false;

  constructor(user: string, backing: MemoryBacking = new MemoryBacking()) {
    if (!user) throw new StoreError('A store needs a non-empty user name');
    this.user = user;
    this.backing = backing;
  }

  private data(): UserData {
    if (this.closed) throw new StoreError('The memory store is closed');
    return this.backing.userData(this.user);
  }

  private bucket(infraId: string, create: true): InfraBucket;
  private bucket(infraId: string, create: false): InfraBucket | undefined;
  private bucket(infraId: string, create: boolean): InfraBucket | undefined {
    const buckets = this.data().buckets;
    let b = buckets.get(infraId);
    if (!b && create) {
      b = { meta: new Map(), instances: new Map(), failed: new Map(), failing: new Map(), scaling: [], events: [] };
      buckets.set(infraId, b);
    }
    return b;
  }

  // --- node definitions ---

  async importNodeDefinitions(defs: Record<string, NodeDefinition[]>): Promise<void> {
    const copy = jsonCopy(defs, 'node definitions');
    const target = this.data().nodeDefinitions;
    for (const [type, list] of Object.entries(copy)) target.set(type, list);
  }

  async getNodeDefinitions(type: string): Promise<NodeDefinition[]> {
    const list = this.data().nodeDefinitions.get(type);
    return list ? jsonCopy(list, `node definitions of ${type}`) : [];
  }

  async listNodeDefinitionTypes(): Promise<string[]> {
    return sortedKeys(this.data().nodeDefinitions);
  }

  // --- infrastructures ---

  async putInfrastructure(description: StaticDescription): Promise<void> {
    const copy = jsonCopy(description, `infrastructure ${description.infra_id}`);
    this.data().descriptions.set(copy.infra_id, copy);
  }

  async getInfrastructure(infraId: string): Promise<StaticDescription | null> {
    const d = this.data().descriptions.get(infraId);
    return d ? jsonCopy(d, `infrastructure ${infraId}`) : null;
  }

  async listInfrastructures(): Promise<string[]> {
    return [...this.data().descriptions.keys()];
  }

  async removeInfrastructure(infraId: string): Promise<void> {
    const data = this.data();
    data.descriptions.delete(infraId);
    data.buckets.delete(infraId);
  }

  async setInfraMeta(infraId: string, key: string, value: JsonValue | null): Promise<void> {
    if (value === null) {
      this.bucket(infraId, false)?.meta.delete(key);
      return;
    }
    const copy = jsonCopy(value, `meta ${key} of infrastructure ${infraId}`);
    this.bucket(infraId, true).meta.set(key, copy);
  }

  async getInfraMeta(infraId: string, key: string): Promise<JsonValue | null> {
    const v = this.bucket(infraId, false)?.meta.get(key);
    return v === undefined ? null : jsonCopy(v, `meta ${key}`);
  }

  // --- instances ---

  async insertInstance(record: InstanceRecord): Promise<void> {
    const copy = jsonCopy(record, `instance ${record.node_id}`);
    const b = this.bucket(copy.infra_id, false);
    if (b?.instances.has(copy.node_id)) {
      throw new StoreError(`Instance ${copy.node_id} already exists in infrastructure ${copy.infra_id}`);
    }
    this.bucket(copy.infra_id, true).instances.set(copy.node_id, { order: this.backing.nextInstanceOrder(), record: copy });
  }

  async updateInstance(
    infraId: string,
    nodeId: string,
    patch: InstancePatch,
    expected?: InstanceLifecycle[],
  ): Promise<InstanceRecord | null> {
    const stored = this.bucket(infraId, false)?.instances.get(nodeId);
    if (!stored) return null;
    if (expected && !expected.includes(stored.record.lifecycle)) return null;
    const next = applyInstancePatch(stored.record, patch);
    stored.record = next;
    return jsonCopy(next, `instance ${nodeId}`);
  }

  async getInstance(infraId: string, nodeId: string): Promise<InstanceRecord | null> {
    const stored = this.bucket(infraId, false)?.instances.get(nodeId);
    return stored ? jsonCopy(stored.record, `instance ${nodeId}`) : null;
  }

  async listInstances(infraId: string): Promise<InstanceRecord[]> {
    const b = this.bucket(infraId, false);
    if (!b) return [];
    const all = [...b.instances.values()].sort(
      (x, y) => x.record.created_at - y.record.created_at || x.order - y.order,
    );
    return all.map((s) => jsonCopy(s.record, `instance ${s.record.node_id}`));
  }

  async removeInstance(infraId: string, nodeId: string): Promise<boolean> {
    return this.bucket(infraId, false)?.instances.delete(nodeId) ?? false;
  }

  async archiveFailedInstance(record: InstanceRecord): Promise<void> {
    const copy = jsonCopy(record, `instance ${record.node_id}`);
    this.bucket(copy.infra_id, true).failed.set(copy.node_id, copy);
  }

  async listFailedInstances(infraId: string): Promise<InstanceRecord[]> {
    const b = this.bucket(infraId, false);
    return b ? [...b.failed.values()].map((r) => jsonCopy(r, `instance ${r.node_id}`)) : [];
  }

  // --- failure timers ---

  async markFailing(infraId: string, nodeId: string, now: number): Promise<number> {
    const failing = this.bucket(infraId, true).failing;
    const since = failing.get(nodeId);
    if (since !== undefined) return since;
    failing.set(nodeId, now);
    return now;
  }

  async getFailingSince(infraId: string, nodeId: string): Promise<number | null> {
    return this.bucket(infraId, false)?.failing.get(nodeId) ?? null;
  }

  async clearFailing(infraId: string, nodeId: string): Promise<void> {
    this.bucket(infraId, false)?.failing.delete(nodeId);
  }

  // --- scaling requests ---

  async addScalingRequests(infraId: string, requests: ScalingRequest[]): Promise<void> {
    const copy = jsonCopy(requests, `scaling requests of infrastructure ${infraId}`);
    this.bucket(infraId, true).scaling.push(...copy);
  }

  async takeScalingRequests(infraId: string): Promise<ScalingRequest[]> {
    const b = this.bucket(infraId, false);
    if (!b) return [];
    const taken = b.scaling;
    b.scaling = [];
    return taken;
  }

  async peekScalingRequests(infraId: string): Promise<ScalingRequest[]> {
    const b = this.bucket(infraId, false);
    return b ? jsonCopy(b.scaling, 'scaling requests') : [];
  }

  // --- leases ---

  async acquireLease(key: string, holder: string, ttlMs: number, now: number = Date.now()): Promise<boolean> {
    const leases = this.data().leases;
    const current = leases.get(key);
    if (current && current.holder !== holder && now <= current.expires_at) return false;
    leases.set(key, { holder, expires_at: now + ttlMs });
    return true;
  }

  async renewLease(key: string, holder: string, ttlMs: number, now: number = Date.now()): Promise<boolean> {
    const leases = this.data().leases;
    const current = leases.get(key);
    if (!current || current.holder !== holder) return false;
    leases.set(key, { holder, expires_at: now + ttlMs });
    return true;
  }

  async releaseLease(key: string, holder: string): Promise<void> {
    const leases = this.data().leases;
    if (leases.get(key)?.holder === holder) leases.delete(key);
  }

  async getLease(key: string): Promise<Lease | null> {
    const lease = this.data().leases.get(key);
    return lease ? { ...lease } : null;
  }

  // --- events ---

  async appendEvent(infraId: string, name: string, timestamp: number, data: JsonObject): Promise<number> {
    const copy = jsonCopy(data, `data of event ${name}`);
    const events = this.bucket(infraId, true).events;
    const seq = (events[events.length - 1]?.seq ?? 0) + 1;
    events.push({ seq, infra_id: infraId, name, timestamp, data: copy });
    return seq;
  }

  async readEvents(infraId: string, afterSeq = 0, limit?: number): Promise<StoredEvent[]> {
    const events = this.bucket(infraId, false)?.events ?? [];
    const after = events.filter((e) => e.seq > afterSeq);
    const page = limit === undefined ? after : after.slice(0, Math.max(0, Math.floor(limit)));
    return jsonCopy(page, 'events');
  }

  // --- key-value ---

  async kvGet(namespace: string, key: string): Promise<JsonValue | null> {
    const v = this.data().kv.get(namespace)?.get(key);
    return v === undefined ? null : jsonCopy(v, `value ${namespace}/${key}`);
  }

  async kvPut(namespace: string, key: string, value: JsonValue): Promise<void> {
    const copy = jsonCopy(value, `value ${namespace}/${key}`);
    const kv = this.data().kv;
    let ns = kv.get(namespace);
    if (!ns) {
      ns = new Map();
      kv.set(namespace, ns);
    }
    ns.set(key, copy);
  }

  async kvDelete(namespace: string, key: string): Promise<boolean> {
    const kv = this.data().kv;
    const ns = kv.get(namespace);
    if (!ns) return false;
    const removed = ns.delete(key);
    if (ns.size === 0) kv.delete(namespace);
    return removed;
  }

  async kvList(namespace: string): Promise<Record<string, JsonValue>> {
    const ns = this.data().kv.get(namespace);
    if (!ns) return {};
    // fromEntries defines own properties, so a key named __proto__ stays a plain key.
    return Object.fromEntries(sortedKeys(ns).map((key) => [key, jsonCopy(ns.get(key)!, `value ${namespace}/${key}`)]));
  }

  // --- admin (occopus store migrate) ---

  async listUsers(): Promise<string[]> {
    if (this.closed) throw new StoreError('The memory store is closed');
    return this.backing.userNames().sort();
  }

  async exportUser(user: string): Promise<UserDump> {
    if (this.closed) throw new StoreError('The memory store is closed');
    const data = this.backing.userData(user);
    const dumps = new Map<string, InfraDump>();
    for (const [id, description] of data.descriptions) dumps.set(id, { ...emptyInfraDump(id), description });
    for (const [id, b] of data.buckets) {
      const d = dumps.get(id) ?? emptyInfraDump(id);
      d.meta = Object.fromEntries(b.meta);
      d.instances = [...b.instances.values()]
        .sort((x, y) => x.record.created_at - y.record.created_at || x.order - y.order)
        .map((i) => i.record);
      d.failed = [...b.failed.values()];
      d.failing = Object.fromEntries(b.failing);
      d.scaling = b.scaling;
      d.events = b.events;
      dumps.set(id, d);
    }
    const now = Date.now();
    const dump: UserDump = {
      user,
      node_definitions: Object.fromEntries(sortedKeys(data.nodeDefinitions).map((t) => [t, data.nodeDefinitions.get(t)!])),
      infrastructures: orderInfraDumps(dumps, [...data.descriptions.keys()]),
      leases: Object.fromEntries([...data.leases].filter(([, l]) => l.expires_at > now)),
      kv: Object.fromEntries(
        sortedKeys(data.kv).map((ns) => {
          const values = data.kv.get(ns)!;
          return [ns, Object.fromEntries(sortedKeys(values).map((k) => [k, values.get(k)!]))];
        }),
      ),
    };
    return jsonCopy(dump, `the data of user ${user}`);
  }

  async importUsers(dumps: UserDump[]): Promise<void> {
    if (this.closed) throw new StoreError('The memory store is closed');
    const copies = jsonCopy(dumps, 'imported data');
    const present = new Set(this.backing.userNames());
    for (const dump of copies) {
      if (!dump.user) throw new StoreError('Cannot import data without a user name');
      if (present.has(dump.user)) throw new StoreError(`The memory store already holds data of user '${dump.user}'; migrate into an empty store`);
      for (const infra of dump.infrastructures) {
        try {
          checkEventNumbering(infra);
        } catch (e) {
          throw new StoreError(`Cannot import the data of user '${dump.user}': ${(e as Error).message}`, e);
        }
      }
    }
    for (const dump of copies) {
      const data = this.backing.userData(dump.user);
      for (const [type, list] of Object.entries(dump.node_definitions)) data.nodeDefinitions.set(type, list);
      for (const infra of dump.infrastructures) {
        if (infra.description) data.descriptions.set(infra.infra_id, infra.description);
        const b: InfraBucket = {
          meta: new Map(Object.entries(infra.meta)),
          instances: new Map(infra.instances.map((r) => [r.node_id, { order: this.backing.nextInstanceOrder(), record: r }])),
          failed: new Map(infra.failed.map((r) => [r.node_id, r])),
          failing: new Map(Object.entries(infra.failing)),
          scaling: infra.scaling,
          events: infra.events,
        };
        data.buckets.set(infra.infra_id, b);
      }
      for (const [key, lease] of Object.entries(dump.leases)) data.leases.set(key, lease);
      for (const [ns, values] of Object.entries(dump.kv)) data.kv.set(ns, new Map(Object.entries(values)));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
