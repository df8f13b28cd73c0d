/**
 * Operations on one infrastructure, shared by the command-line tools, the REST service and the
 * library: build (or reconfigure), tear down, report, scale.
 */
import { compileInfrastructureFile } from './validate.js';
import type { Engine } from './engine.js';
import { MaintenanceLease, newHolderId } from './lease.js';
import type { StaticDescription } from '../compiler/types.js';
import type { InfraReport } from '../enactor/report.js';
import type { ProcessStrategy } from '../infraprocessor/infraprocessor.js';
import { InfraProcessor } from '../infraprocessor/infraprocessor.js';
import { dropInstance } from '../infraprocessor/drop-node.js';
import type { Command } from '../infraprocessor/commands.js';
import type { ScalingRequest } from '../store/store.js';
import { NotFoundError, OccopusError, messageOf } from '../errors.js';
import { childController } from '../util/abort.js';
import { Semaphore } from '../util/semaphore.js';
import { effectiveScaling } from '../compiler/scaling.js';

export interface BuildOptions {
  /** Reconfigure this existing infrastructure (`occopus-build -i`). */
  infraId?: string;
  strategy?: ProcessStrategy;
  signal: AbortSignal;
  /** Called once the description is stored, before anything is created. */
  onSubmitted?: (infraId: string) => void;
}

export interface BuildResult {
  infra_id: string;
  updated: boolean;
  report: InfraReport;
}

export class BuildFailedError extends OccopusError {
  constructor(message: string, readonly infraId: string, readonly rolledBack: boolean, cause: unknown) {
    super(cause instanceof OccopusError ? cause.code : 'E_INTERNAL', message, { cause });
  }
}

/**
 * Compiles, stores and builds an infrastructure with one enactor pass. On failure or cancellation,
 * a NEW infrastructure is torn down completely; a RECONFIGURED one keeps running with its previous
 * description restored (Occopus destroyed it, runtime §10.4).
 */
export async function buildInfrastructure(engine: Engine, file: string, options: BuildOptions): Promise<BuildResult> {
  const { description } = compileInfrastructureFile(file, options.infraId);
  return buildFromDescription(engine, description, options);
}

export async function buildFromDescription(engine: Engine, description: StaticDescription, options: BuildOptions): Promise<BuildResult> {
  const { store, config } = engine.ctx;
  const infraId = description.infra_id;
  const previous = await store.getInfrastructure(infraId);
  const lease = await MaintenanceLease.acquire(store, infraId, newHolderId('build'), config.engine.lease_ttl * 1000);
  const work = childController(options.signal, lease.signal);
  try {
    if (previous) description.suspended = previous.suspended;
    await store.putInfrastructure(description);
    options.onSubmitted?.(infraId);
    try {
      const result = await engine.enactor(options.strategy).makeAPass(infraId, work.signal);
      return { infra_id: infraId, updated: previous !== null, report: result.report };
    } catch (e) {
      if (previous) {
        await store.putInfrastructure(previous);
        throw new BuildFailedError(
          `reconfiguration of '${infraId}' failed, the infrastructure keeps running with its previous description: ${messageOf(e)}`,
          infraId,
          false,
          e,
        );
      }
      const teardown = await tearDownUnderLease(engine, infraId).then(
        () => 'everything it created was destroyed',
        (t: unknown) => `tearing it down failed too (${messageOf(t)}); run occopus-destroy -i ${infraId}`,
      );
      throw new BuildFailedError(`build of '${infraId}' failed, ${teardown}: ${messageOf(e)}`, infraId, true, e);
    }
  } finally {
    work.dispose();
    await lease.release();
  }
}

/** Drops every instance (journaled ones included), the infrastructure's environments, and its records. */
export async function destroyInfrastructure(engine: Engine, infraId: string, options: { waitMs?: number } = {}): Promise<void> {
  const { store, config } = engine.ctx;
  if (!(await store.getInfrastructure(infraId))) throw new NotFoundError(`unknown infrastructure '${infraId}'`);
  const lease = await MaintenanceLease.acquire(store, infraId, newHolderId('destroy'), config.engine.lease_ttl * 1000, {
    waitMs: options.waitMs ?? 0,
  });
  try {
    await tearDownUnderLease(engine, infraId);
  } finally {
    await lease.release();
  }
}

