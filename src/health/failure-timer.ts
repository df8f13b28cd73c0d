/**
 * The failing-period rule (runtime §1.3 step 3, §1.4): a node whose health check fails is `pending`
 * until it has failed continuously for longer than its timeout, then `failed`; one success resets
 * the clock. The clock lives in the store, so every process watching the infrastructure (CLI, REST
 * replicas) shares it, as Occopus's Redis `failtime` hash is shared.
 *
 * Times are epoch SECONDS (fractional), as in Occopus's failtime hash and as `timeout` is written.
 */
import type { Store } from '../store/store.js';

export type HealthVerdict = 'ready' | 'pending' | 'failed';

/** Store key of the `temp_failed` escalation timer (§10.25), kept apart from the health timer. */
export function tempFailedTimerKey(nodeId: string): string {
  return `tmpfail:${nodeId}`;
}

export function nowSeconds(): number {
  return Date.now() / 1000;
}

/** `failed` iff the failure started strictly more than `timeoutS` seconds before `nowS`. */
export function hasTimedOut(sinceS: number, nowS: number, timeoutS: number): boolean {
  return nowS - sinceS > timeoutS;
}

/**
 * Records one health observation and returns the verdict. A success clears the timer; a failure
 * starts it unless it is already running (the first failure is kept).
 */
export async function evaluateHealth(
  store: Store,
  infraId: string,
  nodeId: string,
  result: { ok: boolean },
  timeoutS: number,
  nowS: number = nowSeconds(),
): Promise<HealthVerdict> {
  if (result.ok) {
    // Healthy nodes are the common case on every pass: a read costs less than a write (SQLite, Redis).
    if ((await store.getFailingSince(infraId, nodeId)) !== null) await store.clearFailing(infraId, nodeId);
    return 'ready';
  }
  const since = await store.markFailing(infraId, nodeId, nowS);
  return hasTimedOut(since, nowS, timeoutS) ? 'failed' : 'pending';
}

/**
 * The verdict `evaluateHealth` would give, without touching the timer: for read-only reports
 * (REST GET, `occopus-maintain -r`), which in Occopus start and clear timers as a side effect (§10.32).
 */
export async function peekHealth(
  store: Store,
  infraId: string,
  nodeId: string,
  result: { ok: boolean },
  timeoutS: number,
  nowS: number = nowSeconds(),
): Promise<HealthVerdict> {
  if (result.ok) return 'ready';
  const since = await store.getFailingSince(infraId, nodeId);
  return since !== null && hasTimedOut(since, nowS, timeoutS) ? 'failed' : 'pending';
}

/** Removes every timer of an instance; call it when the instance is dropped (Occopus never prunes, §10.32). */
export async function forgetNodeTimers(store: Store, infraId: string, nodeId: string): Promise<void> {
  await store.clearFailing(infraId, nodeId);
  await store.clearFailing(infraId, tempFailedTimerKey(nodeId));
}
