/**
 * The two Occopus file-import tags (formats §6): `!yaml_import {url: file://x.yaml}` is replaced by the
 * parsed document of that file, `!text_import {url: file://x.sh}` by the file's text.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const IMPORT_TAGS = ['!yaml_import', '!text_import'] as const;
export type ImportTag = (typeof IMPORT_TAGS)[number];

export function isImportTag(tag: string | undefined): tag is ImportTag {
  return tag === '!yaml_import' || tag === '!text_import';
}

const YAML_ORG = 'tag:yaml.org,2002:';

/** A tag as the user would write it: `tag:yaml.org,2002:set` → `!!set`. */
export function displayTag(tag: string): string {
  return tag.startsWith(YAML_ORG) ? `!!${tag.slice(YAML_ORG.length)}` : tag;
}

/** Outcome of reading an import URL: the absolute path, or why the URL is refused. */
export type ImportUrl = { ok: true; path: string } | { ok: false; reason: string };

/**
 * Path named by an import URL. Like Occopus, the path is the URL minus its first 7 characters
 * (`url[7:]`), taken literally: no percent-decoding, no query or fragment handling. A relative path is
 * relative to `baseDir` (the directory of the file holding the tag). Unlike Occopus, an absolute path
 * (`file:///etc/x`) is used as is: Occopus prefixes it with Python's `sys.prefix`, which is a bug
 * (formats §10 item 20).
 */
export function importUrlPath(url: string, baseDir: string): ImportUrl {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1];
  if (scheme === undefined) {
    return { ok: false, reason: `URL '${url}' has no scheme; only file:// URLs are supported` };
  }
  if (scheme.toLowerCase() !== 'file') {
    return { ok: false, reason: `URL scheme '${scheme}' is not supported (in '${url}'); only file:// URLs are` };
  }
  if (url.slice(scheme.length, scheme.length + 3) !== '://') {
    return { ok: false, reason: `URL '${url}' must start with file:// (e.g. file://relative/path or file:///absolute/path)` };
  }
  const filePath = url.slice(7);
  if (filePath === '') return { ok: false, reason: `URL '${url}' names no file` };
  return { ok: true, path: path.resolve(baseDir, filePath) };
}

/**
 * Text of an imported file, read as Python's text mode does (UTF-8, universal newlines), so a script
 * written on Windows still starts with a working `#!` line after import.
 */
export function readImportedText(filePath: string): string {
  return fs.readFileSync(filePath, 'utf8').replace(/\r\n?/g, '\n');
}

/** Short human reason for a failed read, without the stack or a repeated path. */
export function readFailureReason(e: unknown): string {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a component of the path is not a directory';
    default:
      return code || (e instanceof Error ? e.message : String(e));
  }
}
