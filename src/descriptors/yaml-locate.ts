/**
 * Source position of a path (keys and indexes) inside a loaded document, found by walking the AST on
 * demand: positions are only needed when reporting an error, so nothing is precomputed.
 */
import { isAlias, isMap, isNode, isSeq, type Node, type Pair } from 'yaml';
import type { SourceLocation } from '../errors.js';
import { isPlainObject } from './yaml-convert.js';
import { deref, isMergeKey, keyString, mergeSources, type AliasTable } from './yaml-ast.js';
import { positionOf, type ParsedYaml } from './yaml-source.js';

export type Path = readonly (string | number)[];

/** What an import-tagged mapping was replaced by. */
export type ImportTarget =
  | { kind: 'yaml'; value: unknown; locate: (path: Path) => SourceLocation | undefined }
  | { kind: 'text'; file: string };

export interface LocateContext {
  parsed: ParsedYaml;
  aliases: AliasTable;
  imports: ReadonlyMap<Node, ImportTarget>;
}

/** Where the value at `path` is written; the nearest existing ancestor when the path does not exist. */
export function locatePath(ctx: LocateContext, path: Path): SourceLocation {
  const root = ctx.parsed.root;
  if (!root) return { file: ctx.parsed.file, line: 1, column: 1 };
  return walk(ctx, root, path, 0);
}

type Step = { key?: unknown; value: unknown } | { found: SourceLocation };

/** Position of `path[i..]` below `node`, the node reached by `path[..i)`. */
function walk(ctx: LocateContext, node: Node, path: Path, i: number): SourceLocation {
  const here = start(ctx, node);
  const target = isAlias(node) ? deref(node, ctx.aliases) : node;
  if (i === path.length) {
    // A path ending at an alias points at the alias; at an import, at the imported content.
    const imported = !isAlias(node) && target ? ctx.imports.get(target) : undefined;
    return imported ? importedStart(imported, []) ?? here : here;
  }
  if (!target) return here;
  const imported = ctx.imports.get(target);
  if (imported) return importedStart(imported, path.slice(i)) ?? here;

  const segment = path[i] as string | number;
  const step = isMap(target) ? stepMap(ctx, target, String(segment), path.slice(i + 1), new Set()) : stepSeq(target, segment);
  if (!step) return here;
  if ('found' in step) return step.found;
  if (i + 1 === path.length && step.key !== undefined) return start(ctx, step.key);
  if (isNode(step.value)) return walk(ctx, step.value, path, i + 1);
  return step.key !== undefined ? start(ctx, step.key) : here;
}

function importedStart(target: ImportTarget, rest: Path): SourceLocation | undefined {
  // Inside a text import there is nothing to descend into: its first character stands for all of it.
  return target.kind === 'yaml' ? target.locate(rest) : { file: target.file, line: 1, column: 1 };
}

function stepSeq(seq: Node, segment: string | number): Step | undefined {
  if (!isSeq(seq)) return undefined;
  const index = typeof segment === 'number' ? segment : /^\d+$/.test(segment) ? Number(segment) : -1;
  if (!Number.isInteger(index) || index < 0 || index >= seq.items.length) return undefined;
  return { value: seq.items[index] };
}

/** Explicit keys win over merged ones, then `<<` sources in order, like the loader. */
function stepMap(ctx: LocateContext, map: Node, key: string, rest: Path, seen: Set<Node>): Step | undefined {
  if (!isMap(map) || seen.has(map)) return undefined;
  seen.add(map);
  const pairs = map.items as Pair[];
  const explicit = pairs.find((p) => !isMergeKey(p.key) && keyString(p.key, ctx.aliases) === key);
  if (explicit) return { key: explicit.key, value: explicit.value };
  for (const pair of pairs) {
    if (!isMergeKey(pair.key)) continue;
    for (const source of mergeSources(pair.value, ctx.aliases) ?? []) {
      const imported = ctx.imports.get(source);
      if (imported) {
        if (imported.kind === 'yaml' && isPlainObject(imported.value) && Object.hasOwn(imported.value, key)) {
          const found = imported.locate([key, ...rest]);
          if (found) return { found };
        }
        continue;
      }
      const step = stepMap(ctx, source, key, rest, seen);
      if (step) return step;
    }
  }
  return undefined;
}

function start(ctx: LocateContext, node: unknown): SourceLocation {
  return positionOf(ctx.parsed, isNode(node) ? (node.range?.[0] ?? 0) : 0);
}
