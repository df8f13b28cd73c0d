/** Wiring of the engine for one process: drivers, events and the enactor on top of `setup()`. */
import type { OccopusApp } from './setup.js';
import { DriverSet } from '../drivers/loader.js';
import { EventBus } from '../events/events.js';
import type { EngineContext } from '../infraprocessor/context.js';
import { Enactor } from '../enactor/enactor.js';
import type { ProcessStrategy } from '../infraprocessor/infraprocessor.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { Semaphore } from '../util/semaphore.js';
import { DEFAULT_PROBE_CONCURRENCY } from '../health/basic-check.js';

export interface Engine {
  ctx: EngineContext;
  enactor(strategy?: ProcessStrategy): Enactor;
  close(): Promise<void>;
}

export function createEngine(app: OccopusApp, options: { log?: Logger } = {}): Engine {
  const log = options.log ?? silentLogger();
  const ctx: EngineContext = {
    store: app.store,
    drivers: new DriverSet({ store: app.store, config: app.configuration, authData: app.authData, log }),
    events: new EventBus(app.store, log),
    log,
    config: app.configuration,
    healthLimiter: new Semaphore(DEFAULT_PROBE_CONCURRENCY),
    now: () => Date.now(),
  };
  return {
    ctx,
    enactor(strategy) {
      const engine = app.configuration.engine;
      return new Enactor(ctx, {
        strategy: strategy ?? engine.strategy,
        parallelism: engine.parallelism,
        downscaleStrategy: engine.downscale_strategy,
      });
    },
    close: () => ctx.drivers.close(),
  };
}
