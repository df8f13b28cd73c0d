/**
 * InfrastructureManager (seed API, spec/seed-api.rst): compiles and stores infrastructures and
 * keeps a table of the maintenance processes this process runs.
 */
import type { Engine } from './engine.js';
import { InfrastructureMaintenanceProcess, type MaintenanceEvents } from './maintenance.js';
import { compile } from '../compiler/compile.js';
import { checkInfraDescription } from '../descriptors/schema/infra-description.js';
import { parseYamlText } from '../descriptors/load.js';
import type { InfraDescription } from '../descriptors/types.js';
import type { ProcessStrategy } from '../infraprocessor/infraprocessor.js';
import { ConflictError, NotFoundError, OccopusError } from '../errors.js';
import { destroyInfrastructure } from './infrastructure.js';

export class InfrastructureIDTakenException extends ConflictError {
  constructor(readonly infraId: string) {
    super(`infrastructure '${infraId}' is already being maintained`);
  }
}

export class InfrastructureIDNotFoundException extends NotFoundError {
  constructor(readonly infraId: string) {
    super(`infrastructure '${infraId}' is not maintained by this manager`);
  }
}

export type InfraDescriptionInput = string | InfraDescription;

export class InfrastructureManager {
  private readonly processTable = new Map<string, InfrastructureMaintenanceProcess>();

  constructor(
    private readonly engine: Engine,
    readonly processStrategy: ProcessStrategy = 'sequential',
    private readonly options: { enactorInterval?: number; events?: (infraId: string) => MaintenanceEvents } = {},
  ) {}

  /** Compile, store and start provisioning. Returns the infra id. */
  async add(infraDesc: InfraDescriptionInput): Promise<string> {
    const infraId = await this.submit_infrastructure(infraDesc);
    this.start_provisioning(infraId);
    return infraId;
  }

  /**
   * Compile the description (YAML text without import tags, or an already parsed object) and
   * store it. Returns the new infra id.
   */
  async submit_infrastructure(infraDesc: InfraDescriptionInput): Promise<string> {
    const doc =
      typeof infraDesc === 'string'
        ? parseYamlText(infraDesc, { allowImports: false, file: '<infrastructure description>' })
        : { file: '<infrastructure description>', value: infraDesc, locate: () => undefined };
    const { value } = checkInfraDescription(doc);
    const description = compile(value, { locate: (p) => doc.locate(p) });
    await this.engine.ctx.store.putInfrastructure(description);
    return description.infra_id;
  }

  attach(infraId: string): string {
    this.start_provisioning(infraId);
    return infraId;
  }

  async detach(infraId: string): Promise<string> {
    await this.stop_provisioning(infraId);
    return infraId;
  }

  get(infraId: string): InfrastructureMaintenanceProcess {
    const process = this.processTable.get(infraId);
    if (!process) throw new InfrastructureIDNotFoundException(infraId);
    return process;
  }

  /** Whether this manager maintains the infrastructure. */
  has(infraId: string): boolean {
    return this.processTable.has(infraId);
  }

  list(): string[] {
    return [...this.processTable.keys()];
  }

  start_provisioning(infraId: string): InfrastructureMaintenanceProcess {
    if (this.processTable.has(infraId)) throw new InfrastructureIDTakenException(infraId);
    const process = new InfrastructureMaintenanceProcess(
      this.engine,
      infraId,
      this.options.enactorInterval ?? this.engine.ctx.config.engine.enactor_interval,
      this.processStrategy,
      this.options.events?.(infraId) ?? {},
    );
    this.processTable.set(infraId, process);
    process.start().catch((e: unknown) => {
      this.engine.ctx.log.error({ infra_id: infraId }, `maintenance stopped: ${e instanceof OccopusError ? e.describe() : String(e)}`);
      this.processTable.delete(infraId);
    });
    return process;
  }

  async stop_provisioning(infraId: string, waitTimeout = 60): Promise<void> {
    const process = this.get(infraId);
    this.processTable.delete(infraId);
    await process.stop(waitTimeout);
  }

  /** Tears down an infrastructure this manager does not maintain (call stop_provisioning first). */
  async tear_down(infraId: string): Promise<void> {
    if (this.processTable.has(infraId)) {
      throw new ConflictError(`infrastructure '${infraId}' is being maintained by this manager: call stop_provisioning first`);
    }
    await destroyInfrastructure(this.engine, infraId);
  }

  async stopAll(waitTimeout = 60): Promise<void> {
    await Promise.all(this.list().map((id) => this.stop_provisioning(id, waitTimeout)));
  }
}
