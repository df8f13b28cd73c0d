/**
 * The individual health probes (runtime §2.2). Each one has its own timeout, so a filtered port or
 * a silent web server costs a few seconds, not the OS TCP timeout (§10.33), and each reports why it
 * failed in words a user can act on. Probes never throw for an unhealthy node; they throw only when
 * the check itself cannot be carried out (no `ping` installed) or is cancelled.
 *
 * Addresses and URLs come from rendered node definitions and driver data, so nothing here goes
 * through a shell and the ping address is validated before it becomes an argument (§10.39).
 */
import { execFile } from 'node:child_process';
import { isIP, Socket } from 'node:net';
import { createConnection } from 'mysql2/promise';
import { ConfigError } from '../errors.js';
import { CancelledError } from '../util/abort.js';

export interface ProbeResult {
  ok: boolean;
  /** Why, for logs and reports, e.g. `port 80 refused`. Never contains a password. */
  detail: string;
}

export interface ProbeOptions {
  timeoutMs: number;
  /** Cancels the probe (Ctrl+C, end of pass): it then throws an `E_CANCELLED` error. */
  signal?: AbortSignal;
}

export interface PingOptions extends ProbeOptions {
  /** The ping executable; only tests change it. */
  command?: string;
}

export interface MysqlOptions extends ProbeOptions {
  /** Occopus always uses the default 3306; only tests change it. */
  port?: number;
}

export interface MysqlCredentials {
  name: string;
  user: string;
  pass: string;
}

const HOSTNAME = /^[A-Za-z0-9.-]{1,253}$/;

/**
 * Whether `address` may be handed to `ping` as its last argument: an IP address, or a host name
 * made of letters, digits, dots and dashes that cannot be mistaken for an option.
 */
export function isPingableAddress(address: string): boolean {
  if (isIP(address) !== 0) return !address.startsWith('-');
  return HOSTNAME.test(address) && !address.startsWith('-');
}

export async function ping(address: string, options: PingOptions): Promise<ProbeResult> {
  throwIfCancelled(options.signal);
  if (!isPingableAddress(address)) {
    return { ok: false, detail: `ping: ${quote(address)} is not an IP address or host name` };
  }
  // iputils' -W takes whole seconds in older releases; round up so the reply wait is never shorter than asked.
  const waitS = Math.max(1, Math.ceil(options.timeoutMs / 1000));
  const args = ['-c', '1', '-W', String(waitS), ...(isIP(address) === 6 ? ['-6'] : []), address];
  const outcome = await new Promise<{ code: number | string | null; stderr: string; timedOut: boolean }>(
    (resolve) => {
      execFile(
        options.command ?? 'ping',
        args,
        // The kill timeout backs up -W: name resolution of a host name is not covered by it.
        { timeout: waitS * 1000 + 1000, ...(options.signal ? { signal: options.signal } : {}), windowsHide: true },
        (error, _stdout, stderr) => {
          if (!error) return resolve({ code: 0, stderr: '', timedOut: false });
          const e = error as NodeJS.ErrnoException & { killed?: boolean };
          resolve({ code: e.code ?? null, stderr: String(stderr), timedOut: e.killed === true });
        },
      );
    },
  );
  throwIfCancelled(options.signal);
  if (outcome.code === 0) return { ok: true, detail: `ping ${address}: reply` };
  if (outcome.code === 'ENOENT') {
    throw new ConfigError(`ping command not found: install iputils-ping`);
  }
  // Exit code 1 is iputils' "no reply"; 2 and others carry a reason on stderr (unknown host, no permission).
  if (outcome.timedOut || outcome.code === 1) return { ok: false, detail: `ping ${address}: no reply within ${waitS}s` };
  const why = firstLine(outcome.stderr) || `exit code ${String(outcome.code)}`;
  return { ok: false, detail: `ping ${address} failed: ${why}` };
}

