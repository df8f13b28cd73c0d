/**
 * Implementation selection (formats §4): which of a node type's definitions an instance is built
 * from. Done again for every instance, so instances of one node may land on different clouds.
 */
import { NoMatchingNodeDefinition, OccopusError } from '../errors.js';
import type { Mapping, NodeDefinition } from '../descriptors/types.js';
import type { NodeDescription } from '../compiler/types.js';
import { copyPlain, pyEqual } from '../compiler/values.js';

/**
 * Every filter key is in `resource` with an equal value (Python `==`, deep for lists and mappings).
 * Compared with the stored, unrendered resource, as Occopus does. An empty or absent filter matches.
 */
export function matchesFilter(resource: Mapping, filter: Mapping | undefined): boolean {
  if (!filter) return true;
  return Object.entries(filter).every(([k, v]) => Object.hasOwn(resource, k) && pyEqual(resource[k], v));
}

/**
 * A uniformly random definition among those matching the node's filter, as a deep copy the caller
 * may change. `random` returns a number in [0, 1), like `Math.random`, which is the default.
 */
export function selectImplementation(
  defs: readonly NodeDefinition[],
  node: Pick<NodeDescription, 'type' | 'filter'>,
  random: () => number = Math.random,
): NodeDefinition {
  const filter = node.filter ?? {};
  if (defs.length === 0) throw neverImported(node.type, filter);
  const candidates = defs.filter((d) => matchesFilter(d.resource, filter));
  if (candidates.length === 0) throw new NoMatchingNodeDefinition(node.type, filter);
  // Guard a `random` that returns 1 (or more) so the index stays in range.
  const index = Math.min(Math.floor(random() * candidates.length), candidates.length - 1);
  const picked = candidates[Math.max(index, 0)];
  if (!picked) throw new OccopusError('E_INTERNAL', `random pick out of range for type '${node.type}'`);
  return copyPlain(picked);
}

/** Same error type as any missing match, with the likelier cause and its fix in the message. */
function neverImported(nodeType: string, filter: Mapping): NoMatchingNodeDefinition {
  const e = new NoMatchingNodeDefinition(nodeType, filter);
  e.message =
    `No node definition for type '${nodeType}': it was never imported ` +
    `(run occopus-import with the file that defines 'node_def:${nodeType}')`;
  return e;
}
