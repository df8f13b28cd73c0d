/**
 * Where user files are looked for. Shared by the config file and `auth_data.yaml`, which follow the same
 * Occopus search order (runtime §7.1): an explicit flag, then an environment variable, then
 * `~/.occopus/<name>`, then `./<name>`. Occopus also tries `<sys.prefix>/etc/occopus/` and the program's
 * directory; those are Python-install artefacts with no meaning for an npm package, so we drop them.
 */
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';

export interface LookupOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  home?: string;
}

export interface ResolvedLookupOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  home: string;
}

export function resolveLookupOptions(opts: LookupOptions): ResolvedLookupOptions {
  return { env: opts.env ?? process.env, cwd: opts.cwd ?? process.cwd(), home: opts.home ?? homedir() };
}

/** `~` and `~/x` are the user's home (a config file is not run through a shell); other relative paths are
 *  taken from `baseDir`. */
export function expandUserPath(p: string, baseDir: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return join(home, p.slice(2));
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

function kindOf(p: string): 'file' | 'other' | 'missing' {
  try {
    return statSync(p).isFile() ? 'file' : 'other';
  } catch {
    return 'missing';
  }
}

/** A path the user named explicitly must exist: silently falling back to another file would run with
 *  settings or credentials they did not mean. `label` starts the message, e.g. "Specified authentication file". */
export function requireFile(p: string, label: string): string {
  const kind = kindOf(p);
  if (kind === 'missing') throw new ConfigError(`${label} does not exist: '${p}'`);
  if (kind === 'other') throw new ConfigError(`${label} is not a regular file: '${p}'`);
  return p;
}

export type LookupOrigin = 'flag' | 'env' | 'default' | 'none';

export interface LookupResult {
  path: string | null;
  origin: LookupOrigin;
}

export interface LookupSpec {
  /** Value of the command-line flag, if given. */
  flag: string | undefined;
  /** Start of the error message when the flag names a missing file. */
  flagLabel: string;
  envVar: string;
  /** File name looked for in `~/.occopus/` and in the working directory. */
  fileName: string;
}

export function lookUp(spec: LookupSpec, opts: LookupOptions): LookupResult {
  const { env, cwd, home } = resolveLookupOptions(opts);
  if (spec.flag !== undefined && spec.flag !== '') {
    // Absolute stays absolute: Occopus prefixes sys.prefix here (formats §10.20), we do not.
    return { path: requireFile(resolve(cwd, spec.flag), spec.flagLabel), origin: 'flag' };
  }
  const fromEnv = env[spec.envVar];
  if (fromEnv !== undefined && fromEnv !== '') {
    return { path: requireFile(resolve(cwd, fromEnv), `The file named by $${spec.envVar}`), origin: 'env' };
  }
  for (const candidate of [join(home, '.occopus', spec.fileName), join(cwd, spec.fileName)]) {
    if (kindOf(candidate) === 'file') return { path: candidate, origin: 'default' };
  }
  return { path: null, origin: 'none' };
}
