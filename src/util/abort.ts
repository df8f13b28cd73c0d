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

/** Sleeps `ms`, or rejects with CancelledError as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError(reasonText(signal)));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new CancelledError(reasonText(signal as AbortSignal)));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
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
  const followed: Array<[AbortSignal, () => void]> = [];
  for (const parent of parents) {
    if (!parent) continue;
    if (parent.aborted) {
      child.abort(parent.reason);
      continue;
    }
    const onAbort = (): void => child.abort(parent.reason);
    parent.addEventListener('abort', onAbort, { once: true });
    followed.push([parent, onAbort]);
  }
  child.dispose = () => {
    for (const [parent, onAbort] of followed) parent.removeEventListener('abort', onAbort);
    followed.length = 0;
  };
  return child;
}
