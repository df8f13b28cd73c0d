/**
 * The Enactor: one maintenance pass over one infrastructure (runtime §3). It reads the desired
 * state (the compiled description, scaling targets) and the actual state (journaled instances and
 * what the drivers and health checks say), and pushes the delta to the InfraProcessor in order:
 * bootstrap, downscale drops, drops of removed node types, drops of failed instances, then creates
 * level by level.
 *
 * The caller holds the infrastructure's maintenance lease for the whole pass.
 */
import type { NodeDescription, StaticDescription } from '../compiler/types.js';
import type { JsonObject } from '../descriptors/types.js';
import type { InstanceRecord, ScalingRequest } from '../store/store.js';
import type { EngineContext } from '../infraprocessor/context.js';
import type { Command } from '../infraprocessor/commands.js';
import { InfraProcessor, type StrategyOptions } from '../infraprocessor/infraprocessor.js';
import { observeInstance, type Observation } from '../infraprocessor/observe.js';
import { dropInstance } from '../infraprocessor/drop-node.js';
import { allAddresses, instanceData, toJsonObject } from '../infraprocessor/instance.js';
import { effectiveScaling } from '../compiler/scaling.js';
import { NotFoundError, messageOf } from '../errors.js';
import { throwIfAborted } from '../util/abort.js';
import { decideScaling, selectInstancesToDrop, type DownscaleStrategy, type ExistingInstance } from './scaling.js';
import { buildReport, type InfraReport } from './report.js';

export interface PassResult {
  infra_id: string;
  report: InfraReport;
  /** Every node is at its target count and every instance is ready. */
  ready: boolean;
}

export interface EnactorOptions extends StrategyOptions {
  downscaleStrategy: DownscaleStrategy;
}

const META_TARGETS = 'targets';
const META_STARTED = 'started';
const META_READY = 'ready';
const META_REPORT = 'report';

export class Enactor {
  private readonly processor: InfraProcessor;

  constructor(
    private readonly ctx: EngineContext,
    private readonly options: EnactorOptions,
  ) {
    this.processor = new InfraProcessor(ctx, options);
  }

