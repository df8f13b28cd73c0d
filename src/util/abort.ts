/** Cancellation helpers: every long wait in the engine takes an AbortSignal. */
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

/** A child controller aborted when the parent aborts (or by itself). */
export function childController(parent: AbortSignal | undefined): AbortController {
  const child = new AbortController();
  if (parent) {
    if (parent.aborted) child.abort(parent.reason);
    else parent.addEventListener('abort', () => child.abort(parent.reason), { once: true });
  }
  return child;
}
