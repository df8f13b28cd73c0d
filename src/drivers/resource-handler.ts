/**
 * The ResourceHandler port: what the engine asks of a cloud driver. Modelled on Pulumi's provider
 * interface: few operations, each with its failure semantics written down, so the engine can keep
 * the promise "no cloud resource exists that the store does not know about".
 *
 * The engine journals an instance as `creating` (with its node id) BEFORE calling `create`, and
 * the node id is the idempotency key. After a crash, every record still `creating` is reconciled
 * with `find`: adopted if found, otherwise forgotten.
 */
import type { JsonObject, ResourceSection } from '../descriptors/types.js';
import type { ResolvedNode } from '../resolution/resolve.js';
import type { Store } from '../store/store.js';
import type { OccopusConfig } from '../config/config.js';

/** Occopus's state words (runtime §1.1); part of the external contract. */
export type ResourceState = 'ready' | 'pending' | 'shutdown' | 'temp_failed' | 'failed' | 'unknown';

export interface Addresses {
  /** Reachable addresses, most useful first (`getip` takes the first). */
  public: string[];
  /** Addresses inside the provider's network (`getprivip` takes the first). */
  private: string[];
}

/** What identifies a created instance to its driver. */
export interface InstanceHandle {
  node_id: string;
  infra_id: string;
  /** Backend id returned by `create` or `find`. */
  instance_id: string;
  /** The rendered resource section the instance was created from. */
  resource: ResourceSection;
  /** Driver-specific data returned by `create`/`find` (kept in the store). */
  driver_data: JsonObject;
}

export interface CreateOptions {
  /** The node id. Must be attached to the backend resource (tag, label, name, client token) so that
   *  `find` can locate it after a crash. */
  idempotencyKey: string;
  /** Aborted on Ctrl+C or deadline: stop waiting, clean up, and throw. */
  signal: AbortSignal;
}

export interface CreatedInstance {
  instance_id: string;
  driver_data?: JsonObject;
}

export interface ResourceHandler {
  /**
   * Starts the resource for a resolved node and returns once the backend has accepted it (it need
   * not be ready: the engine polls `getState`). Failure semantics: if it throws, everything it
   * created is gone, or can be found with `find(idempotencyKey)` and dropped. Calling it twice with
   * the same key must not create two resources.
   */
  create(node: ResolvedNode, options: CreateOptions): Promise<CreatedInstance>;
  /** The instance created with this idempotency key, or `null` if there is none (any more). */
  find(idempotencyKey: string, context: { infra_id: string; resource: ResourceSection }): Promise<CreatedInstance | null>;
  /** Destroys the instance and everything created for it. Idempotent: an instance already gone is success. */
  drop(instance: InstanceHandle, options?: { signal?: AbortSignal }): Promise<void>;
  /** Backend state mapped to Occopus's words; `unknown` when the backend no longer knows it. */
  getState(instance: InstanceHandle): Promise<ResourceState>;
  getAddresses(instance: InstanceHandle): Promise<Addresses>;
  /** Cost so far, in the provider's currency; absent when the provider has no cost API. */
  getCost?(instance: InstanceHandle): Promise<number>;
  /** Releases connections and timers. */
  close?(): Promise<void>;
}

export interface DriverLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface DriverContext {
  /** The selected `auth_data` for this resource section (auth_data.yaml), or null. Never log it. */
  auth: Record<string, unknown> | null;
  store: Store;
  config: OccopusConfig;
  log: DriverLogger;
}

/** A driver module's default export, loaded lazily by the registry. */
export interface ResourceDriver {
  type: string;
  /** One handler per distinct resource section (endpoint, credentials); the engine caches them. */
  createHandler(resource: ResourceSection, context: DriverContext): ResourceHandler;
}
