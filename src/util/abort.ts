/** Cancellation helpers: every long wait in the engine takes an AbortSignal. */
import { setMaxListeners } from 'node:events';
import { OccopusError } from '../errors.js';

export class CancelledError extends OccopusError {
  constructor(message = 'cancelled') {
    super('E_CANCELLED', message);
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError(reasonText(signal));
}

function reasonText(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r.message;
  return typeof r === 'string' ? r : 'cancelled';
}

/** Callbacks waiting for each signal; one real 'abort' listener per signal runs them all. */
const waiters = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Runs `callback` when `signal` aborts; returns a function that stops waiting. Adding and removing
 * are O(1): a signal's own addEventListener walks every listener already there, and a batch of
 * hundreds of creates, each polling, made that walk the hottest code of a wide build.
 */
function whenAborted(signal: AbortSignal, callback: () => void): () => void {
  let set = waiters.get(signal);
  if (!set) {
    const callbacks = new Set<() => void>();
    set = callbacks;
    waiters.set(signal, callbacks);
    signal.addEventListener(
      'abort',
      () => {
        const due = [...callbacks];
        callbacks.clear();
        for (const run of due) run();
      },
      { once: true },
    );
  }
  const registered = set;
  registered.add(callback);
  return () => registered.delete(callback);
}

/** Sleeps `ms`, or rejects with CancelledError as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError(reasonText(signal)));
    let stopWaiting = (): void => undefined;
    const timer = setTimeout(() => {
      stopWaiting();
      resolve();
    }, ms);
    if (signal) {
      stopWaiting = whenAborted(signal, () => {
        clearTimeout(timer);
        reject(new CancelledError(reasonText(signal)));
      });
    }
  });
}

export interface ChildController extends AbortController {
  /** Stops following the parents; call it when the child's work is over, so long-lived parents
   *  (a maintainer's stop signal) do not collect one listener per pass. */
  dispose(): void;
}

/** A controller aborted when any parent aborts, or by itself. */
export function childController(...parents: (AbortSignal | undefined)[]): ChildController {
  const child = new AbortController() as ChildController;
  // A batch's signal is watched by every command in flight (hundreds with a wide level): that is
  // not a leak, and Node's warning about more than 10 listeners would reach the user's terminal.
  setMaxListeners(0, child.signal);
  const unfollow: Array<() => void> = [];
  for (const parent of parents) {
    if (!parent) continue;
    if (parent.aborted) {
      child.abort(parent.reason);
      continue;
    }
    unfollow.push(whenAborted(parent, () => child.abort(parent.reason)));
  }
  child.dispose = () => {
    for (const stop of unfollow) stop();
    unfollow.length = 0;
  };
  return child;
}
