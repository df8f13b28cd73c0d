/**
 * Turns zod's issues into the problems users read: missing keys of one mapping are grouped, unknown
 * keys are listed, a failed union is explained by the branch that matches the value's shape, and
 * everything is phrased for a field (`scaling.min must be a non-negative integer`).
 */
import type { z } from 'zod';

export type Path = (string | number)[];

export interface Problem {
  /** The value at fault; for `missing` and `unknown`, the mapping whose keys are at fault. */
  path: Path;
  kind: 'missing' | 'unknown' | 'invalid';
  /** The keys at fault (`missing`, `unknown`). */
  keys: string[];
  /** A predicate phrase for `invalid` ("must be ..."); unused otherwise. */
  message: string;
}

type Issue = z.core.$ZodIssue;

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let v = root;
  for (const key of path) {
    if (Array.isArray(v) && typeof key === 'number') v = v[key];
    else if (isMapping(v) && Object.hasOwn(v, key)) v = v[key];
    else return undefined;
  }
  return v;
}

/** Problems of `value` against `schema`, in the order zod found them; empty when it passes. */
export function findProblems(schema: z.ZodType, value: unknown): Problem[] {
  const result = schema.safeParse(value);
  if (result.success) return [];
  const problems: Problem[] = [];
  const missingAt = new Map<string, Problem>();
  const seen = new Set<string>();

  for (const issue of flatten(result.error.issues, [])) {
    const path = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
    const parentPath = path.slice(0, -1);
    const last = path[path.length - 1];
    const parent = valueAt(value, parentPath);

    if (issue.code === 'unrecognized_keys') {
      problems.push({ path, kind: 'unknown', keys: [...issue.keys], message: '' });
    } else if (typeof last === 'string' && isMapping(parent) && !Object.hasOwn(parent, last)) {
      // An issue about a key the mapping does not have can only mean the key is required.
      const id = JSON.stringify(parentPath);
      const group = missingAt.get(id);
      if (group) {
        if (!group.keys.includes(last)) group.keys.push(last);
      } else {
        const p: Problem = { path: parentPath, kind: 'missing', keys: [last], message: '' };
        missingAt.set(id, p);
        problems.push(p);
      }
    } else {
      let message = issue.message;
      if (valueAt(value, path) === null && path.length > 0) message += ', but it is empty (null)';
      const id = JSON.stringify([path, message]);
      if (seen.has(id)) continue;
      seen.add(id);
      problems.push({ path, kind: 'invalid', keys: [], message });
    }
  }
  return problems;
}

/**
 * A union failure is explained by the one branch whose basic shape matches the value (the list form
 * for a list, the mapping form for a mapping); when none or several do, the union's own message is
 * the clearest thing to say.
 */
function flatten(issues: readonly Issue[], base: PropertyKey[]): (Issue & { path: PropertyKey[] })[] {
  const out: (Issue & { path: PropertyKey[] })[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const shaped = issue.errors.filter((branch) => !branch.some((i) => i.path.length === 0 && i.code === 'invalid_type'));
      const [only] = shaped;
      if (shaped.length === 1 && only) {
        out.push(...flatten(only, path));
        continue;
      }
    }
    out.push({ ...issue, path });
  }
  return out;
}

/** Where to point the user: at the first unknown key itself, else at the value (or mapping) at fault. */
export function issuePath(p: Problem): Path {
  return p.kind === 'unknown' && p.keys[0] !== undefined ? [...p.path, p.keys[0]] : p.path;
}

/** `scaling.min`, `dependencies[0].connection`. */
export function formatPath(path: readonly (string | number)[]): string {
  let s = '';
  for (const k of path) s += typeof k === 'number' ? `[${k}]` : s ? `.${k}` : k;
  return s;
}

/** The problem as a sentence, with `field` (the path below the caller's prefix) named in it. */
export function describeProblem(p: Problem, field: readonly (string | number)[]): string {
  const f = formatPath(field);
  switch (p.kind) {
    case 'missing':
      return `Missing key(s)${f ? ` in ${f}` : ''}: ${p.keys.join(', ')}`;
    case 'unknown':
      return `Unknown key(s)${f ? ` in ${f}` : ''}: ${p.keys.join(', ')}`;
    case 'invalid':
      if (!f) return p.message;
      return /^(?:(?:must|is|may|has)\b|")/.test(p.message) ? `${f} ${p.message}` : `${f}: ${p.message}`;
  }
}
