/**
 * Reading the `yaml` AST the way the loader means it, shared by conversion to plain values and by
 * `locate`, so both agree on which key is which: aliases resolved to their anchors, keys as strings,
 * `<<` merge keys followed in YAML merge order.
 */
import { isAlias, isMap, isScalar, isSeq, visit, type Alias, type Document, type Node, type Pair } from 'yaml';

/**
 * For each alias, the node it refers to: the last node with that anchor before the alias, in document
 * order (YAML 1.2 §3.2.2.2). Undefined when no such anchor exists. Built in one pass because
 * `Alias.resolve` walks the whole document on every call.
 */
export type AliasTable = Map<Alias, Node | undefined>;

export function buildAliasTable(doc: Document | undefined): AliasTable {
  const table: AliasTable = new Map();
  if (!doc) return table;
  const anchors = new Map<string, Node>();
  visit(doc, {
    Node: (_key, node) => {
      if (isAlias(node)) table.set(node, anchors.get(node.source));
      else if (node.anchor) anchors.set(node.anchor, node);
    },
  });
  return table;
}

/** The node itself, or for an alias the anchored node it stands for (undefined if there is none). */
export function deref(node: unknown, aliases: AliasTable): Node | undefined {
  if (isAlias(node)) return aliases.get(node);
  return isScalar(node) || isMap(node) || isSeq(node) ? node : undefined;
}

/** A plain `<<` key (quoted `"<<"` is an ordinary key); the library gives it a symbol value. */
export function isMergeKey(key: unknown): boolean {
  return isScalar(key) && typeof key.value === 'symbol';
}

/**
 * The string a mapping key stands for: the JS `String()` of a scalar key's value, so `1:` is "1" and
 * `true:` is "true". Undefined for a collection key, which plain objects cannot hold.
 */
export function keyString(key: unknown, aliases: AliasTable): string | undefined {
  const node = deref(key, aliases);
  if (!isScalar(node) || typeof node.value === 'symbol') return undefined;
  return String(node.value);
}

/**
 * The mappings a `<<` value brings in, in priority order (earlier ones win). Undefined when the value is
 * not a mapping or a sequence of mappings (aliases allowed at both levels).
 */
export function mergeSources(value: unknown, aliases: AliasTable): Node[] | undefined {
  const node = deref(value, aliases);
  if (isMap(node)) return [node];
  if (!isSeq(node)) return undefined;
  const sources: Node[] = [];
  for (const item of node.items) {
    const source = deref(item, aliases);
    if (!isMap(source)) return undefined;
    sources.push(source);
  }
  return sources;
}

/** The explicit (not merged) pair for `key` in a mapping node. */
export function explicitPair(map: Node, key: string, aliases: AliasTable): Pair | undefined {
  if (!isMap(map)) return undefined;
  return (map.items as Pair[]).find((p) => !isMergeKey(p.key) && keyString(p.key, aliases) === key);
}
