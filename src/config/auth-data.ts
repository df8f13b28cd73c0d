/**
 * `auth_data.yaml` (formats §7): credentials for resource handlers and config managers, picked per node by
 * matching each entry's filter keys against the node's rendered `resource` (or `config_management`)
 * section.
 *
 * Differences from Occopus, on purpose (formats §10.21): the most specific matching entry wins instead of
 * a generic entry and a specific one conflicting; an entry without `auth_data` is a positioned error, not a
 * crash; no file at all means "no credentials" (drivers that need some say so), not a startup failure.
 */
import { statSync } from 'node:fs';
import { loadYamlFile } from '../descriptors/load.js';
import { AuthError, ConfigError, formatLocation, type SourceLocation } from '../errors.js';
import { isMapping } from '../compiler/values.js';
import { matchesFilter } from '../resolution/select.js';
import { lookUp, type LookupOptions, type LookupResult } from './lookup.js';

export { redactSecrets } from './redact.js';

export type AuthSection = 'resource' | 'config_management';

const SECTIONS: readonly AuthSection[] = ['resource', 'config_management'];

export const AUTH_DATA_FILE_NAME = 'auth_data.yaml';
export const AUTH_DATA_ENV_VAR = 'OCCOPUS_AUTH_DATA_PATH';

export interface AuthDataLookupOptions extends LookupOptions {
  /** `--auth_data_path`: must exist. */
  authDataPath?: string;
}

/**
 * `--auth_data_path`, else `$OCCOPUS_AUTH_DATA_PATH`, `~/.occopus/auth_data.yaml`, `./auth_data.yaml`.
 * A flag or variable naming a missing file is a ConfigError; finding nothing is `null` (no credentials).
 */
export function findAuthDataFile(opts: AuthDataLookupOptions = {}): string | null {
  return findAuthDataSource(opts).path;
}

/** {@link findAuthDataFile} with how the file was found, so a caller can report a default one being used. */
export function findAuthDataSource(opts: AuthDataLookupOptions = {}): LookupResult {
  return lookUp(
    {
      flag: opts.authDataPath,
      flagLabel: 'Specified authentication file',
      envVar: AUTH_DATA_ENV_VAR,
      fileName: AUTH_DATA_FILE_NAME,
    },
    opts,
  );
}

interface AuthEntry {
  /** Position in its section, as the user counts list items in messages: `resource[2]`. */
  index: number;
  filter: Record<string, unknown>;
  authData: Record<string, unknown> | null;
  location: SourceLocation | undefined;
}

interface ParsedAuthData {
  file: string;
  sections: Record<AuthSection, AuthEntry[]>;
}

type Locate = (path: readonly (string | number)[]) => SourceLocation | undefined;

function parseAuthData(value: unknown, file: string, locate: Locate): ParsedAuthData {
  const sections: Record<AuthSection, AuthEntry[]> = { resource: [], config_management: [] };
  // An empty file loads as null: no credentials at all.
  if (value === null || value === undefined) return { file, sections };
  if (!isMapping(value)) {
    throw new ConfigError(`authentication file '${file}' must be a mapping with 'resource' and/or 'config_management'`, locate([]));
  }
  for (const key of Object.keys(value)) {
    if (!(SECTIONS as readonly string[]).includes(key)) {
      throw new ConfigError(
        `unknown key '${key}' in authentication file (allowed: ${SECTIONS.join(', ')})`,
        locate([key]),
      );
    }
  }
  for (const section of SECTIONS) {
    const list = value[section];
    if (list === null || list === undefined) continue;
    if (!Array.isArray(list)) {
      throw new ConfigError(`'${section}' must be a list of entries, each with filter keys and 'auth_data'`, locate([section]));
    }
    sections[section] = list.map((item: unknown, index): AuthEntry => {
      const where = locate([section, index]);
      if (!isMapping(item)) {
        throw new ConfigError(`${section}[${index}] must be a mapping with filter keys and 'auth_data'`, where);
      }
      if (!Object.hasOwn(item, 'auth_data')) {
        throw new ConfigError(`${section}[${index}] has no 'auth_data'`, where);
      }
      const { auth_data: authData, ...filter } = item;
      if (authData !== null && !isMapping(authData)) {
        // The value itself is not echoed: it may be a secret written in the wrong place.
        throw new ConfigError(`${section}[${index}].auth_data must be a mapping`, locate([section, index, 'auth_data']));
      }
      return { index, filter, authData, location: where };
    });
  }
  return { file, sections };
}

