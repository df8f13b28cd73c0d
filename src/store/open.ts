/**
 * Turns a store URL (from the command line, the config file or the library) into an open Store.
 * The URL names the backing; the user is passed separately because Occopus scopes every key by the
 * login name of the running process, not by anything in the URL.
 */
import os from 'node:os';
import path from 'node:path';
import { ConfigError, StoreError } from '../errors.js';
import type { Store } from './store.js';
import { MemoryStore } from './memory.js';
import { MEMORY_DATABASE, SqliteStore } from './sqlite.js';

export interface OpenStoreOptions {
  user: string;
}

const LOCAL_KINDS = 'sqlite:<path>, sqlite::memory:, memory:';
const KINDS = `${LOCAL_KINDS}, redis://host[:port][/db], rediss://host[:port][/db]`;

function homeDir(): string {
  return process.env['HOME'] || os.homedir();
}

/** The embedded default: a SQLite file under ~/.occopus (Occopus keeps its own files there too). */
export function defaultStoreUrl(): string {
  return `sqlite:${path.join(homeDir(), '.occopus', 'occopus.db')}`;
}

/**
 * The login name every key is scoped by, looked up as Python's getpass.getuser does (runtime §5.1):
 * the first non-empty of LOGNAME, USER, LNAME, USERNAME, then the password database.
 */
export function currentUser(): string {
  for (const name of ['LOGNAME', 'USER', 'LNAME', 'USERNAME']) {
    const value = process.env[name];
    if (value) return value;
  }
  try {
    const name = os.userInfo().username;
    if (name) return name;
  } catch {
    // No passwd entry for this uid (common in containers): fall through to the error.
  }
  throw new ConfigError('Cannot determine the user name: set the USER environment variable');
}

/** The filesystem path of a `sqlite:` URL's remainder; `~/` is the home directory. */
function sqlitePath(rest: string, url: string): string {
  let p = rest;
  // `sqlite:///abs/path` is the form other tools write; a host part would be meaningless here.
  if (p.startsWith('//')) {
    p = p.slice(2);
    if (!p.startsWith('/')) {
      throw new StoreError(`Store URL '${url}' names a host; a SQLite store is a local file (use sqlite:/abs/path.db)`);
    }
  }
  if (p === '') throw new StoreError(`Store URL '${url}' has no file path (use sqlite:<path> or sqlite::memory:)`);
  if (p === MEMORY_DATABASE) return p;
  if (p === '~' || p.startsWith('~/')) p = path.join(homeDir(), p.slice(1));
  return path.resolve(p);
}

/**
 * `sqlite:/abs/path.db`, `sqlite:relative.db` (against the working directory), `sqlite::memory:`,
 * `memory:` (a fresh, private memory store); null, undefined or empty: {@link defaultStoreUrl}.
 * `redis://[user:password@]host[:port][/db][?prefix=P&timeout=MS]` and `rediss://` (TLS): see
 * redis.ts. Every failure is a StoreError; messages never repeat a Redis password.
 */
export async function openStore(url: string | null | undefined, options: OpenStoreOptions): Promise<Store> {
  if (!options.user) throw new StoreError('A store needs a non-empty user name');
  const effective = url || defaultStoreUrl();
  const colon = effective.indexOf(':');
  const scheme = colon > 0 ? effective.slice(0, colon).toLowerCase() : '';
  const rest = effective.slice(colon + 1);
  switch (scheme) {
    case 'sqlite':
      return SqliteStore.open(sqlitePath(rest, effective), options.user);
    case 'memory':
      if (rest !== '') throw new StoreError(`Store URL 'memory:' takes nothing after the colon`);
      return new MemoryStore(options.user);
    case 'redis':
    case 'rediss': {
      // Loaded on demand so that local-only commands do not pay for the Redis client.
      const { RedisStore } = await import('./redis.js');
      return RedisStore.open(effective, options.user);
    }
    default:
      throw new StoreError(
        scheme
          ? `Unknown store URL scheme '${scheme}:'; expected one of ${KINDS}`
          : `Store URL '${effective}' has no scheme; expected one of ${KINDS}`,
      );
  }
}
