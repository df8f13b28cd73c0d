/**
 * Parsed YAML AST → plain JS values (objects, arrays, strings, numbers, booleans, null).
 *
 * Done here rather than with the library's `toJS` because the loader must: keep alias identity (the
 * compiler matches dependency ends to node entries by identity), refuse what plain objects cannot hold
 * (collection keys, keys equal once stringified, recursive aliases), and hand import-tagged mappings to
 * the caller, which replaces them by the imported content.
 */
import { isAlias, isMap, isNode, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml';
import { YamlError } from '../errors.js';
import { displayTag, isImportTag, type ImportTag } from './import-tags.js';
import { isMergeKey, keyString, type AliasTable } from './yaml-ast.js';
import { positionOf, type ParsedYaml } from './yaml-source.js';

/** Replaces an import-tagged mapping (`fields` is its converted content) by what it imports. */
export type ImportHook = (tag: ImportTag, node: YAMLMap, fields: Record<string, unknown>) => unknown;

const CORE = 'tag:yaml.org,2002:';
const SCALAR_TAGS = new Set(['!', `${CORE}str`, `${CORE}int`, `${CORE}float`, `${CORE}bool`, `${CORE}null`]);

export function toPlainValue(parsed: ParsedYaml, aliases: AliasTable, onImport: ImportHook): unknown {
  return new Converter(parsed, aliases, onImport).value(parsed.root);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Converter {
  /** Converted value per node: an alias yields the very object built for its anchor. */
  private readonly done = new Map<Node, unknown>();
  /** Nodes being converted; meeting one again means an alias inside its own anchor. */
  private readonly active = new Set<Node>();

  constructor(
    private readonly parsed: ParsedYaml,
    private readonly aliases: AliasTable,
    private readonly onImport: ImportHook,
  ) {}

  value(node: unknown): unknown {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      const target = this.aliases.get(node);
      if (!target) throw this.error(`alias *${node.source} refers to no anchor &${node.source} defined before it`, node);
      if (this.active.has(target)) {
        throw this.error(`alias *${node.source} is used inside the node it refers to; recursive structures are not supported`, node);
      }
      return this.value(target);
    }
    if (!isScalar(node) && !isMap(node) && !isSeq(node)) throw this.error('unexpected YAML node', node);
    if (this.done.has(node)) return this.done.get(node);
    if (this.active.has(node)) {
      throw this.error('a mapping merges itself (through <<); recursive structures are not supported', node);
    }
    this.active.add(node);
    try {
      const result = this.build(node);
      this.done.set(node, result);
      return result;
    } finally {
      this.active.delete(node);
    }
  }

  private build(node: Node): unknown {
    const tag = node.tag;
    if (isScalar(node)) {
      if (tag !== undefined && !SCALAR_TAGS.has(tag)) throw this.unsupportedTag(tag, node);
      if (typeof node.value === 'symbol') throw this.error("'<<' (merge) is only allowed as a mapping key", node);
      return node.value;
    }
    if (isSeq(node)) {
      if (tag !== undefined && tag !== `${CORE}seq`) throw this.unsupportedTag(tag, node);
      return node.items.map((item) => this.value(item));
    }
    const map = node as YAMLMap;
    if (isImportTag(tag)) return this.onImport(tag, map, this.mapping(map));
    if (tag !== undefined && tag !== `${CORE}map`) throw this.unsupportedTag(tag, node);
    return this.mapping(map);
  }

  private mapping(map: YAMLMap): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const explicit = new Set<string>();
    for (const pair of map.items as Pair[]) {
      if (isMergeKey(pair.key)) {
        this.merge(out, pair);
        continue;
      }
      if (isAlias(pair.key)) this.value(pair.key); // reports an unknown anchor as such
      const key = keyString(pair.key, this.aliases);
      if (key === undefined) {
        throw this.error('a mapping key must be a scalar (string, number, boolean or null), not a mapping or list', pair.key);
      }
      // The library only catches keys that are equal as YAML values; `1` and "1" collide only here.
      if (explicit.has(key)) throw this.error(`duplicate key '${key}' in mapping`, pair.key);
      explicit.add(key);
      define(out, key, this.value(pair.value));
    }
    return out;
  }

  /** `<<: src` adds the keys of src that the mapping does not set itself; earlier sources win. */
  private merge(out: Record<string, unknown>, pair: Pair): void {
    const merged = this.value(pair.value);
    const sources = isPlainObject(merged) ? [merged] : Array.isArray(merged) && merged.every(isPlainObject) ? merged : undefined;
    if (!sources) {
      throw this.error("the value of a '<<' merge key must be a mapping or a list of mappings", pair.value ?? pair.key);
    }
    for (const source of sources as Record<string, unknown>[]) {
      for (const [k, v] of Object.entries(source)) if (!Object.hasOwn(out, k)) define(out, k, v);
    }
  }

  private unsupportedTag(tag: string, node: Node): YamlError {
    return this.error(`unsupported YAML tag ${displayTag(tag)}`, node);
  }

  private error(message: string, node: unknown): YamlError {
    const offset = isNode(node) ? (node.range?.[0] ?? 0) : 0;
    return new YamlError(message, positionOf(this.parsed, offset));
  }
}

/** Sets a key, treating `__proto__` as data: a YAML key must never change an object's prototype. */
function define(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}
