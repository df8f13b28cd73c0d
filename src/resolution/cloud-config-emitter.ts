/**
 * Serialises a mapping `context_template` into `#cloud-config` YAML text *before* it is rendered as
 * one template, following the scalar-style rules of the ruamel dumper Occopus uses (formats §5.5):
 * - block style, mapping keys sorted, sequences not indented under their key;
 * - a string is plain when YAML allows it and it would not read back as another type (under YAML 1.1,
 *   which cloud-init uses, or 1.2); else double-quoted when it contains `'` or a line break; else
 *   single-quoted;
 * - canonical `true`/`false`/`null` and numbers.
 * Not copied (cosmetic): line folding at 80 columns (it could split a `{{ expr }}`), escaping of
 * non-ASCII text.
 *
 * Template tags inside a scalar are written as they are, not quoted, because the template engine
 * consumes them before YAML reads the text; each `{{ expr }}` is wrapped in a filter that quotes the
 * inserted value for its scalar (see `yaml-scalar.ts`).
 */
import { isPlainObject, pyFloatRepr } from './python-str.js';
import { scanTemplate } from './template-scanner.js';
import { YAML_FRAGMENT_FILTER, escapeDoubleQuoted, escapeSingleQuoted, isYamlPrintable, type ScalarStyle } from './yaml-scalar.js';

export const CLOUD_CONFIG_HEADER = '#cloud-config';

/** `#cloud-config\n` followed by the block-style YAML of `mapping`. */
export function emitCloudConfig(mapping: Record<string, unknown>): string {
  return `${CLOUD_CONFIG_HEADER}\n${emitYaml(mapping)}`;
}

/** Block-style YAML of a value, ending with a newline. */
export function emitYaml(value: unknown): string {
  return emitLines(value, 0).join('\n') + '\n';
}

function isCollection(value: unknown): value is unknown[] | Record<string, unknown> {
  return Array.isArray(value) ? value.length > 0 : isPlainObject(value) && Object.keys(value).length > 0;
}

/** Lines of a node whose content starts at column `indent` (already padded). */
function emitLines(value: unknown, indent: number): string[] {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value) && value.length > 0) {
    const lines: string[] = [];
    for (const item of value) {
      if (isCollection(item)) {
        // The item's first line goes after the dash: `- key: v` / `- - x`.
        const inner = emitLines(item, indent + 2);
        const [head = '', ...rest] = inner;
        lines.push(`${pad}- ${head.slice(indent + 2)}`, ...rest);
      } else {
        lines.push(`${pad}- ${emitScalar(item, indent + 2)}`);
      }
    }
    return lines;
  }
  if (isPlainObject(value) && Object.keys(value).length > 0) {
    const lines: string[] = [];
    for (const key of Object.keys(value).sort(compareKeys)) {
      const item = value[key];
      const k = emitString(key, indent + 2, true);
      if (Array.isArray(item) && item.length > 0) {
        lines.push(`${pad}${k}:`, ...emitLines(item, indent));
      } else if (isCollection(item)) {
        lines.push(`${pad}${k}:`, ...emitLines(item, indent + 2));
      } else {
        lines.push(`${pad}${k}: ${emitScalar(item, indent + 2)}`);
      }
    }
    return lines;
  }
  return [`${pad}${emitScalar(value, indent + 2)}`];
}

/** Python's `sorted()` on str keys: by code point. */
function compareKeys(a: string, b: string): number {
  const ca = Array.from(a, (c) => c.codePointAt(0) ?? 0);
  const cb = Array.from(b, (c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < Math.min(ca.length, cb.length); i += 1) {
    const d = (ca[i] ?? 0) - (cb[i] ?? 0);
    if (d !== 0) return d;
  }
  return ca.length - cb.length;
}

/** A non-collection value (or an empty collection) as YAML. `indent`: continuation-line indent. */
export function emitScalar(value: unknown, indent: number): string {
  if (value === null || value === undefined) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'number') return emitNumber(value);
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return '[]';
  if (isPlainObject(value)) return '{}';
  if (value instanceof Date) {
    const iso = value.toISOString();
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
  }
  return emitString(String(value), indent, false);
}

function emitNumber(n: number): string {
  if (Number.isNaN(n)) return '.nan';
  if (n === Infinity) return '.inf';
  if (n === -Infinity) return '-.inf';
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n === 0 ? 0 : n);
  const repr = pyFloatRepr(n);
  // `1e-05` reads back as a string under YAML 1.1; ruamel writes `1.0e-05`.
  return repr.includes('.') || !repr.includes('e') ? repr : repr.replace('e', '.0e');
}