  async makeAPass(infraId: string, signal: AbortSignal): Promise<PassResult> {
    const { store } = this.ctx;
    const description = await store.getInfrastructure(infraId);
    if (!description) throw new NotFoundError(`unknown infrastructure '${infraId}'`);
    if (description.suspended) {
      const report = await this.observe(description, true, signal);
      return { infra_id: infraId, report, ready: false };
    }

    // One listing serves the journal and the upkeep unless reconciling changed the journal.
    let records = await store.listInstances(infraId);
    if (await this.reconcileJournal(infraId, records)) records = await store.listInstances(infraId);
    throwIfAborted(signal);

    // Upkeep: observe every instance; failed and shut-down ones are dropped through their driver.
    const observations = await this.observeAll(records, false, signal);
    const failedDrops: Command[] = [];
    const alive: InstanceRecord[] = [];
    for (const record of records) {
      const seen = observations.get(record.node_id);
      if (record.lifecycle !== 'created' || !seen) continue;
      if (seen.state === 'failed' || seen.state === 'shutdown') {
        if (seen.state === 'failed') {
          await store.archiveFailedInstance(record);
          await this.ctx.events.emit(infraId, 'nodefailed', {
            node_id: record.node_id,
            node_name: record.node_name,
            details: seen.details,
          });
        }
        failedDrops.push({ kind: 'DropNode', record, reason: seen.state });
      } else {
        alive.push(record);
        // Only a create that waited until ready records addresses; an instance adopted after a crash
        // gets them here, or `getip` in the nodes created after it could never find it.
        if (seen.state === 'ready' && seen.addresses && !instanceData(record).addresses) {
          await store.updateInstance(infraId, record.node_id, {
            data: toJsonObject({ ...instanceData(record), addresses: seen.addresses }),
          });
        }
      }
    }
    await this.recordHealthChanges(infraId, observations);
    // Degraded: becoming whole again later in this pass is a change worth an `infraready`.
    if (failedDrops.length > 0) await store.setInfraMeta(infraId, META_READY, false);

    // Scaling requests are consumed here, exactly once, and folded into stored targets.
    const targets = await this.applyScalingRequests(description, alive, observations, await store.takeScalingRequests(infraId));

    // A: bootstrap, once per infrastructure (Occopus re-bootstrapped whenever it had no instance).
    if ((await store.getInfraMeta(infraId, META_STARTED)) !== true) {
      await this.processor.pushInstructions(infraId, [{ kind: 'CreateInfrastructure', infraId }], signal);
      await store.setInfraMeta(infraId, META_STARTED, true);
    }

    // B: downscale drops, all levels in one batch.
    const downscale: Command[] = [];
    for (const node of description.nodes) {
      const existing = this.existingOf(node.name, alive, observations);
      const { target, namedDrops } = targets.get(node.name) ?? { target: effectiveScaling(node).min, namedDrops: [] };
      // Named instances go even when the count is below target (they are replaced by the creates below).
      const dropCount = Math.max(existing.length - target, namedDrops.length);
      if (dropCount > 0) {
        const ids = selectInstancesToDrop(existing, dropCount, namedDrops, this.options.downscaleStrategy);
        for (const id of ids) {
          const record = alive.find((r) => r.node_id === id);
          if (record) downscale.push({ kind: 'DropNode', record, reason: 'downscale' });
        }
      }
    }
    await this.processor.pushInstructions(infraId, downscale, signal);

    // C: instances of node types no longer in the description (after `occopus-build -i`).
    const names = new Set(description.nodes.map((n) => n.name));
    const removed: Command[] = alive
      .filter((r) => !names.has(r.node_name))
      .map((record) => ({ kind: 'DropNode', record, reason: 'removed from the description' }));
    await this.processor.pushInstructions(infraId, removed, signal);

    // D: failed and shut-down instances.
    await this.processor.pushInstructions(infraId, failedDrops, signal);

    // E: creates, one batch per topological level; a level is ready before the next starts.
    const dropped = new Set([...downscale, ...removed].map((c) => (c.kind === 'DropNode' ? c.record.node_id : '')));
    const remaining = alive.filter((r) => !dropped.has(r.node_id));
    let createsPushed = false;
    for (const level of description.topological_order) {
      const creates: Command[] = [];
      for (const name of level) {
        const node = description.nodes.find((n) => n.name === name) as NodeDescription;
        const have = remaining.filter((r) => r.node_name === name).length;
        const { target } = targets.get(name) ?? { target: effectiveScaling(node).min };
        for (let i = have; i < target; i++) creates.push({ kind: 'CreateNode', node });
      }
      createsPushed ||= creates.length > 0;
      await this.processor.pushInstructions(infraId, creates, signal);
    }

    // A pass that changed nothing reports what its upkeep just observed instead of observing twice.
    const changed = [downscale, removed, failedDrops].some((batch) => batch.length > 0) || createsPushed;
    const report = changed ? await this.observe(description, true, signal) : await this.storeReport(description, records, observations);
    const ready = isReady(description, report, targets);
    const wasReady = (await store.getInfraMeta(infraId, META_READY)) === true;
    await store.setInfraMeta(infraId, META_READY, ready);
    if (ready && !wasReady) await this.ctx.events.emit(infraId, 'infraready');
    return { infra_id: infraId, report, ready };
  }

  /** Observes every instance without touching timers and stores the report (served by REST). */
  async observe(description: StaticDescription, store: boolean, signal?: AbortSignal): Promise<InfraReport> {
    const records = await this.ctx.store.listInstances(description.infra_id);
    const observations = await this.observeAll(records, true, signal);
    if (store) return this.storeReport(description, records, observations);
    const targets = ((await this.ctx.store.getInfraMeta(description.infra_id, META_TARGETS)) ?? {}) as Record<string, number>;
    return buildReport(description, records, observations, targets, this.ctx.now());
  }

  /** Builds the report from observations and stores it (served by REST). */
  private async storeReport(description: StaticDescription, records: InstanceRecord[], observations: Map<string, Observation>): Promise<InfraReport> {
    const targets = ((await this.ctx.store.getInfraMeta(description.infra_id, META_TARGETS)) ?? {}) as Record<string, number>;
    const report = buildReport(description, records, observations, targets, this.ctx.now());
    // Plain JSON already (built from JSON records); the store copies what it keeps.
    await this.ctx.store.setInfraMeta(description.infra_id, META_REPORT, report as unknown as JsonObject);
    return report;
  }

