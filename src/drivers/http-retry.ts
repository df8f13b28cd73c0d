/**
 * Retries, backoff, deadlines and polling for the cloud drivers. Clouds throttle and have bad
 * minutes; Occopus either did not retry at all or waited forever (plugins §12, bugs 8–11). Here every
 * wait is bounded by a deadline and cut short by the caller's AbortSignal, and retries back off
 * exponentially with full jitter so that many nodes created at once do not retry in lockstep.
 */
import { DriverError } from '../errors.js';
import { CancelledError, sleep } from '../util/abort.js';

export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  maxAttempts: number;
  /** Backoff base: the n-th retry waits a random time in [0, min(maxDelayMs, baseDelayMs · 2^n)). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({ maxAttempts: 6, baseDelayMs: 200, maxDelayMs: 5_000 });

/** "Full jitter" backoff (the AWS SDKs use it too): uniformly random below an exponential cap. */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry));
  return Math.floor(random() * cap);
}

/** `Retry-After` as milliseconds (delta-seconds or an HTTP date), or null. */
export function retryAfterMs(header: string | null | undefined, now: number = Date.now()): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** A wait or a call that did not finish before its deadline. */
export class DeadlineExceededError extends DriverError {
  constructor(what: string, seconds: number) {
    super(`${what}: gave up after ${formatSeconds(seconds)}`);
  }
}

function formatSeconds(s: number): string {
  return Number.isInteger(s) ? `${s}s` : `${s.toFixed(1)}s`;
}

/** An absolute point in time (epoch ms) with the description used in its error. */
export interface Deadline {
  at: number;
  what: string;
  /** The length it was created with, for messages. */
  seconds: number;
}

export function deadlineIn(ms: number, what: string, now: number = Date.now()): Deadline {
  return { at: now + ms, what, seconds: ms / 1000 };
}

export function remainingMs(deadline: Deadline, now: number = Date.now()): number {
  return Math.max(0, deadline.at - now);
}

/**
 * A signal that aborts when the caller's signal does or when the deadline (and at most `capMs`, for
 * one HTTP attempt) passes. `reason()` tells which, so the caller can throw CancelledError or
 * DeadlineExceededError.
 */
export function boundedSignal(
  signal: AbortSignal | undefined,
  deadline: Deadline,
  capMs = Number.POSITIVE_INFINITY,
): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const ms = Math.min(remainingMs(deadline), capMs);
  const timer = setTimeout(() => controller.abort(new DeadlineExceededError(deadline.what, deadline.seconds)), ms);
  timer.unref?.();
  const onAbort = (): void => controller.abort(signal?.reason);
  if (signal?.aborted) controller.abort(signal.reason);
  else signal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

/** Throws CancelledError if the caller aborted, DeadlineExceededError if the deadline passed. */
export function checkDeadline(signal: AbortSignal | undefined, deadline: Deadline, now: number = Date.now()): void {
  if (signal?.aborted) throw new CancelledError(abortText(signal));
  if (now >= deadline.at) throw new DeadlineExceededError(deadline.what, deadline.seconds);
}

export function abortText(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r.message;
  return typeof r === 'string' ? r : 'cancelled';
}

/** What a failed attempt means for the next one. */
export interface RetryDecision {
  retry: boolean;
  /** Server-requested wait (Retry-After), used when longer than the backoff. */
  afterMs?: number | null;
}

export interface RetryOptions {
  policy?: RetryPolicy;
  deadline: Deadline;
  signal?: AbortSignal;
  classify(error: unknown): RetryDecision;
  /** Called before each wait, e.g. to log. */
  onRetry?(error: unknown, attempt: number, delayMs: number): void;
  random?: () => number;
}

/**
 * Runs `attempt` until it succeeds, the error is not retryable, the attempts are used up or the
 * next wait would pass the deadline; then the last error is thrown. A cancelled signal throws
 * CancelledError at once.
 */
export async function retrying<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const policy = options.policy ?? DEFAULT_RETRY_POLICY;
  for (let n = 0; ; n++) {
    checkDeadline(options.signal, options.deadline);
    try {
      return await attempt(n);
    } catch (e) {
      if (options.signal?.aborted) throw new CancelledError(abortText(options.signal));
      const decision = options.classify(e);
      if (!decision.retry || n + 1 >= policy.maxAttempts) throw e;
      const delay = Math.max(backoffDelay(n, policy, options.random), decision.afterMs ?? 0);
      if (Date.now() + delay >= options.deadline.at) throw e;
      options.onRetry?.(e, n + 1, delay);
      await sleep(delay, options.signal);
    }
  }
}

export interface PollOptions {
  deadline: Deadline;
  signal?: AbortSignal;
  /** First interval; it grows by half each time up to `maxIntervalMs`. */
  intervalMs?: number;
  maxIntervalMs?: number;
}

/**
 * Calls `probe` until it returns something other than `undefined`, waiting between calls; throws
 * DeadlineExceededError at the deadline and CancelledError when the signal aborts.
 */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  let interval = options.intervalMs ?? 250;
  const max = options.maxIntervalMs ?? 5_000;
  for (;;) {
    checkDeadline(options.signal, options.deadline);
    const value = await probe();
    if (value !== undefined) return value;
    const wait = Math.min(interval, remainingMs(options.deadline));
    if (wait <= 0) throw new DeadlineExceededError(options.deadline.what, options.deadline.seconds);
    await sleep(wait, options.signal);
    interval = Math.min(max, Math.ceil(interval * 1.5));
  }
}
