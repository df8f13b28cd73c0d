/**
 * A node's state from its three components (runtime §1.3): resource (driver), service (config
 * manager) and health check. Plus one rule Occopus lacks: a backend `temp_failed` that lasts longer
 * than the health timeout becomes `failed`, so the node is replaced instead of staying degraded
 * forever (§10.25).
 */
import { OccopusError } from '../errors.js';
import type { ResourceState } from '../drivers/resource-handler.js';
import type { Store } from '../store/store.js';
import { hasTimedOut, nowSeconds, tempFailedTimerKey } from './failure-timer.js';

/** What one component reports (the six words of runtime §1.1). */
export type ComponentState = ResourceState;

/** The combined state: never `unknown`. */
export type NodeState = Exclude<ResourceState, 'unknown'>;

const KNOWN: ReadonlySet<string> = new Set<ResourceState>(['ready', 'pending', 'shutdown', 'temp_failed', 'failed', 'unknown']);

/**
 * First matching rule wins: all ready → ready; any failed → failed; any shutdown → shutdown; any
 * temp_failed → temp_failed; otherwise (pending/unknown) → pending. A word outside the six (a
 * driver bug) is an error rather than a guess.
 */
export function combineStates(rh: ComponentState, cm: ComponentState, hc: ComponentState): NodeState {
  const components = { resource: rh, service: cm, 'health check': hc };
  for (const [name, state] of Object.entries(components)) {
    if (!KNOWN.has(state)) {
      throw new OccopusError('E_DRIVER', `Unrecognised ${name} state ${JSON.stringify(state)}`);
    }
  }
  const states: string[] = [rh, cm, hc];
  if (states.every((s) => s === 'ready')) return 'ready';
  for (const severe of ['failed', 'shutdown', 'temp_failed'] as const) {
    if (states.includes(severe)) return severe;
  }
  return 'pending';
}

/**
 * `failed` when the node has been `temp_failed` continuously for strictly more than `timeoutS`
 * seconds (`tempFailedSinceS` is when that started, `null` if not recorded); otherwise `state`.
 */
export function escalateTempFailed(
  state: NodeState,
  tempFailedSinceS: number | null,
  nowS: number,
  timeoutS: number,
): NodeState {
  if (state !== 'temp_failed' || tempFailedSinceS === null) return state;
  return hasTimedOut(tempFailedSinceS, nowS, timeoutS) ? 'failed' : state;
}

/**
 * Records one observation of the combined state in the `tmpfail:<node_id>` timer (started at the
 * first `temp_failed`, cleared by any other state) and returns the state after escalation.
 */
export async function observeTempFailed(
  store: Store,
  infraId: string,
  nodeId: string,
  state: NodeState,
  timeoutS: number,
  nowS: number = nowSeconds(),
): Promise<NodeState> {
  const key = tempFailedTimerKey(nodeId);
  if (state !== 'temp_failed') {
    // As for the health timer: most nodes have none, and a read costs less than a write.
    if ((await store.getFailingSince(infraId, key)) !== null) await store.clearFailing(infraId, key);
    return state;
  }
  const since = await store.markFailing(infraId, key, nowS);
  return escalateTempFailed(state, since, nowS, timeoutS);
}