async function tearDownUnderLease(engine: Engine, infraId: string): Promise<void> {
  const { ctx } = engine;
  const records = await ctx.store.listInstances(infraId);
  const failures: string[] = [];
  const processor = new InfraProcessor(ctx, { strategy: 'parallel', parallelism: ctx.config.engine.parallelism });
  // Drops are done directly so every failure is collected: a teardown must not report success while
  // something it could not drop is still running.
  // Bounded like any other batch: a thousand terminate calls at once would only be throttled.
  const slots = new Semaphore(ctx.config.engine.parallelism);
  await Promise.all(
    records.map((record) =>
      slots.run(() => dropInstance(ctx, record, 'teardown')).catch((e: unknown) => {
        failures.push(messageOf(e));
      }),
    ),
  );
  if (failures.length) throw new OccopusError('E_DRIVER', `could not drop ${failures.length} instance(s): ${failures.join('; ')}`);
  const drop: Command[] = [{ kind: 'DropInfrastructure', infraId }];
  await processor.pushInstructions(infraId, drop, new AbortController().signal);
  await ctx.store.removeInfrastructure(infraId);
}

/** The current state of every instance, observed now (health checks run; failure timers untouched). */
export async function reportInfrastructure(engine: Engine, infraId: string, options: { store?: boolean } = {}): Promise<InfraReport> {
  const description = await engine.ctx.store.getInfrastructure(infraId);
  if (!description) throw new NotFoundError(`unknown infrastructure '${infraId}'`);
  return engine.enactor().observe(description, options.store ?? false);
}

export interface ScaleResult {
  infra_id: string;
  node: string;
  requests: ScalingRequest[];
  /** What the user should know now (e.g. the request goes beyond the node's limits). */
  notes: string[];
}

/** Records a scaling request; the maintainer carries it out on its next pass. */
export async function requestScaling(engine: Engine, infraId: string, nodeName: string, request: { kind: 'create'; count: number } | { kind: 'destroy'; count: number } | { kind: 'destroy'; selector: string } | { kind: 'target'; count: number }): Promise<ScaleResult> {
  const { store } = engine.ctx;
  const description = await store.getInfrastructure(infraId);
  if (!description) throw new NotFoundError(`unknown infrastructure '${infraId}'`);
  const node = description.nodes.find((n) => n.name === nodeName);
  if (!node) throw new NotFoundError(`node '${nodeName}' does not exist in infrastructure '${infraId}'`);
  const requests: ScalingRequest[] =
    request.kind === 'create'
      ? [{ node: nodeName, kind: 'create', count: request.count }]
      : request.kind === 'target'
        ? [{ node: nodeName, kind: 'target', count: request.count }]
        : 'selector' in request
          ? [{ node: nodeName, kind: 'destroy', selector: request.selector }]
          : Array.from({ length: request.count }, () => ({ node: nodeName, kind: 'destroy' as const, selector: null }));
  const notes: string[] = [];
  const limits = effectiveScaling(node);
  const targets = ((await store.getInfraMeta(infraId, 'targets')) ?? {}) as Record<string, number>;
  const current = targets[nodeName] ?? limits.min;
  const wanted =
    request.kind === 'create' ? current + request.count : request.kind === 'target' ? request.count : current - ('selector' in request ? 1 : request.count);
  if (wanted > limits.max) notes.push(`node '${nodeName}' allows at most ${limits.max} instance(s): ${wanted} requested, ${limits.max} will run`);
  if (wanted < limits.min) notes.push(`node '${nodeName}' needs at least ${limits.min} instance(s): ${wanted} requested, ${limits.min} will run`);
  await store.addScalingRequests(infraId, requests);
  return { infra_id: infraId, node: nodeName, requests, notes };
}