  /**
   * Records left `creating` by a crash are adopted (found) or forgotten; `dropping` ones are retried.
   * Returns whether there was any such record (the journal may have changed).
   */
  private async reconcileJournal(infraId: string, records: InstanceRecord[]): Promise<boolean> {
    const pending = records.filter((r) => r.lifecycle !== 'created');
    for (const record of pending) {
      if (record.lifecycle === 'dropping') {
        await dropInstance(this.ctx, record, 'retry').catch((e: unknown) => this.ctx.log.warn(messageOf(e)));
        continue;
      }
      if (record.lifecycle !== 'creating') continue;
      const data = instanceData(record);
      try {
        const handler = await this.ctx.drivers.handlerFor(data.resource);
        const found = await handler.find(record.node_id, { infra_id: infraId, resource: data.resource });
        if (!found) {
          await this.ctx.store.removeInstance(infraId, record.node_id);
          continue;
        }
        await this.ctx.store.updateInstance(
          infraId,
          record.node_id,
          {
            lifecycle: 'created',
            instance_id: found.instance_id,
            instance_start_time: this.ctx.now() / 1000,
            data: toJsonObject({ ...data, driver_data: found.driver_data ?? {} }),
          },
          ['creating'],
        );
        await this.ctx.events.emit(infraId, 'nodeadopted', { node_id: record.node_id, node_name: record.node_name });
      } catch (e) {
        this.ctx.log.warn({ node_id: record.node_id }, `could not reconcile a journaled instance: ${messageOf(e)}`);
      }
    }
    return pending.length > 0;
  }

  private async observeAll(records: InstanceRecord[], readOnly: boolean, signal?: AbortSignal): Promise<Map<string, Observation>> {
    const seen = await Promise.all(
      records.map((r) =>
        observeInstance(this.ctx, r, { readOnly, ...(signal ? { signal } : {}) }).catch(
          (e: unknown): Observation => ({
            node_id: r.node_id,
            node_name: r.node_name,
            state: 'pending',
            resource_state: 'unknown',
            addresses: instanceData(r).addresses ?? null,
            details: [messageOf(e)],
          }),
        ),
      ),
    );
    return new Map(seen.map((o) => [o.node_id, o]));
  }

  private existingOf(name: string, alive: InstanceRecord[], observations: Map<string, Observation>): ExistingInstance[] {
    return alive
      .filter((r) => r.node_name === name)
      .map((r) => ({
        node_id: r.node_id,
        addresses: allAddresses(observations.get(r.node_id)?.addresses ?? instanceData(r).addresses),
        start_time: r.instance_start_time ?? r.created_at / 1000,
      }));
  }

  private async applyScalingRequests(
    description: StaticDescription,
    alive: InstanceRecord[],
    observations: Map<string, Observation>,
    requests: ScalingRequest[],
  ): Promise<Map<string, { target: number; namedDrops: string[] }>> {
    const infraId = description.infra_id;
    const stored = ((await this.ctx.store.getInfraMeta(infraId, META_TARGETS)) ?? {}) as Record<string, number>;
    const targets = new Map<string, { target: number; namedDrops: string[] }>();
    const next: Record<string, number> = {};
    for (const node of description.nodes) {
      const mine = requests.filter((r) => r.node === node.name);
      const decision = decideScaling({
        node,
        existing: this.existingOf(node.name, alive, observations),
        storedTarget: stored[node.name] ?? null,
        requests: mine,
      });
      targets.set(node.name, decision);
      next[node.name] = decision.target;
      if (mine.length > 0) {
        await this.ctx.events.emit(infraId, 'scaling', {
          node_name: node.name,
          requests: mine.length,
          target: decision.target,
          named_drops: decision.namedDrops,
          notes: decision.notes,
        } as JsonObject);
      }
      for (const note of decision.notes) this.ctx.log.warn({ infra_id: infraId }, note);
    }
    const unknown = requests.filter((r) => !description.nodes.some((n) => n.name === r.node));
    for (const r of unknown) this.ctx.log.warn({ infra_id: infraId }, `scaling request for unknown node '${r.node}' ignored`);
    await this.ctx.store.setInfraMeta(infraId, META_TARGETS, next);
    return targets;
  }

  private async recordHealthChanges(infraId: string, observations: Map<string, Observation>): Promise<void> {
    const previous = (await this.ctx.store.getInfraMeta(infraId, META_REPORT)) as InfraReport | null;
    const before = new Map<string, string>();
    for (const node of Object.values(previous?.nodes ?? {})) {
      for (const [id, inst] of Object.entries(node.instances)) before.set(id, inst.state);
    }
    for (const o of observations.values()) {
      const was = before.get(o.node_id);
      if (was !== undefined && was !== o.state) {
        await this.ctx.events.emit(infraId, 'healthchanged', {
          node_id: o.node_id,
          node_name: o.node_name,
          from: was,
          to: o.state,
          details: o.details,
        });
      }
    }
  }
}

function isReady(description: StaticDescription, report: InfraReport, targets: Map<string, { target: number }>): boolean {
  return description.nodes.every((node) => {
    const entry = report.nodes[node.name];
    const target = targets.get(node.name)?.target ?? effectiveScaling(node).min;
    const states = Object.values(entry?.instances ?? {}).map((i) => i.state);
    return states.length === target && states.every((s) => s === 'ready');
  });
}
