/** What the engine needs from the outside world: only ports, never a concrete backend. */
import type { OccopusConfig } from '../config/config.js';
import type { DriverSet } from '../drivers/loader.js';
import type { EventBus } from '../events/events.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../util/logger.js';
import type { Semaphore } from '../util/semaphore.js';

export interface EngineContext {
  store: Store;
  drivers: DriverSet;
  events: EventBus;
  log: Logger;
  config: OccopusConfig;
  /** Bounds the health probes running at once across every check of this engine. */
  healthLimiter: Semaphore;
  /** Epoch milliseconds; injectable for tests. */
  now: () => number;
}
