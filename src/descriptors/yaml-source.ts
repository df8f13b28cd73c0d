/**
 * Turns YAML text into exactly one parsed document, in the dialect Occopus users write (formats §0.1):
 * YAML 1.2 core schema, `<<` merge keys, unique keys, and no tags beyond the core ones and the two
 * import tags. Every diagnostic of the `yaml` library, warnings included, becomes a {@link YamlError}:
 * a file that parses "with warnings" would silently mean something else than the user wrote.
 */
import {
  LineCounter,
  parseAllDocuments,
  type CollectionTag,
  type Document,
  type ParsedNode,
  type ScalarTag,
  type YAMLError as LibYamlError,
} from 'yaml';
import { YamlError, type SourceLocation } from '../errors.js';
import { IMPORT_TAGS, displayTag, isImportTag } from './import-tags.js';

export interface ParsedYaml {
  /** Absolute path or label, used in every location. */
  file: string;
  /** The single document, or undefined when the text holds none (empty, or comments only). */
  doc: Document.Parsed | undefined;
  /** Root node of the document; null when there is no document. */
  root: ParsedNode | null;
  lineCounter: LineCounter;
}

/** 1-based position of a character offset of the parsed text. */
export function positionOf(parsed: Pick<ParsedYaml, 'file' | 'lineCounter'>, offset: number): SourceLocation {
  const { line, col } = parsed.lineCounter.linePos(offset);
  // linePos answers line 0 when no line start was recorded (empty text); keep locations 1-based.
  return { file: parsed.file, line: Math.max(line, 1), column: Math.max(col, 1) };
}

const CORE_TAGS = '!!str !!int !!float !!bool !!null !!map !!seq';

/**
 * YAML 1.2 core reads `!!float 1` as 1.0, but the library's float tags need a dot or an exponent.
 * Untagged `1` still resolves as an int: the library's int tag comes first in the schema.
 */
const INTEGRAL_FLOAT: ScalarTag = {
  tag: 'tag:yaml.org,2002:float',
  default: true,
  test: /^[-+]?[0-9]+$/,
  resolve: (source: string) => Number(source),
};

function customTags(allowImportTags: boolean): (ScalarTag | CollectionTag)[] {
  // Returning the mapping as is: the loader replaces import-tagged mappings after parsing.
  const imports = IMPORT_TAGS.map((tag): CollectionTag => ({ tag, collection: 'map', resolve: (map) => map }));
  return allowImportTags ? [INTEGRAL_FLOAT, ...imports] : [INTEGRAL_FLOAT];
}

/**
 * Parse `text` as one YAML document. `allowImportTags` registers `!yaml_import` and `!text_import` on
 * mappings; without it they are refused like any unknown tag.
 */
export function parseSingleDocument(text: string, file: string, allowImportTags: boolean): ParsedYaml {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, {
    version: '1.2',
    schema: 'core',
    merge: true,
    uniqueKeys: true,
    // Known tags are the YAML 1.1 extras (!!binary, !!set, !!omap, !!timestamp ...): refuse them.
    resolveKnownTags: false,
    prettyErrors: false,
    lineCounter,
    customTags: customTags(allowImportTags),
  });
  const docs: Document.Parsed[] = Array.isArray(parsed) ? parsed : [];
  const located = { file, lineCounter };

  const diagnostics = docs
    .flatMap((d) => [...d.errors, ...d.warnings])
    .sort((a, b) => a.pos[0] - b.pos[0]);
  const first = diagnostics[0];
  if (first) {
    throw new YamlError(describeDiagnostic(first, text, allowImportTags), positionOf(located, first.pos[0]));
  }
  const second = docs[1];
  if (second) {
    throw new YamlError(
      'a file must hold exactly one YAML document; a second one starts here',
      positionOf(located, second.range[0]),
    );
  }
  const doc = docs[0];
  return { file, doc, root: doc?.contents ?? null, lineCounter };
}

function describeDiagnostic(d: LibYamlError, text: string, allowImportTags: boolean): string {
  if (d.code === 'DUPLICATE_KEY') {
    return `duplicate key '${text.slice(d.pos[0], d.pos[1])}' in mapping`;
  }
  const unresolved = d.code === 'TAG_RESOLVE_FAILED' ? /^Unresolved tag: (.+)$/.exec(d.message) : null;
  if (unresolved?.[1] !== undefined) {
    const tag = displayTag(unresolved[1]);
    if (isImportTag(unresolved[1])) {
      return allowImportTags
        ? `${tag} must be applied to a mapping with a 'url' key, e.g. ${tag} {url: 'file://other.yaml'}`
        : `YAML tag ${tag} is not allowed here: imports are disabled for this input (only ${CORE_TAGS} may be written)`;
    }
    if (CORE_TAGS.split(' ').includes(tag)) return `the value does not match its YAML tag ${tag}`;
    const allowed = allowImportTags ? `${IMPORT_TAGS.join(', ')} and ${CORE_TAGS}` : CORE_TAGS;
    return `unsupported YAML tag ${tag}: only ${allowed} may be used`;
  }
  return `YAML syntax error: ${d.message}`;
}
