/**
 * Topological levels (formats §2.3): Kahn's algorithm a whole level at a time, so that the enactor
 * can build each level in parallel. Inside a level the order of the `nodes` list is kept.
 */
import { CompileError } from '../errors.js';
import type { SourcedEdge } from './dependencies.js';
import { locateFirst, type Locate } from './locate.js';

export function topologicalLevels(names: readonly string[], edges: readonly SourcedEdge[], locate?: Locate): string[][] {
  const levels: string[][] = [];
  let remaining = [...names];
  let pending = [...edges];
  while (remaining.length > 0) {
    const waiting = new Set(pending.map((e) => e.dependent));
    const level = remaining.filter((n) => !waiting.has(n));
    if (level.length === 0) throw cycleError(remaining, pending, locate);
    const done = new Set(level);
    levels.push(level);
    remaining = remaining.filter((n) => !done.has(n));
    pending = pending.filter((e) => !done.has(e.dependee));
  }
  return levels;
}

/**
 * Every remaining node still depends on a remaining node, so following "depends on" from any of
 * them must come back to a node already seen; that loop is the cycle the user has to break.
 */
function cycleError(remaining: readonly string[], pending: readonly SourcedEdge[], locate: Locate | undefined): CompileError {
  const path: string[] = [];
  const via: SourcedEdge[] = [];
  let current = remaining[0];
  while (current !== undefined && !path.includes(current)) {
    path.push(current);
    const from = current;
    const edge = pending.find((e) => e.dependent === from);
    if (!edge) break; // unreachable: a remaining node always has a pending edge
    via.push(edge);
    current = edge.dependee;
  }
  const start = current === undefined ? 0 : Math.max(path.indexOf(current), 0);
  const cycle = [...path.slice(start), current ?? ''];
  const firstEdge = via[start];
  return new CompileError(
    `dependency cycle: ${cycle.join(' -> ')}`,
    firstEdge ? locateFirst(locate, ['dependencies', firstEdge.source]) : undefined,
  );
}