export async function tcpPort(address: string, port: number, options: ProbeOptions): Promise<ProbeResult> {
  throwIfCancelled(options.signal);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return { ok: false, detail: `port ${String(port)} is not a TCP port number` };
  }
  // An empty host means localhost to node:net, which would make any node look healthy.
  if (!address) return { ok: false, detail: `port ${port}: the node has no address` };
  const outcome = await new Promise<ProbeResult | 'cancelled'>((resolve) => {
    const socket = new Socket();
    const finish = (result: ProbeResult | 'cancelled'): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = (): void => finish('cancelled');
    const timer = setTimeout(
      () => finish({ ok: false, detail: `port ${port}: no answer within ${seconds(options.timeoutMs)}` }),
      options.timeoutMs,
    );
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish({ ok: true, detail: `port ${port} open` }));
    socket.once('error', (e: NodeJS.ErrnoException) => finish({ ok: false, detail: `port ${port} ${socketError(e)}` }));
    socket.connect({ host: address, port });
  });
  if (outcome === 'cancelled') throw cancelled();
  return outcome;
}

/** HEAD `url`, following redirects; healthy iff the final status is 2xx. Only http and https. */
export async function httpUrl(url: string, options: ProbeOptions): Promise<ProbeResult> {
  throwIfCancelled(options.signal);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, detail: `HEAD ${quote(url)}: not a valid URL` };
  }
  const shown = redactUrl(parsed);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { ok: false, detail: `HEAD ${shown}: only http and https URLs can be checked` };
  }
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  try {
    const response = await fetch(parsed, { method: 'HEAD', redirect: 'follow', signal });
    await response.body?.cancel();
    const ok = response.status >= 200 && response.status <= 299;
    const via = response.redirected ? ` (redirected to ${redactUrl(new URL(response.url))})` : '';
    return { ok, detail: `HEAD ${shown} → ${response.status}${via}` };
  } catch (e) {
    throwIfCancelled(options.signal);
    if (timeout.aborted) return { ok: false, detail: `HEAD ${shown}: no answer within ${seconds(options.timeoutMs)}` };
    return { ok: false, detail: `HEAD ${shown}: ${fetchError(e)}` };
  }
}

/** Logs in to database `name` on `address` (port 3306); healthy iff the login succeeds. */
export async function mysqlDb(address: string, db: MysqlCredentials, options: MysqlOptions): Promise<ProbeResult> {
  throwIfCancelled(options.signal);
  const what = `mysql ${db.user}@${address}/${db.name}`;
  // An empty host means localhost to mysql2, which would make any node look healthy.
  if (!address) return { ok: false, detail: `${what}: the node has no address` };
  try {
    // connectTimeout covers the whole handshake, login included, so a silent server cannot stall us.
    const connection = await createConnection({
      host: address,
      port: options.port ?? 3306,
      user: db.user,
      password: db.pass,
      database: db.name,
      connectTimeout: options.timeoutMs,
    });
    await connection.end().catch(() => connection.destroy());
    throwIfCancelled(options.signal);
    return { ok: true, detail: `${what}: connected` };
  } catch (e) {
    throwIfCancelled(options.signal);
    const err = e as { code?: unknown; message?: unknown };
    const code = typeof err.code === 'string' ? err.code : 'error';
    if (code === 'ETIMEDOUT') return { ok: false, detail: `${what}: no answer within ${seconds(options.timeoutMs)}` };
    const message = typeof err.message === 'string' ? err.message : '';
    return { ok: false, detail: withoutSecret(`${what}: ${code} ${message}`.trim(), db.pass) };
  }
}

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelled();
}

/** The engine's one cancellation error, so callers tell cancellation from failure by its class. */
function cancelled(): CancelledError {
  return new CancelledError('health check cancelled');
}

function socketError(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unreachable: host name does not resolve';
    default:
      return `failed: ${e.code ?? e.message}`;
  }
}

/** undici hides the socket error in `cause`; surface its code, which is what a user can act on. */
function fetchError(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.code === 'string') {
    if (cause.code === 'ECONNREFUSED') return 'connection refused';
    return cause.code;
  }
  if (cause && typeof cause.message === 'string') return cause.message;
  return e instanceof Error ? e.message : String(e);
}

function redactUrl(url: URL): string {
  if (!url.password) return url.href;
  const copy = new URL(url.href);
  copy.password = '***';
  return copy.href;
}

function withoutSecret(text: string, secret: string): string {
  return secret ? text.split(secret).join('***') : text;
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

function firstLine(text: string): string {
  return text.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
}

/** Echoes untrusted text in a message: quoted, one line, bounded. */
function quote(text: string): string {
  const s = JSON.stringify(text);
  return s.length > 80 ? `${s.slice(0, 77)}..."` : s;
}
