/** The library API: the seed's `setup`, `InfrastructureManager`, `InfrastructureMaintenanceProcess`, and the operations the CLI uses. */
export { setup, type OccopusApp, type SetupOptions } from './setup.js';
export { createEngine, type Engine } from './engine.js';
export {
  InfrastructureManager,
  InfrastructureIDTakenException,
  InfrastructureIDNotFoundException,
} from './manager.js';
export { InfrastructureMaintenanceProcess } from './maintenance.js';
export {
  buildInfrastructure,
  buildFromDescription,
  destroyInfrastructure,
  reportInfrastructure,
  requestScaling,
  BuildFailedError,
} from './infrastructure.js';
export { importNodeDefinitions, readNodeDefinitionFile } from './import.js';
export { validateInfrastructureFile, compileInfrastructureFile } from './validate.js';
export * from '../errors.js';
export type { StaticDescription, NodeDescription } from '../compiler/types.js';
export type { InfraReport } from '../enactor/report.js';
export type { EngineEvent } from '../events/events.js';
