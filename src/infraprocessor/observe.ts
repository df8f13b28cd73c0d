/**
 * The state of one instance, combined from its resource, service and health states (runtime §1.3).
 * Used while waiting for a new node and by every maintenance pass, so both share the same
 * failure timers. Read-only observations (reports) never start or clear a timer (Occopus did,
 * runtime §10.32).
 */
import type { Addresses, ResourceState } from '../drivers/resource-handler.js';
import type { InstanceRecord } from '../store/store.js';
import { runHealthCheck, healthTimeoutSeconds } from '../health/basic-check.js';
import { evaluateHealth, peekHealth } from '../health/failure-timer.js';
import { combineStates, escalateTempFailed, observeTempFailed } from '../health/node-state.js';
import { tempFailedTimerKey } from '../health/failure-timer.js';
import { messageOf } from '../errors.js';
import type { EngineContext } from './context.js';
import { handleOf, instanceData, primaryAddress } from './instance.js';

export interface Observation {
  node_id: string;
  node_name: string;
  state: ResourceState;
  resource_state: ResourceState;
  addresses: Addresses | null;
  /** Why the node is not ready (failed health checks, driver errors). */
  details: string[];
}

export interface ObserveOptions {
  signal?: AbortSignal;
  /** Do not touch the failure timers (reports). */
  readOnly?: boolean;
}

export async function observeInstance(ctx: EngineContext, record: InstanceRecord, options: ObserveOptions = {}): Promise<Observation> {
  const base = { node_id: record.node_id, node_name: record.node_name };
  const data = instanceData(record);
  if (record.lifecycle !== 'created' || !record.instance_id) {
    const state: ResourceState = record.lifecycle === 'dropping' ? 'shutdown' : 'pending';
    return { ...base, state, resource_state: state, addresses: data.addresses ?? null, details: [] };
  }
  const details: string[] = [];
  const handler = await ctx.drivers.handlerFor(data.resource);
  const handle = handleOf(record);
  let rh: ResourceState;
  try {
    rh = await handler.getState(handle);
  } catch (e) {
    details.push(`resource state unavailable: ${messageOf(e)}`);
    rh = 'unknown';
  }
  const timeout = healthTimeoutSeconds(data.resolved_node_definition.health_check);
  const nowS = ctx.now() / 1000;

  let addresses: Addresses | null = data.addresses ?? null;
  if (rh === 'ready') {
    try {
      addresses = await handler.getAddresses(handle);
    } catch (e) {
      details.push(`addresses unavailable: ${messageOf(e)}`);
    }
  }

  let cm: ResourceState = 'unknown';
  if (rh === 'ready') {
    const manager = await ctx.drivers.managerFor(data.resolved_node_definition.config_management);
    cm = await manager.getNodeState(record).catch((e: unknown) => {
      details.push(`service state unavailable: ${messageOf(e)}`);
      return 'unknown' as const;
    });
  }

  let hc: ResourceState = 'unknown';
  if (cm === 'ready') {
    const address = primaryAddress(addresses ?? undefined);
    const result = address
      ? await runHealthCheck(
          {
            address,
            node_id: record.node_id,
            variables: data.node_description.variables,
            instance_data: { ...record.data, node_id: record.node_id, infra_id: record.infra_id },
            ...(data.resolved_node_definition.health_check ? { health_check: data.resolved_node_definition.health_check } : {}),
          },
          { limiter: ctx.healthLimiter, ...(options.signal ? { signal: options.signal } : {}) },
        )
      : { ok: false, failures: ['the node has no address'] };
    details.push(...result.failures);
    hc = options.readOnly
      ? await peekHealth(ctx.store, record.infra_id, record.node_id, result, timeout, nowS)
      : await evaluateHealth(ctx.store, record.infra_id, record.node_id, result, timeout, nowS);
  }
  let state = combineStates(rh, cm, hc);
  // `temp_failed` for longer than the health timeout becomes `failed` (Occopus never escalated, §10.25).
  if (options.readOnly) {
    if (state === 'temp_failed') {
      const since = await ctx.store.getFailingSince(record.infra_id, tempFailedTimerKey(record.node_id));
      state = escalateTempFailed(state, since, nowS, timeout);
    }
  } else {
    state = await observeTempFailed(ctx.store, record.infra_id, record.node_id, state, timeout, nowS);
  }
  if (state === 'failed' && rh === 'temp_failed') details.push(`the cloud reported it temporarily failed for more than ${timeout}s`);
  return { ...base, state, resource_state: rh, addresses, details };
}
