/** An in-process engine on the memory store and the dummy driver, for enactor and infraprocessor tests. */
import { MemoryStore } from '../../../src/store/memory.js';
import { defaultConfig, type OccopusConfig } from '../../../src/config/config.js';
import { AuthData } from '../../../src/config/auth-data.js';
import { DriverSet } from '../../../src/drivers/loader.js';
import { EventBus, type EngineEvent } from '../../../src/events/events.js';
import { Enactor } from '../../../src/enactor/enactor.js';
import type { EngineContext } from '../../../src/infraprocessor/context.js';
import { silentLogger } from '../../../src/util/logger.js';
import { Semaphore } from '../../../src/util/semaphore.js';
import { compile } from '../../../src/compiler/compile.js';
import type { InfraDescription, NodeDefinition } from '../../../src/descriptors/types.js';
import type { StaticDescription } from '../../../src/compiler/types.js';

export interface Harness {
  ctx: EngineContext;
  store: MemoryStore;
  events: EngineEvent[];
  enactor(strategy?: 'sequential' | 'parallel'): Enactor;
  submit(desc: InfraDescription, infraId?: string): Promise<StaticDescription>;
  pass(infraId: string, strategy?: 'sequential' | 'parallel'): ReturnType<Enactor['makeAPass']>;
  named(name: string): EngineEvent[];
}

export function dummyDefinition(resource: Record<string, unknown> = {}, extra: Partial<NodeDefinition> = {}): NodeDefinition {
  return { resource: { type: 'dummy', ...resource }, health_check: { ping: false }, ...extra };
}

export async function harness(defs: Record<string, NodeDefinition[]>, engine: Partial<OccopusConfig['engine']> = {}): Promise<Harness> {
  const store = new MemoryStore('tester');
  await store.importNodeDefinitions(defs);
  const config: OccopusConfig = structuredClone(defaultConfig);
  Object.assign(config.engine, { poll_interval: 0.05, create_timeout: 30, ...engine });
  const log = silentLogger();
  const bus = new EventBus(store, log);
  const events: EngineEvent[] = [];
  bus.on((e) => events.push(e));
  const ctx: EngineContext = {
    store,
    drivers: new DriverSet({ store, config, authData: AuthData.fromValue(null), log }),
    events: bus,
    log,
    config,
    healthLimiter: new Semaphore(16),
    now: () => Date.now(),
  };
  const enactor = (strategy: 'sequential' | 'parallel' = 'sequential') =>
    new Enactor(ctx, { strategy, parallelism: 10, downscaleStrategy: 'simple' });
  return {
    ctx,
    store,
    events,
    enactor,
    async submit(desc, infraId) {
      const sd = compile(desc, infraId ? { infraId } : {});
      await store.putInfrastructure(sd);
      return sd;
    },
    pass: (infraId, strategy) => enactor(strategy).makeAPass(infraId, new AbortController().signal),
    named: (name) => events.filter((e) => e.name === name),
  };
}
