/**
 * Our own small configuration file (`occopus_config.yaml`, same search places as Occopus, formats §8).
 * Occopus's Python config (factory tags, `!python_import`) is not ours to parse: when we find one we say
 * so once and run with defaults. No config file at all is fine too (Occopus refuses to start).
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse as parseLenient } from 'yaml';
import { z } from 'zod';
import { loadYamlFile, type LoadedDocument } from '../descriptors/load.js';
import { ConfigError, YamlError, formatLocation, type SourceLocation } from '../errors.js';
import { expandUserPath, lookUp, resolveLookupOptions, type LookupOptions, type LookupOrigin } from './lookup.js';

export interface OccopusConfig {
  /** store URL: 'sqlite:PATH' | 'memory:' | 'redis://...'; default null = sqlite under ~/.occopus */
  store: string | null;
  rest: { host: string; port: number; token_file: string | null; cors_origins: string[]; body_limit: number };
  templates: { allow_cmd: boolean };
  engine: {
    strategy: 'sequential' | 'parallel';
    parallelism: number;
    /** seconds between maintenance passes */
    enactor_interval: number;
    /** seconds a new instance may take to become ready */
    create_timeout: number;
    /** seconds between state polls while waiting for a new instance */
    poll_interval: number;
    downscale_strategy: 'simple' | 'random';
    /** seconds a maintainer's lease on an infrastructure lasts unless renewed */
    lease_ttl: number;
  };
  drivers: { local: { address_range: string; base_dir: string | null; stop_grace: number } };
  logging: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'; file: string | null };
  dry_run: boolean;
}

export interface ConfigSource {
  path: string | null;
  /** How it was found: 'flag' (--cfg), 'env' ($OCCOPUS_CONFIG_PATH), 'default' (~/.occopus or the working
   *  directory; callers print "Using default configuration file: '<path>'"), 'none' (defaults). */
  origin: LookupOrigin;
}

export interface ConfigLookupOptions extends LookupOptions {
  /** `--cfg`: relative to `cwd`; an absolute path stays absolute. */
  cfg?: string;
}

export const CONFIG_FILE_NAME = 'occopus_config.yaml';
export const CONFIG_ENV_VAR = 'OCCOPUS_CONFIG_PATH';

const positiveSeconds = z.number().positive();

/** A section may be written empty (`rest:` with every line commented out); that means "all defaults". */
function section<T extends z.core.$ZodLooseShape>(shape: T) {
  const object = z.strictObject(shape);
  // `{}` is a valid input because every field of every section has a default; TS cannot see that for a generic shape.
  return z.preprocess((v) => (v === null ? undefined : v), object.prefault({} as z.input<typeof object>));
}

/**
 * The config file's schema. Strict everywhere so that a misspelt key is an error, not a silently ignored
 * setting. Every field has its default here, so parsing `{}` gives {@link defaultConfig}.
 */
export const occopusConfigSchema = z.strictObject({
  store: z
    .string()
    .regex(/^(sqlite:.+|memory:|rediss?:\/\/.*)$/, "expected 'sqlite:PATH', 'memory:' or 'redis://HOST[:PORT][/DB]'")
    .nullable()
    .default(null),
  rest: section({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(5000),
    token_file: z.string().min(1).nullable().default(null),
    cors_origins: z.array(z.string()).default([]),
    // Node definitions posted with inline cloud-init can be a few hundred KiB; Fastify's 1 MiB is tight.
    body_limit: z.number().int().positive().default(10 * 1024 * 1024),
  }),
  templates: section({
    // cmd() runs a command on the orchestrator host from a template: opt-in only (formats §5.3).
    allow_cmd: z.boolean().default(false),
  }),
  engine: section({
    strategy: z.enum(['sequential', 'parallel']).default('sequential'),
    parallelism: z.number().int().min(1).default(10),
    enactor_interval: positiveSeconds.default(10),
    create_timeout: positiveSeconds.default(600),
    poll_interval: positiveSeconds.default(1),
    downscale_strategy: z.enum(['simple', 'random']).default('simple'),
    lease_ttl: positiveSeconds.default(60),
  }),
  drivers: section({
    local: section({
      address_range: z.cidrv4().default('127.77.0.0/16'),
      base_dir: z.string().min(1).nullable().default(null),
      stop_grace: z.number().min(0).default(10),
    }),
  }),
  logging: section({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info'),
    file: z.string().min(1).nullable().default(null),
  }),
  dry_run: z.boolean().default(false),
});

// The interface is the contract; the schema must produce exactly it.
type SchemaOutput = z.output<typeof occopusConfigSchema>;
const schemaMatchesInterface: [SchemaOutput] extends [OccopusConfig]
  ? [OccopusConfig] extends [SchemaOutput]
    ? true
    : never
  : never = true;
void schemaMatchesInterface;

export const defaultConfig: OccopusConfig = Object.freeze(occopusConfigSchema.parse({})) as OccopusConfig;

/** Fresh, mutable defaults (callers may adjust their copy, e.g. from command-line flags). */
function defaults(): OccopusConfig {
  return structuredClone(defaultConfig);
}

export function findConfigFile(opts: ConfigLookupOptions = {}): ConfigSource {
  return lookUp(
    { flag: opts.cfg, flagLabel: 'Specified configuration file', envVar: CONFIG_ENV_VAR, fileName: CONFIG_FILE_NAME },
    opts,
  );
}

export interface LoadedConfig {
  config: OccopusConfig;
  source: ConfigSource;
  /** Things the user should see once (e.g. an ignored Occopus 1.x config). */
  warnings: string[];
}

