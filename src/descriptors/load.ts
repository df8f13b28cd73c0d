/**
 * Loading user YAML files (infrastructure descriptions, node definitions, auth data) into plain values,
 * with the Occopus import tags resolved and a way back from any value to where it was written.
 * Dialect and tag rules: formats §0.1 and §6.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isScalar, type Node, type YAMLMap } from 'yaml';
import { YamlError, formatLocation, type SourceLocation } from '../errors.js';
import { importUrlPath, readFailureReason, readImportedText, type ImportTag } from './import-tags.js';
import { buildAliasTable, explicitPair, type AliasTable } from './yaml-ast.js';
import { toPlainValue } from './yaml-convert.js';
import { locatePath, type ImportTarget } from './yaml-locate.js';
import { parseSingleDocument, positionOf, type ParsedYaml } from './yaml-source.js';

export interface LoadedDocument {
  /** Absolute path of the loaded file, or the label given for a string (e.g. '<request body>'). */
  file: string;
  /** Plain JS value. YAML aliases resolve to the SAME object as their anchor (identity matters: the
   *  compiler matches dependency ends to node entries by identity). */
  value: unknown;
  /** Source position of the node at `path` inside `value` (keys and indexes). Follows into files
   *  brought in by `!yaml_import`, and into anchors for aliases. When the exact path does not exist
   *  (e.g. a missing key), returns the position of the nearest existing ancestor. For a mapping key
   *  that exists, point at the key. */
  locate(path: readonly (string | number)[]): SourceLocation | undefined;
}

export interface LoadOptions {
  /** Allow `!yaml_import` / `!text_import` (default true). The REST service parses bodies with false:
   *  a client must not read the server's files. When false, those tags are refused like unknown tags. */
  allowImports?: boolean;
  /** Directory relative import paths resolve against when loading a string (default: process.cwd()). */
  baseDir?: string;
}

/** Load one YAML file. Throws {@link YamlError} for anything but a well-formed single document. */
export function loadYamlFile(file: string, options: LoadOptions = {}): LoadedDocument {
  const abs = path.resolve(file);
  let text: string;
  let real: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
    real = fs.realpathSync(abs);
  } catch (e) {
    throw new YamlError(`cannot read YAML file '${abs}': ${readFailureReason(e)}`, undefined, e);
  }
  return load(text, abs, path.dirname(abs), options, [real]).doc;
}

/** Parse YAML text; `file` labels locations (default '<string>'). */
export function parseYamlText(text: string, options: LoadOptions & { file?: string } = {}): LoadedDocument {
  return load(text, options.file ?? '<string>', options.baseDir ?? process.cwd(), options, []).doc;
}

/**
 * @param baseDir directory relative import URLs resolve against
 * @param chain real paths of the files being loaded, outermost first, to refuse import cycles
 */
function load(text: string, file: string, baseDir: string, options: LoadOptions, chain: readonly string[]) {
  const parsed = parseSingleDocument(text, file, options.allowImports ?? true);
  const aliases = buildAliasTable(parsed.doc);
  const imports = new Map<Node, ImportTarget>();
  const value = toPlainValue(parsed, aliases, (tag, node, fields) => {
    const target = resolveImport({ tag, node, fields, parsed, aliases, baseDir, options, chain });
    imports.set(node, target);
    return target.kind === 'yaml' ? target.value : target.text;
  });
  const ctx = { parsed, aliases, imports };
  const doc: LoadedDocument = { file, value, locate: (p) => locatePath(ctx, p) };
  const root = parsed.root;
  const empty = root === null || (isScalar(root) && root.value === null && root.source === '' && root.tag === undefined);
  return { doc, empty };
}

interface ImportSite {
  tag: ImportTag;
  node: YAMLMap;
  /** The tagged mapping's converted content. */
  fields: Record<string, unknown>;
  parsed: ParsedYaml;
  aliases: AliasTable;
  baseDir: string;
  options: LoadOptions;
  chain: readonly string[];
}

type ResolvedImport = (ImportTarget & { kind: 'yaml' }) | { kind: 'text'; file: string; text: string };

function resolveImport(site: ImportSite): ResolvedImport {
  const { tag, node, fields, parsed } = site;
  const urlPair = explicitPair(node, 'url', site.aliases);
  // Errors about the URL point at its value; when the key is missing (or only merged in), at the mapping.
  const urlNode = (urlPair?.value ?? node) as Node;
  const at = positionOf(parsed, urlNode.range?.[0] ?? 0);
  const url = fields['url'];
  if (typeof url !== 'string') {
    const why = url === undefined ? `needs a 'url' key` : `'url' must be a string`;
    throw new YamlError(`${tag} ${why}, e.g. ${tag} {url: 'file://other.yaml'}`, at);
  }
  const resolved = importUrlPath(url, site.baseDir);
  if (!resolved.ok) throw new YamlError(`${tag}: ${resolved.reason}`, at);
  const target = resolved.path;
  const cannotRead = (e: unknown) =>
    new YamlError(`${tag}: cannot read '${target}' (imported at ${formatLocation(at)}): ${readFailureReason(e)}`, at, e);

  let real: string;
  let text: string;
  try {
    real = fs.realpathSync(target);
    if (tag === '!text_import') return { kind: 'text', file: target, text: readImportedText(real) };
    if (site.chain.includes(real)) {
      throw new YamlError(`${tag}: import cycle: ${[...site.chain, real].join(' -> ')}`, at);
    }
    text = fs.readFileSync(real, 'utf8');
  } catch (e) {
    if (e instanceof YamlError) throw e;
    throw cannotRead(e);
  }
  const loaded = load(text, target, path.dirname(target), site.options, [...site.chain, real]);
  if (loaded.empty) {
    throw new YamlError(`${tag}: imported file '${target}' is empty (imported at ${formatLocation(at)})`, at);
  }
  return { kind: 'yaml', value: loaded.doc.value, locate: loaded.doc.locate };
}
