/**
 * Operations on plain data loaded from users' YAML files (mappings, lists, scalars), with the
 * semantics Occopus's Python code gives them: `==` equality, deep copies, and the variables merge.
 */
import { OccopusError } from '../errors.js';
import type { Mapping } from '../descriptors/types.js';

/** A YAML mapping as loaded: a plain object, not a list, not null, not a Date. */
export function isMapping(value: unknown): value is Mapping {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Python `==` on loaded values. Users compare numbers the Python way (`1 == 1.0`, `True == 1`), so a
 * filter written `cores: 1` matches a stored `cores: true` just as it does in Occopus. Strings are
 * exact and case-sensitive; lists and mappings compare deeply; a string never equals a number.
 */
export function pyEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined || nb !== undefined) return na !== undefined && na === nb;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => pyEqual(item, b[i]));
  }
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (isMapping(a) && isMapping(b)) {
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((k) => Object.hasOwn(b, k) && pyEqual(a[k], b[k]));
  }
  return false;
}

/** Booleans are ints in Python, so both compare as numbers. */
function numeric(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

/**
 * A deep copy that is plain JSON data: no shared references (YAML aliases become separate copies),
 * no `undefined` members, dates as ISO strings. Stored descriptions must be JSON, and callers mutate
 * what they get back, so nothing may point into the user's loaded document.
 */
export function copyPlain<T>(value: T): T {
  return copyAt(value, '') as T;
}

function copyAt(value: unknown, path: string): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return value;
  }
  if (Array.isArray(value)) return value.map((item, i) => (item === undefined ? null : copyAt(item, `${path}[${i}]`)));
  if (value instanceof Date) return value.toISOString();
  if (isMapping(value)) {
    const out: Mapping = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) out[k] = copyAt(v, path ? `${path}.${k}` : k);
    }
    return out;
  }
  // Loaded YAML never holds anything else; reaching here means a caller passed non-data.
  throw new OccopusError('E_INTERNAL', `cannot copy a value of type ${describeType(value)} at '${path || '.'}'`);
}

function describeType(value: unknown): string {
  if (typeof value === 'object' && value !== null) return value.constructor?.name ?? 'object';
  return typeof value;
}

/**
 * Variables inheritance (formats §1.5): nested mappings merge recursively, on a conflict `override`
 * wins, lists and scalars are replaced whole. The result shares nothing with either input.
 *
 * Occopus's own merge keeps the inherited mapping when a node sets a scalar over it; the spec says
 * the node wins, and so do we.
 */
export function deepMerge(base: Mapping, override: Mapping): Mapping {
  const out = copyPlain(base);
  for (const [k, v] of Object.entries(override)) {
    if (v === undefined) continue;
    const current = out[k];
    out[k] = isMapping(current) && isMapping(v) ? deepMerge(current, v) : copyPlain(v);
  }
  return out;
}
