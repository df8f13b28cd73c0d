/**
 * Keystone v3 for the `nova` driver: password (user + `user_domain_name`, project-scoped) or
 * application-credential authentication, the service catalog, and token reuse. Occopus opened a new
 * session and token on every operation, every state poll included (plugins §12, bug 21); here a
 * token is shared by every handler of the process with the same credentials and renewed shortly
 * before it expires, or when a service answers 401.
 */
import { createHash } from 'node:crypto';
import { AuthError, DriverError } from '../../errors.js';
import { retrying, type Deadline, type RetryPolicy } from '../http-retry.js';
import { AttemptError, fetchOnce, retryDecision } from './transport.js';

export type NovaAuth =
  | { kind: 'password'; username: string; password: string; userDomain: string; projectId: string }
  | { kind: 'application_credential'; id: string; secret: string };

/**
 * The credentials of the selected auth_data entry (formats §7.3). Occopus printed the entry it found
 * in its error (secrets included, bug 20); this names only the keys.
 */
export function novaAuth(auth: Record<string, unknown> | null, endpoint: string, projectId: string, userDomain: string): NovaAuth {
  const text = (k: string): string | null => {
    const v = auth?.[k];
    return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null;
  };
  const type = text('type');
  if (type === 'application_credential') {
    const id = text('id');
    const secret = text('secret');
    if (id && secret) return { kind: 'application_credential', id, secret };
  } else if (type === null || type === 'password') {
    const username = text('username');
    const password = text('password');
    if (username && password) return { kind: 'password', username, password, userDomain, projectId };
  }
  const keys = auth ? Object.keys(auth) : [];
  throw new AuthError(
    `Cannot find credentials for "${endpoint}". Please, specify! An auth_data entry of type nova needs username and password, ` +
      `or type: application_credential with id and secret` +
      (keys.length ? ` (the matching entry has: ${keys.join(', ')})` : ' (no entry matched)') +
      (type !== null && type !== 'password' && type !== 'application_credential' ? `; authentication type '${type}' is not supported` : ''),
  );
}

/**
 * `/v3` is appended unless the URL already names a version (plugins §3). Occopus turned `…/v2.0`
 * into `…/v2.0/v3`; Keystone v2.0 no longer exists, so a `/v2.0` suffix is replaced by `/v3`.
 */