/** Strings that a YAML 1.1 (cloud-init's PyYAML) or YAML 1.2 reader would take as another type. */
const IMPLICIT_NON_STRING: RegExp[] = [
  /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  /^(?:~|null|Null|NULL|)$/,
  /^[-+]?(?:0b[0-1_]+|0[0-7_]+|(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
  /^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$/,
  /^(?:<<|=)$/,
  // YAML 1.2 core schema
  /^[-+]?[0-9]+$/,
  /^0o[0-7]+$/,
  /^0x[0-9a-fA-F]+$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/,
];

interface ScalarAnalysis {
  multiline: boolean;
  allowBlockPlain: boolean;
  allowSingleQuoted: boolean;
}

const BREAKS = '\n\x85\u2028\u2029';
const SPACE_OR_BREAK = '\0 \t\r\n\x85\u2028\u2029';

/** Port of the ruamel/PyYAML emitter's `analyze_scalar` (block context, unicode allowed). */
function analyzeScalar(s: string): ScalarAnalysis {
  if (s === '') return { multiline: false, allowBlockPlain: true, allowSingleQuoted: true };
  const chars = Array.from(s);
  let blockIndicators = s.startsWith('---') || s.startsWith('...');
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let precededByWhitespace = true;
  let followedByWhitespace = chars.length === 1 || SPACE_OR_BREAK.includes(chars[1] ?? '');
  let previousSpace = false;
  let previousBreak = false;
  chars.forEach((ch, index) => {
    if (index === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(ch)) blockIndicators = true;
      if ('?:'.includes(ch) && followedByWhitespace) blockIndicators = true;
      if (ch === '-' && followedByWhitespace) blockIndicators = true;
    } else {
      if (ch === ':' && followedByWhitespace) blockIndicators = true;
      if (ch === '#' && precededByWhitespace) blockIndicators = true;
    }
    if (BREAKS.includes(ch)) lineBreaks = true;
    const cp = ch.codePointAt(0) ?? 0;
    if (!(ch === '\n' || (cp >= 0x20 && cp <= 0x7e)) && !(isYamlPrintable(cp) && cp !== 0x09 && cp !== 0x0d)) {
      special = true;
    }
    if (ch === ' ') {
      if (index === 0) leadingSpace = true;
      if (index === chars.length - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (BREAKS.includes(ch)) {
      if (index === 0) leadingBreak = true;
      if (index === chars.length - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = SPACE_OR_BREAK.includes(ch);
    followedByWhitespace = index + 2 >= chars.length || SPACE_OR_BREAK.includes(chars[index + 2] ?? '');
  });
  let allowBlockPlain = true;
  let allowSingleQuoted = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) allowBlockPlain = false;
  if (breakSpace) allowBlockPlain = allowSingleQuoted = false;
  if (spaceBreak || special) allowBlockPlain = allowSingleQuoted = false;
  if (lineBreaks) allowBlockPlain = false;
  if (blockIndicators) allowBlockPlain = false;
  return { multiline: lineBreaks, allowBlockPlain, allowSingleQuoted };
}

/** The style ruamel would pick for a string (formats §5.5). */
export function chooseScalarStyle(s: string, simpleKey = false): ScalarStyle {
  const a = analyzeScalar(s);
  const readsAsString = !IMPLICIT_NON_STRING.some((re) => re.test(s));
  if (readsAsString && a.allowBlockPlain && !(simpleKey && (s === '' || a.multiline))) return 'plain';
  if (s.includes("'") || s.includes('\n')) return 'double';
  if (a.allowSingleQuoted && !(simpleKey && a.multiline)) return 'single';
  return 'double';
}

/**
 * A string scalar in the chosen style. Literal text is quoted; template tags are kept verbatim and
 * each `{{ expr }}` gets the filter that quotes what it inserts (`indent`: continuation lines).
 */
function emitString(s: string, indent: number, simpleKey: boolean): string {
  const style = chooseScalarStyle(s, simpleKey);
  const quoteText = (text: string): string =>
    style === 'double' ? escapeDoubleQuoted(text) : style === 'single' ? escapeSingleQuoted(text) : text;
  const body = scanTemplate(s)
    .map((seg) => {
      if (seg.kind === 'text') return quoteText(seg.text);
      if (seg.kind === 'output' && seg.close && (seg.body ?? '').trim() !== '') {
        return `${seg.open}(${seg.body}) | ${YAML_FRAGMENT_FILTER}("${style}", ${indent})${seg.close}`;
      }
      return seg.text;
    })
    .join('');
  if (style === 'double') return `"${body}"`;
  if (style === 'single') return `'${body}'`;
  return body;
}
