/**
 * One HTTP attempt on `fetch` and the decision whether to try again, shared by Keystone and the
 * service client.
 */
import { CancelledError } from '../../util/abort.js';
import { DeadlineExceededError, abortText, boundedSignal, retryAfterMs, type Deadline } from '../http-retry.js';

/** One failed HTTP attempt, before it is decided whether to retry. */
export class AttemptError extends Error {
  constructor(
    readonly kind: 'refused' | 'network' | 'timeout' | 'status',
    message: string,
    readonly status: number | null = null,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

function causeCode(e: unknown): string | undefined {
  const cause = (e as { cause?: { code?: unknown } } | null)?.cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

/**
 * One attempt. Throws CancelledError when the caller aborted, AttemptError for a network failure, a
 * timeout or a throttling/5xx status; other statuses are returned for the caller to read.
 */
export async function fetchOnce(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  options: { signal?: AbortSignal; deadline: Deadline; requestTimeoutMs: number },
): Promise<Response> {
  const bounded = boundedSignal(options.signal, options.deadline, options.requestTimeoutMs);
  try {
    const res = await fetch(url, { ...init, signal: bounded.signal });
    if (res.status === 429 || res.status === 413 || res.status >= 500) {
      const text = await res.text().catch(() => '');
      throw new AttemptError('status', errorDetail(text), res.status, retryAfterMs(res.headers.get('retry-after')));
    }
    return res;
  } catch (e) {
    if (options.signal?.aborted) throw new CancelledError(abortText(options.signal));
    if (e instanceof AttemptError) throw e;
    if (Date.now() >= options.deadline.at) throw new DeadlineExceededError(options.deadline.what, options.deadline.seconds);
    if (bounded.signal.aborted) throw new AttemptError('timeout', 'no answer in time');
    const code = causeCode(e);
    throw new AttemptError(code === 'ECONNREFUSED' ? 'refused' : 'network', code ?? (e instanceof Error ? e.message : String(e)));
  } finally {
    bounded.dispose();
  }
}

/** Whether another attempt is worth it, for an idempotent request or not. */
export function retryDecision(e: unknown, idempotent: boolean): { retry: boolean; afterMs?: number | null } {
  if (!(e instanceof AttemptError)) return { retry: false };
  if (e.kind === 'refused') return { retry: true };
  if (e.kind === 'status' && (e.status === 429 || e.status === 413)) return { retry: true, afterMs: e.retryAfter };
  return { retry: idempotent };
}

/** The message of an OpenStack error body (`{"itemNotFound": {"message": …}}`, `{"NeutronError": …}`, `{"error": …}`). */
export function errorDetail(text: string): string {
  try {
    const json = JSON.parse(text) as unknown;
    if (json && typeof json === 'object') {
      for (const value of Object.values(json as Record<string, unknown>)) {
        if (value && typeof value === 'object' && typeof (value as { message?: unknown }).message === 'string') {
          return (value as { message: string }).message;
        }
      }
      const flat = (json as { message?: unknown }).message;
      if (typeof flat === 'string') return flat;
    }
  } catch {
    // not JSON
  }
  return text.slice(0, 200).trim();
}