export function keystoneUrl(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new DriverError(`nova: endpoint '${endpoint}' is not a URL (expected the Keystone URL, e.g. https://keystone.example.org:5000/v3)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new DriverError(`nova: endpoint '${endpoint}' must be an http or https URL`);
  const base = url.toString().replace(/\/+$/, '');
  if (/\/v2\.0$/.test(base)) return base.replace(/\/v2\.0$/, '/v3');
  return /\/v\d+(\.\d+)?$/.test(base) ? base : `${base}/v3`;
}

export interface CatalogEndpoint {
  interface: string;
  region: string | null;
  url: string;
}

export interface CatalogService {
  type: string;
  endpoints: CatalogEndpoint[];
}

export interface KeystoneToken {
  id: string;
  /** Epoch ms. */
  expiresAt: number;
  issuedAt: number;
  catalog: CatalogService[];
}

/** The service types under which each service may be registered, most current first. */
export const SERVICE_TYPES = {
  compute: ['compute'],
  network: ['network'],
  volume: ['volumev3', 'block-storage', 'volumev2', 'volume'],
} as const;

export type ServiceKind = keyof typeof SERVICE_TYPES;

/** The public URL of a service in the region (any region when none is asked for). */
export function catalogUrl(catalog: CatalogService[], kind: ServiceKind, region: string | null, authUrl: string): string {
  for (const type of SERVICE_TYPES[kind]) {
    const service = catalog.find((s) => s.type === type);
    const endpoint = service?.endpoints.find((e) => e.interface === 'public' && (region === null || e.region === region));
    if (endpoint) return endpoint.url.replace(/\/+$/, '');
  }
  const where = region === null ? '' : ` in region '${region}'`;
  throw new DriverError(`nova: the service catalog of ${authUrl} has no public ${kind} endpoint${where}`);
}

export interface TransportOptions {
  retry: RetryPolicy;
  /** Timeout of one HTTP attempt. */
  requestTimeoutMs: number;
}

/** Keystone session shared across handlers with the same credentials (keyed by a hash, never by the secret itself). */
const sessions = new Map<string, KeystoneSession>();

export function keystoneSession(authUrl: string, auth: NovaAuth, transport: TransportOptions): KeystoneSession {
  const key = createHash('sha256').update(JSON.stringify([authUrl, auth])).digest('hex');
  let session = sessions.get(key);
  if (!session) {
    session = new KeystoneSession(authUrl, auth, transport);
    sessions.set(key, session);
  }
  return session;
}

export class KeystoneSession {
  private current: KeystoneToken | null = null;
  private pending: Promise<KeystoneToken> | null = null;

  constructor(
    readonly authUrl: string,
    private readonly auth: NovaAuth,
    private readonly transport: TransportOptions,
  ) {}

  /** A valid token: the cached one unless it is about to expire. */
  async token(deadline: Deadline, signal?: AbortSignal): Promise<KeystoneToken> {
    const t = this.current;
    // Renew a little before expiry: a minute, or a quarter of a short-lived token's life.
    if (t && t.expiresAt - Date.now() > Math.min(60_000, (t.expiresAt - t.issuedAt) / 4)) return t;
    this.pending ??= this.authenticate(deadline, signal).finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  /** Forgets `token` (a service refused it) so that the next call authenticates again. */
  invalidate(token: KeystoneToken): void {
    if (this.current === token) this.current = null;
  }

  private async authenticate(deadline: Deadline, signal?: AbortSignal): Promise<KeystoneToken> {
    const a = this.auth;
    const body =
      a.kind === 'password'
        ? {
            auth: {
              identity: {
                methods: ['password'],
                password: { user: { name: a.username, password: a.password, domain: { name: a.userDomain } } },
              },
              scope: { project: { id: a.projectId } },
            },
          }
        : { auth: { identity: { methods: ['application_credential'], application_credential: { id: a.id, secret: a.secret } } } };
    const url = `${this.authUrl}/auth/tokens`;
    const res = await retrying(
      () =>
        fetchOnce(
          url,
          { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) },
          { ...(signal ? { signal } : {}), deadline, requestTimeoutMs: this.transport.requestTimeoutMs },
        ),
      // Asking for a token twice does no harm: every failure that may pass is retried.
      { policy: this.transport.retry, deadline, ...(signal ? { signal } : {}), classify: (e) => retryDecision(e, true) },
    ).catch((e: unknown) => {
      if (e instanceof AttemptError) {
        throw new DriverError(`nova: Keystone at ${this.authUrl} ${e.status !== null ? `answered ${e.status}` : `could not be reached: ${e.message}`}`);
      }
      throw e;
    });

    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      const who = a.kind === 'password' ? `user '${a.username}' (domain '${a.userDomain}', project '${a.projectId}')` : 'the application credential';
      throw new AuthError(`nova: Keystone at ${this.authUrl} refused the credentials of ${who}`);
    }
    if (res.status !== 201 && res.status !== 200) {
      await res.body?.cancel();
      throw new DriverError(`nova: Keystone at ${this.authUrl} answered ${res.status} to the authentication request`);
    }
    const id = res.headers.get('x-subject-token');
    const json = (await res.json().catch(() => null)) as { token?: { expires_at?: string; issued_at?: string; catalog?: unknown } } | null;
    if (!id || !json?.token) throw new DriverError(`nova: Keystone at ${this.authUrl} returned no token`);
    const now = Date.now();
    const expiresAt = Date.parse(json.token.expires_at ?? '') || now + 3_600_000;
    const issuedAt = Math.min(Date.parse(json.token.issued_at ?? '') || now, now);
    const token: KeystoneToken = { id, expiresAt, issuedAt, catalog: parseCatalog(json.token.catalog) };
    this.current = token;
    return token;
  }
}

function parseCatalog(raw: unknown): CatalogService[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((s: unknown) => {
    if (typeof s !== 'object' || s === null) return [];
    const svc = s as { type?: unknown; endpoints?: unknown };
    if (typeof svc.type !== 'string' || !Array.isArray(svc.endpoints)) return [];
    const endpoints = svc.endpoints.flatMap((e: unknown) => {
      const ep = e as { interface?: unknown; region?: unknown; region_id?: unknown; url?: unknown } | null;
      if (!ep || typeof ep.url !== 'string' || typeof ep.interface !== 'string') return [];
      const region = typeof ep.region_id === 'string' ? ep.region_id : typeof ep.region === 'string' ? ep.region : null;
      return [{ interface: ep.interface, region, url: ep.url }];
    });
    return [{ type: svc.type, endpoints }];
  });
}
