/**
 * The AWS SDK's retry hook, filled with our backoff: throttling (`RequestLimitExceeded`, 429),
 * transient network errors and 5xx answers are retried with full-jitter exponential backoff; client
 * errors are not. The SDK's retry middleware sleeps the returned delay and stops as soon as the
 * call's abort signal fires, so the caller's deadline and Ctrl+C bound every wait.
 *
 * Retrying RunInstances is safe because every attempt carries the same ClientToken.
 */
import type { EC2ClientConfig } from '@aws-sdk/client-ec2';
import { backoffDelay, type RetryPolicy } from '../http-retry.js';

type RetryStrategyV2 = Extract<NonNullable<EC2ClientConfig['retryStrategy']>, { acquireInitialRetryToken: unknown }>;
type RetryToken = Awaited<ReturnType<RetryStrategyV2['acquireInitialRetryToken']>>;
type RetryErrorInfo = Parameters<RetryStrategyV2['refreshRetryTokenForRetry']>[1];

/** Throttled calls start from a longer base, as the SDK's own strategy does. */
const THROTTLING_BASE_FACTOR = 2.5;

function token(count: number, delayMs: number): RetryToken {
  return { getRetryCount: () => count, getRetryDelay: () => delayMs };
}

export class Ec2RetryStrategy implements RetryStrategyV2 {
  /** Retries so far, for tests and logs. */
  retries = 0;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  async acquireInitialRetryToken(): Promise<RetryToken> {
    return token(0, 0);
  }

  async refreshRetryTokenForRetry(previous: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const count = previous.getRetryCount();
    const retryable = info.errorType === 'THROTTLING' || info.errorType === 'TRANSIENT' || info.errorType === 'SERVER_ERROR';
    if (!retryable || count + 1 >= this.policy.maxAttempts) throw info.error;
    const policy =
      info.errorType === 'THROTTLING' ? { ...this.policy, baseDelayMs: this.policy.baseDelayMs * THROTTLING_BASE_FACTOR } : this.policy;
    let delay = backoffDelay(count, policy, this.random);
    if (info.retryAfterHint instanceof Date) delay = Math.max(delay, Math.min(info.retryAfterHint.getTime() - Date.now(), this.policy.maxDelayMs));
    this.retries += 1;
    return token(count + 1, delay);
  }

  recordSuccess(): void {
    // No shared retry budget: each call is bounded by its own attempts and deadline.
  }
}
