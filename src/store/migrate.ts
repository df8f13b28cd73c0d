/**
 * `occopus store migrate`: copies every user's data from one store to another (SQLite ↔ Redis, or
 * between two Redis prefixes or servers), then reads it back from the target and compares.
 *
 * The copy is a snapshot: stop the orchestrators using the source first. The target must hold no
 * data of the users copied (nothing is merged or overwritten). Leases that have expired are not
 * copied (they are free either way); live ones are, so a long-lived claim such as the dummy
 * driver's address allocation survives the move.
 */
import { isDeepStrictEqual } from 'node:util';
import { StoreError } from '../errors.js';
import { isStoreAdmin, type StoreAdmin, type UserDump } from './admin.js';
import { currentUser, openStore } from './open.js';
import type { Store } from './store.js';

export interface MigratedUser {
  user: string;
  node_definition_types: number;
  infrastructures: number;
  instances: number;
  failed_instances: number;
  scaling_requests: number;
  events: number;
  leases: number;
  kv_values: number;
}

export interface MigrateResult {
  users: MigratedUser[];
}

export interface MigrateOptions {
  /** Only these users (default: every user of the source). */
  users?: string[];
}

function summary(d: UserDump): MigratedUser {
  const sum = (f: (i: UserDump['infrastructures'][number]) => number) => d.infrastructures.reduce((n, i) => n + f(i), 0);
  return {
    user: d.user,
    node_definition_types: Object.keys(d.node_definitions).length,
    infrastructures: d.infrastructures.filter((i) => i.description !== null).length,
    instances: sum((i) => i.instances.length),
    failed_instances: sum((i) => i.failed.length),
    scaling_requests: sum((i) => i.scaling.length),
    events: sum((i) => i.events.length),
    leases: Object.keys(d.leases).length,
    kv_values: Object.values(d.kv).reduce((n, ns) => n + Object.keys(ns).length, 0),
  };
}

/** Leases are compared by holder only: a backend may round an expiry it re-computes from a TTL. */
function comparable(d: UserDump): unknown {
  return { ...d, leases: Object.fromEntries(Object.entries(d.leases).map(([k, l]) => [k, l.holder])) };
}

function whoami(): string {
  try {
    return currentUser();
  } catch {
    return 'occopus-migrate';
  }
}

async function openAdmin(url: string, role: 'source' | 'target'): Promise<Store & StoreAdmin> {
  if (/^memory:/i.test(url.trim())) {
    throw new StoreError(`A memory: store lives only inside one process; it cannot be the ${role} of a migration`);
  }
  const store = await openStore(url, { user: whoami() });
  if (!isStoreAdmin(store)) {
    await store.close();
    throw new StoreError(`The ${role} store cannot be migrated (its backend does not support export and import)`);
  }
  return store;
}

export async function migrateStore(fromUrl: string, toUrl: string, options: MigrateOptions = {}): Promise<MigrateResult> {
  if (!fromUrl || !toUrl) throw new StoreError('A migration needs a source (--from) and a target (--to) store URL');
  if (fromUrl.trim() === toUrl.trim()) throw new StoreError('The source and the target of a migration are the same store');
  const source = await openAdmin(fromUrl, 'source');
  try {
    const target = await openAdmin(toUrl, 'target');
    try {
      const available = await source.listUsers();
      const users = options.users ?? available;
      const missing = users.filter((u) => !available.includes(u));
      if (missing.length > 0) throw new StoreError(`The source store holds no data of user(s) ${missing.map((u) => `'${u}'`).join(', ')}`);
      const dumps: UserDump[] = [];
      for (const user of users) dumps.push(await source.exportUser(user));
      await target.importUsers(dumps);
      for (const dump of dumps) {
        const copied = await target.exportUser(dump.user);
        if (!isDeepStrictEqual(comparable(copied), comparable(dump))) {
          throw new StoreError(`The data of user '${dump.user}' read back from the target differs from the source; check the target store`);
        }
      }
      return { users: dumps.map(summary) };
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
