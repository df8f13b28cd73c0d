/** Turning what the Docker client throws into one readable line. */
import { OccopusError } from '../../errors.js';

interface ModemError {
  statusCode?: unknown;
  reason?: unknown;
  json?: unknown;
  code?: unknown;
  message?: unknown;
}

/** The HTTP status of a failed Engine API call, or null for a transport failure. */
export function statusOf(e: unknown): number | null {
  const status = (e as ModemError | null)?.statusCode;
  return typeof status === 'number' ? status : null;
}

/** The engine's own message for a failed call (`No such container: …`), without the client's decoration. */
export function describeDockerError(e: unknown): string {
  if (e instanceof OccopusError) return e.message;
  const err = (e ?? {}) as ModemError;
  const json = err.json as { message?: unknown } | string | null | undefined;
  if (json && typeof json === 'object' && typeof json.message === 'string') return json.message.trim();
  if (typeof json === 'string' && json.trim()) return json.trim();
  if (typeof err.code === 'string') {
    const known: Record<string, string> = {
      ECONNREFUSED: 'connection refused',
      ENOENT: 'no such socket',
      EACCES: 'permission denied on the socket',
      ETIMEDOUT: 'connection timed out',
      ECONNRESET: 'connection reset',
      EHOSTUNREACH: 'host unreachable',
      ENOTFOUND: 'host not found',
    };
    return known[err.code] ?? (typeof err.message === 'string' ? err.message : err.code);
  }
  if (typeof err.message === 'string') return err.message.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
  return String(e);
}

/** A transport failure (nothing answered), as opposed to the engine refusing a request. */
export function isUnreachable(e: unknown): boolean {
  const code = (e as ModemError | null)?.code;
  return typeof code === 'string' && /^(ECONNREFUSED|ENOENT|EACCES|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENOTFOUND|EPIPE|EPROTO)$/.test(code);
}
