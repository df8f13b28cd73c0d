/**
 * The subset of cloud-init a local instance honours: `write_files` and `runcmd` of a
 * `#cloud-config` document. Files are written here, in Node, under the instance's own `root/`
 * directory (a path like `/tmp/x` lands in `<dir>/root/tmp/x`), so user data never reaches a shell
 * and never escapes the instance directory. Everything else is reported as unsupported.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { DriverError, NodeContextSchemaError } from '../../errors.js';

export interface FileToWrite {
  /** Absolute path as the user wrote it (normalised), before it is placed under the instance root. */
  path: string;
  content: Buffer;
  mode: number;
  append: boolean;
}

/** One `runcmd` entry: a string is shell text, a list is an argument vector. */
export type RunCommand = { shell: string } | { argv: string[] };

export interface CloudConfig {
  files: FileToWrite[];
  runcmd: RunCommand[];
  /** Keys we do not act on, e.g. `packages`, `write_files[].owner`. */
  unsupported: string[];
}

const SUPPORTED_FILE_KEYS = new Set(['path', 'content', 'permissions', 'encoding', 'append']);

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function scalarText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

function bad(field: string, problem: string): DriverError {
  return new DriverError(`cloud-config ${field} ${problem}`);
}

/** Octal text ('0644', '644') or an integer (already the mode, as cloud-init reads it). */
function parseMode(v: unknown, field: string): number {
  if (v === undefined || v === null) return 0o644;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0o7777) return v;
  if (typeof v === 'string') {
    const digits = v.trim().replace(/^0o/i, '');
    if (/^[0-7]{1,5}$/.test(digits) && parseInt(digits, 8) <= 0o7777) return parseInt(digits, 8);
  }
  throw bad(field, "must be an octal mode such as '0644'");
}

function decode(content: string, encoding: unknown, field: string): Buffer {
  const enc = encoding === undefined || encoding === null ? 'text/plain' : scalarText(encoding)?.toLowerCase();
  try {
    switch (enc) {
      case 'text/plain':
        return Buffer.from(content, 'utf8');
      case 'b64':
      case 'base64':
        return Buffer.from(content, 'base64');
      case 'gz':
      case 'gzip':
        return gunzipSync(Buffer.from(content, 'latin1'));
      case 'gz+b64':
      case 'gz+base64':
      case 'gzip+b64':
      case 'gzip+base64':
        return gunzipSync(Buffer.from(content, 'base64'));
      default:
        throw bad(field, "must be one of 'b64', 'base64', 'gz', 'gzip', 'gz+b64', 'gzip+base64', 'text/plain'");
    }
  } catch (e) {
    if (e instanceof DriverError) throw e;
    throw bad(`${field.replace(/\.encoding$/, '.content')}`, `cannot be decoded as ${enc}`);
  }
}

function parseFiles(value: unknown, unsupported: Set<string>): FileToWrite[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw bad('write_files', 'must be a list');
  return value.map((item: unknown, i) => {
    const at = `write_files[${i}]`;
    if (!isMapping(item)) throw bad(at, 'must be a mapping');
    for (const key of Object.keys(item)) if (!SUPPORTED_FILE_KEYS.has(key)) unsupported.add(`write_files[].${key}`);
    const path = item['path'];
    if (typeof path !== 'string' || path.trim() === '') throw bad(`${at}.path`, 'must be a non-empty string');
    if (path.includes('\0')) throw bad(`${at}.path`, 'must not contain NUL characters');
    const rawContent = item['content'] ?? '';
    const content = scalarText(rawContent);
    if (content === null) throw bad(`${at}.content`, 'must be text');
    return {
      // Resolving against '/' also folds away any '..' that would climb out of the instance root.
      path: posix.resolve('/', path),
      content: decode(content, item['encoding'], `${at}.encoding`),
      mode: parseMode(item['permissions'], `${at}.permissions`),
      append: item['append'] === true,
    };
  });
}

function parseRuncmd(value: unknown): RunCommand[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw bad('runcmd', 'must be a list');
  return value.map((item: unknown, i) => {
    const at = `runcmd[${i}]`;
    const text = scalarText(item);
    if (text !== null) return { shell: text };
    if (!Array.isArray(item) || item.length === 0) throw bad(at, 'must be a string or a non-empty list of strings');
    return {
      argv: item.map((arg: unknown, j) => {
        const a = scalarText(arg);
        if (a === null) throw bad(`${at}[${j}]`, 'must be a string');
        return a;
      }),
    };
  });
}

/** Parses a rendered `#cloud-config` document (YAML 1.1, as cloud-init reads it). */
export function parseCloudConfig(text: string): CloudConfig {
  let doc: unknown;
  try {
    doc = parse(text, { version: '1.1', logLevel: 'error' });
  } catch (e) {
    throw new NodeContextSchemaError(`cloud-config is not valid YAML: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) return { files: [], runcmd: [], unsupported: [] };
  if (!isMapping(doc)) throw new NodeContextSchemaError('cloud-config must be a mapping');
  const unsupported = new Set<string>();
  for (const key of Object.keys(doc)) if (key !== 'write_files' && key !== 'runcmd') unsupported.add(key);
  const files = parseFiles(doc['write_files'], unsupported);
  const runcmd = parseRuncmd(doc['runcmd']);
  return { files, runcmd, unsupported: [...unsupported] };
}

/** Where a cloud-init path lives for an instance whose directory is `instanceDir`. */
export function placeUnderRoot(instanceDir: string, path: string): string {
  return join(instanceDir, 'root', posix.resolve('/', path));
}

/** Writes the files in order, creating parent directories, with the exact requested modes. */
export function writeCloudFiles(instanceDir: string, files: readonly FileToWrite[]): void {
  for (const f of files) {
    const target = placeUnderRoot(instanceDir, f.path);
    mkdirSync(join(target, '..'), { recursive: true, mode: 0o755 });
    writeFileSync(target, f.content, { mode: f.mode, flag: f.append ? 'a' : 'w' });
    // The creation mode is filtered by the umask and ignored for existing files.
    chmodSync(target, f.mode);
  }
}