interface FileState {
  path: string;
  /** mtime, size and inode: any edit, including replace-by-rename, changes one of them. */
  signature: string;
  parsed: ParsedAuthData;
}

function signatureOf(path: string): string {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.mtimeNs}:${st.size}:${st.ino}`;
  } catch {
    throw new ConfigError(`Authentication file does not exist any more: '${path}'`);
  }
}

function readAuthFile(path: string): FileState {
  const signature = signatureOf(path);
  const doc = loadYamlFile(path);
  return { path, signature, parsed: parseAuthData(doc.value, doc.file, (p) => doc.locate(p)) };
}

export class AuthData {
  private state: FileState | null;
  private fixed: ParsedAuthData | null;

  private constructor(state: FileState | null, fixed: ParsedAuthData | null) {
    this.state = state;
    this.fixed = fixed;
  }

  /**
   * Reads `path` now (so a broken file is reported at startup) and again whenever it has changed since:
   * edits take effect without a restart, as in Occopus. Files pulled in with `!text_import` are not
   * watched. `null` means no credentials.
   */
  static fromFile(path: string | null): AuthData {
    return path === null ? new AuthData(null, null) : new AuthData(readAuthFile(path), null);
  }

  /** From an already loaded value (tests, library users). `file` only labels messages. */
  static fromValue(value: unknown, file = '<auth data>'): AuthData {
    return new AuthData(null, parseAuthData(value, file, () => undefined));
  }

  /** The file the credentials come from, or null. */
  get file(): string | null {
    return this.state?.path ?? this.fixed?.file ?? null;
  }

  private current(): ParsedAuthData | null {
    if (this.fixed) return this.fixed;
    if (!this.state) return null;
    if (signatureOf(this.state.path) !== this.state.signature) this.state = readAuthFile(this.state.path);
    return this.state.parsed;
  }

  /**
   * The `auth_data` of the entry of `section` whose filter keys all equal the target's (Python `==`,
   * deep, as in node filters, formats §4). An entry with no filter keys matches everything, and more
   * filter keys beat fewer, so a catch-all and `{type: ec2, endpoint: A}` can sit side by side. Two best
   * matches with as many keys each are ambiguous: AuthError naming their positions, never their contents.
   * No section or no match → null. The result is a copy.
   */
  select(section: AuthSection, target: Record<string, unknown>): Record<string, unknown> | null {
    const parsed = this.current();
    if (!parsed) return null;
    const matches = parsed.sections[section].filter((e) => matchesFilter(target, e.filter));
    if (matches.length === 0) return null;
    const best = Math.max(...matches.map((e) => Object.keys(e.filter).length));
    const top = matches.filter((e) => Object.keys(e.filter).length === best);
    if (top.length > 1) {
      const which = top.map((e) => {
        const where = formatLocation(e.location);
        return `${section}[${e.index}]${where ? ` (${where})` : ''}`;
      });
      throw new AuthError(
        `Cannot determine authorization information: entries ${which.join(', ')} of '${parsed.file}' all match ` +
          `with ${best} filter key${best === 1 ? '' : 's'} each; add a filter key (e.g. endpoint) to tell them apart`,
      );
    }
    const chosen = top[0];
    return chosen && chosen.authData ? structuredClone(chosen.authData) : null;
  }
}
