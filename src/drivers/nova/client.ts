/**
 * HTTP for the OpenStack services on `fetch`: JSON in and out, the Keystone token on every request
 * (renewed once on a 401), the providers' error bodies turned into one typed error, and retries.
 *
 * What is retried: throttling (429/413, honouring Retry-After) and refused connections always,
 * since the request was not carried out; 5xx answers, timeouts and broken connections only for
 * idempotent requests (GET, PUT, DELETE). A POST that creates something is made idempotent one level
 * up, by looking for what it may have created before trying again (see handler.ts).
 */
import { AuthError, DriverError } from '../../errors.js';
import { deadlineIn, retrying, type Deadline } from '../http-retry.js';
import { catalogUrl, type KeystoneSession, type ServiceKind, type TransportOptions } from './keystone.js';
import { AttemptError, errorDetail, fetchOnce, retryDecision } from './transport.js';

/** An OpenStack service refused a request; `status` is the HTTP status. */
export class OpenStackApiError extends DriverError {
  constructor(
    readonly status: number,
    readonly operation: string,
    detail: string,
  ) {
    super(`nova: ${operation} failed (${status})${detail ? `: ${detail}` : ''}`);
  }
}

/** No usable answer: refused or broken connection, or no answer in time. */
export class OpenStackTransportError extends DriverError {
  constructor(
    readonly kind: 'refused' | 'network' | 'timeout' | 'status',
    readonly operation: string,
    detail: string,
  ) {
    super(`nova: ${operation}: ${detail}`);
  }
}

/** Whether a failed create request may nevertheless have created something (so look before retrying). */
export function mayHaveTakenEffect(e: unknown): boolean {
  if (e instanceof OpenStackApiError) return e.status >= 500;
  return e instanceof OpenStackTransportError && e.kind !== 'refused';
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string>;
  signal?: AbortSignal;
  /** Defaults to the client's call deadline from now. */
  deadline?: Deadline;
  /** 404 returns null instead of throwing. */
  allow404?: boolean;
}

/** Requests to the services of one project, through the catalog of its Keystone token. */
export class OpenStackClient {
  constructor(
    private readonly session: KeystoneSession,
    private readonly region: string | null,
    private readonly transport: TransportOptions & { callDeadlineMs: number },
  ) {}

  /** The service's base URL from the catalog (Neutron's gets its `/v2.0`). */
  async serviceUrl(kind: ServiceKind, deadline: Deadline, signal?: AbortSignal): Promise<string> {
    const token = await this.session.token(deadline, signal);
    const url = catalogUrl(token.catalog, kind, this.region, this.session.authUrl);
    return kind === 'network' && !/\/v2\.0$/.test(url) ? `${url}/v2.0` : url;
  }

  async request<T>(kind: ServiceKind, method: string, path: string, options: RequestOptions = {}): Promise<T | null> {
    const deadline = options.deadline ?? deadlineIn(this.transport.callDeadlineMs, `nova: ${method} ${path}`);
    const signal = options.signal;
    const idempotent = method !== 'POST';
    const operation = `${method} ${kind} ${path}`;
    let reauthenticated = false;
    const res = await retrying(
      async () => {
        for (;;) {
          const token = await this.session.token(deadline, signal);
          const base = catalogUrl(token.catalog, kind, this.region, this.session.authUrl);
          const root = kind === 'network' && !/\/v2\.0$/.test(base) ? `${base}/v2.0` : base;
          const qs = options.query ? `?${new URLSearchParams(options.query).toString()}` : '';
          const headers: Record<string, string> = { accept: 'application/json', 'x-auth-token': token.id };
          if (options.body !== undefined) headers['content-type'] = 'application/json';
          const r = await fetchOnce(
            `${root}${path}${qs}`,
            { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) },
            { ...(signal ? { signal } : {}), deadline, requestTimeoutMs: this.transport.requestTimeoutMs },
          );
          if (r.status === 401 && !reauthenticated) {
            // The token was revoked or expired early: one more try with a new one.
            await r.body?.cancel();
            reauthenticated = true;
            this.session.invalidate(token);
            continue;
          }
          return r;
        }
      },
      { policy: this.transport.retry, deadline, ...(signal ? { signal } : {}), classify: (e) => retryDecision(e, idempotent) },
    ).catch((e: unknown) => {
      if (e instanceof AttemptError) {
        throw e.status !== null ? new OpenStackApiError(e.status, operation, e.message) : new OpenStackTransportError(e.kind, operation, e.message);
      }
      throw e;
    });

    if (res.status === 404 && options.allow404) {
      await res.body?.cancel();
      return null;
    }
    const text = await res.text();
    if (res.status === 401) throw new AuthError(`nova: ${operation} was refused: the Keystone token is not accepted`);
    if (res.status >= 400) throw new OpenStackApiError(res.status, operation, errorDetail(text));
    if (!text) return {} as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new DriverError(`nova: ${operation} returned something that is not JSON`);
    }
  }
}
