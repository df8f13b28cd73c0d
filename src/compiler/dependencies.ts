/**
 * Turning the user's `dependencies` list into normalised edges between node names (formats §1.4).
 */
import { CompileError } from '../errors.js';
import type { InfraNodeEntry } from '../descriptors/types.js';
import type { AttributeMapping, Edge } from './types.js';
import { copyPlain, isMapping, pyEqual } from './values.js';
import { locateFirst, type DocPath, type Locate } from './locate.js';

/** An edge plus the index of the `dependencies` item that first declared its pair (for messages). */
export interface SourcedEdge extends Edge {
  source: number;
}

/**
 * Edges in order of first declaration. Two items joining the same pair become one edge whose
 * mappings are those of the later item: Occopus stores mappings per (node, peer) key, so the later
 * item overwrites the earlier one, and descriptions written for it expect exactly that.
 */
export function resolveDependencies(
  nodes: readonly InfraNodeEntry[],
  dependencies: readonly unknown[],
  locate?: Locate,
): SourcedEdge[] {
  const byPair = new Map<string, SourcedEdge>();
  dependencies.forEach((dep, i) => {
    const { ends, endPaths, rawMappings } = splitDependency(dep, i, locate);
    const dependent = resolveEnd(nodes, ends[0], i, endPaths[0], locate);
    const dependee = resolveEnd(nodes, ends[1], i, endPaths[1], locate);
    const mappings = normaliseMappings(rawMappings, i, locate);
    const key = JSON.stringify([dependent, dependee]);
    const existing = byPair.get(key);
    if (existing) existing.mappings = mappings;
    else byPair.set(key, { dependent, dependee, mappings, source: i });
  });
  return [...byPair.values()];
}

interface SplitDependency {
  ends: [unknown, unknown];
  endPaths: [DocPath, DocPath];
  rawMappings: unknown;
}

function splitDependency(dep: unknown, i: number, locate: Locate | undefined): SplitDependency {
  if (Array.isArray(dep) && dep.length === 2) {
    return {
      ends: [dep[0], dep[1]],
      endPaths: [
        ['dependencies', i, 0],
        ['dependencies', i, 1],
      ],
      rawMappings: undefined,
    };
  }
  if (isMapping(dep) && Array.isArray(dep.connection) && dep.connection.length === 2) {
    const conn: unknown[] = dep.connection;
    return {
      ends: [conn[0], conn[1]],
      endPaths: [
        ['dependencies', i, 'connection', 0],
        ['dependencies', i, 'connection', 1],
      ],
      rawMappings: dep.mappings,
    };
  }
  throw new CompileError(
    `dependency ${i + 1} must be [dependent, dependee] or {connection: [dependent, dependee], mappings: [...]}`,
    locateFirst(locate, ['dependencies', i]),
  );
}

function resolveEnd(
  nodes: readonly InfraNodeEntry[],
  end: unknown,
  i: number,
  path: DocPath,
  locate: Locate | undefined,
): string {
  const where = (): ReturnType<Locate> => locateFirst(locate, path, ['dependencies', i]);
  // A YAML alias is the very object of the node entry.
  const same = nodes.find((n) => n === end);
  if (same) return same.name;
  if (isMapping(end)) {
    // A repeated inline copy of an entry orders correctly in Occopus, so it must work here too.
    const equal = nodes.filter((n) => pyEqual(n, end));
    if (equal.length === 1 && equal[0]) return equal[0].name;
  }
  if (typeof end === 'string') {
    // Our extension: Occopus silently ignores names; we accept them rather than drop the ordering.
    const named = nodes.find((n) => n.name === end);
    if (named) return named.name;
    throw new CompileError(`unknown node '${end}' in dependency ${i + 1}`, where());
  }
  throw new CompileError(`dependency ${i + 1} refers to a node that is not in 'nodes'`, where());
}

function normaliseMappings(raw: unknown, i: number, locate: Locate | undefined): AttributeMapping[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    throw new CompileError(
      `'mappings' of dependency ${i + 1} must be a list`,
      locateFirst(locate, ['dependencies', i, 'mappings'], ['dependencies', i]),
    );
  }
  return raw.map((m: unknown, j) => {
    if (isAttributePair(m)) return { attributes: [m[0], m[1]], synch: false };
    if (isMapping(m) && isAttributePair(m.attributes)) {
      const { attributes, synch, ...extra } = m;
      return { ...copyPlain(extra), attributes: [attributes[0], attributes[1]], synch: synch === true };
    }
    throw new CompileError(
      `mapping ${j + 1} of dependency ${i + 1} must be [source, destination] or ` +
        `{attributes: [source, destination], synch: true|false}`,
      locateFirst(locate, ['dependencies', i, 'mappings', j], ['dependencies', i]),
    );
  });
}

function isAttributePair(v: unknown): v is [string, string] {
  return Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string';
}