export function loadConfig(opts: ConfigLookupOptions = {}): LoadedConfig {
  const source = findConfigFile(opts);
  if (source.path === null) return { config: defaults(), source, warnings: [] };
  const { home } = resolveLookupOptions(opts);

  let doc: LoadedDocument;
  try {
    doc = loadYamlFile(source.path, { allowImports: false });
  } catch (e) {
    // Occopus configs are full of factory tags (`!UDS`, `!python_import`) that our loader refuses.
    if (e instanceof YamlError && looksLikeOccopusConfigText(readFileSync(source.path, 'utf8'))) {
      return { ...fromOccopusConfig(source.path), source };
    }
    throw e;
  }
  if (doc.value === null || doc.value === undefined) return { config: defaults(), source, warnings: [] };
  if (isPlainMapping(doc.value) && 'components' in doc.value) return { ...fromOccopusConfig(source.path), source };

  const parsed = occopusConfigSchema.safeParse(doc.value);
  if (!parsed.success) throw configErrorFromIssues(parsed.error.issues, doc);
  return { config: resolvePaths(parsed.data, dirname(source.path), home), source, warnings: [] };
}

/** Paths in the file are relative to the file's own directory, so a config keeps working whatever the
 *  working directory of the command that reads it. */
function resolvePaths(config: OccopusConfig, baseDir: string, home: string): OccopusConfig {
  const abs = (p: string | null): string | null => (p === null ? null : expandUserPath(p, baseDir, home));
  const store =
    config.store !== null && config.store.startsWith('sqlite:') && config.store !== 'sqlite::memory:'
      ? `sqlite:${expandUserPath(config.store.slice('sqlite:'.length), baseDir, home)}`
      : config.store;
  return {
    ...config,
    store,
    rest: { ...config.rest, token_file: abs(config.rest.token_file) },
    drivers: { ...config.drivers, local: { ...config.drivers.local, base_dir: abs(config.drivers.local.base_dir) } },
    logging: { ...config.logging, file: abs(config.logging.file) },
  };
}

function isPlainMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const OCCOPUS_TAG =
  /!(python_import|UDS|ResourceHandler|ConfigManager|InfoRouter|InfoBroker|DynamicStateProvider|ResourceHandlerProvider|ConfigManagerProvider|SynchronizationProvider|EventLog|KeyValueStore)\b/;

function looksLikeOccopusConfigText(text: string): boolean {
  return OCCOPUS_TAG.test(text) || /^components\s*:/m.test(text);
}

/**
 * Reads the two settings of an Occopus 1.x config that mean the same thing here (formats §8): the REST bind
 * address and the global dry-run flag. The text is parsed without building anything; unknown tags just
 * leave plain values behind.
 */
function fromOccopusConfig(path: string): { config: OccopusConfig; warnings: string[] } {
  const config = defaults();
  const taken: string[] = [];
  let components: unknown;
  try {
    const value: unknown = parseLenient(readFileSync(path, 'utf8'), { logLevel: 'silent' });
    components = isPlainMapping(value) ? value['components'] : undefined;
  } catch {
    components = undefined;
  }
  if (isPlainMapping(components)) {
    if (typeof components['dry_run'] === 'boolean') {
      config.dry_run = components['dry_run'];
      taken.push('components.dry_run');
    }
    const rest = components['rest'];
    if (isPlainMapping(rest)) {
      if (typeof rest['host'] === 'string' && rest['host'] !== '') {
        config.rest.host = rest['host'];
        taken.push('components.rest.host');
      }
      const port = rest['port'];
      if (typeof port === 'number' && Number.isInteger(port) && port >= 0 && port <= 65535) {
        config.rest.port = port;
        taken.push('components.rest.port');
      }
    }
  }
  const kept = taken.length ? ` (except ${taken.join(', ')}, which mean the same here)` : '';
  return {
    config,
    warnings: [
      `'${path}' is an Occopus 1.x configuration; occopus uses its own config format, see README; using defaults${kept}`,
    ],
  };
}

type Issue = z.core.$ZodIssue;

interface LocatedMessage {
  message: string;
  location: SourceLocation | undefined;
}

function dotted(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
}

/** The keys allowed at `path`, read off the defaults (which have every key). */
function allowedKeysAt(path: readonly PropertyKey[]): string[] {
  let node: unknown = defaultConfig;
  for (const p of path) node = isPlainMapping(node) ? node[String(p)] : undefined;
  return isPlainMapping(node) ? Object.keys(node) : [];
}

function describeIssues(issue: Issue, doc: LoadedDocument): LocatedMessage[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeysAt(path);
    return issue.keys.map((key) => ({
      message: `unknown key '${dotted([...path, key])}'` + (allowed.length ? ` (allowed here: ${allowed.join(', ')})` : ''),
      location: doc.locate([...path, key]),
    }));
  }
  return [{ message: `${dotted(path) || '(top level)'}: ${issue.message}`, location: doc.locate(path) }];
}

/** One error for the whole file, in source order, so the user can fix every problem in one go. */
function configErrorFromIssues(issues: readonly Issue[], doc: LoadedDocument): ConfigError {
  const all = issues.flatMap((i) => describeIssues(i, doc));
  all.sort((a, b) => (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.column ?? 0) - (b.location?.column ?? 0));
  const [first, ...rest] = all;
  if (!first) return new ConfigError(`invalid configuration file '${doc.file}'`);
  const more = rest.map((m) => {
    const where = formatLocation(m.location);
    return `\n${where ? `${where}: ` : ''}${m.message}`;
  });
  return new ConfigError(`${first.message}${more.join('')}`, first.location);
}
