/**
 * Quoting of YAML scalars for the cloud-config emitter, and the template filter that quotes what a
 * `{{ expr }}` inserts into such a scalar.
 *
 * Occopus renders the dumped cloud-config *text*, so an inserted value is read with the quoting rules
 * of the scalar it lands in. Real files rely on that: a multi-line private key inserted into a
 * double-quoted scalar has its blank lines folded into single newlines (formats §5.5). We keep the
 * folding, and differ from Occopus only where its output would break: continuation lines are indented
 * (Occopus leaves them at column 0, which PyYAML tolerates but the YAML spec does not), and `"`, `\`
 * (double-quoted) or `'` (single-quoted) in the value are escaped instead of ending the scalar.
 */
import { pyStr } from './python-str.js';

export type ScalarStyle = 'plain' | 'single' | 'double';

/** Name of the filter the emitter wraps around every `{{ expr }}` inside a scalar. */
export const YAML_FRAGMENT_FILTER = '__occopus_yaml_fragment';

const DOUBLE_QUOTED_ESCAPES: Record<string, string> = {
  '\0': '\\0',
  '\x07': '\\a',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\v': '\\v',
  '\f': '\\f',
  '\r': '\\r',
  '\x1b': '\\e',
  '"': '\\"',
  '\\': '\\\\',
  '\x85': '\\N',
  '\u2028': '\\L',
  '\u2029': '\\P',
};

/** Whether a character can stand for itself inside any YAML scalar (YAML 1.2 c-printable). */
export function isYamlPrintable(cp: number): boolean {
  return (
    cp === 0x09 ||
    cp === 0x0a ||
    cp === 0x0d ||
    (cp >= 0x20 && cp <= 0x7e) ||
    cp === 0x85 ||
    (cp >= 0xa0 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** Body of a double-quoted scalar (without the quotes); with `keepBreaks`, line breaks stay raw. */
export function escapeDoubleQuoted(text: string, keepBreaks = false): string {
  let out = '';
  for (const ch of text) {
    if (keepBreaks && ch === '\n') {
      out += ch;
      continue;
    }
    const named = DOUBLE_QUOTED_ESCAPES[ch];
    if (named !== undefined) {
      out += named;
      continue;
    }
    const cp = ch.codePointAt(0) ?? 0;
    if (cp === 0x09 || cp === 0x0a || cp === 0x0d || !isYamlPrintable(cp)) {
      out += cp <= 0xff ? `\\x${hex(cp, 2)}` : cp <= 0xffff ? `\\u${hex(cp, 4)}` : `\\U${hex(cp, 8)}`;
    } else {
      out += ch;
    }
  }
  return out;
}

function hex(cp: number, width: number): string {
  return cp.toString(16).toUpperCase().padStart(width, '0');
}

/** Body of a single-quoted scalar (without the quotes). */
export function escapeSingleQuoted(text: string): string {
  return text.replace(/'/g, "''");
}

/**
 * What `{{ expr }}` inserts into a scalar of the given style: Python `str()` of the value, quoted for
 * that style, line breaks kept (so YAML folds them as in Occopus) but continuation lines indented.
 */
export function yamlFragment(value: unknown, style: unknown, indent: unknown): string {
  const text = pyStr(value);
  const pad = ' '.repeat(typeof indent === 'number' && indent > 0 ? indent : 0);
  let quoted: string;
  if (style === 'double') quoted = escapeDoubleQuoted(text, true);
  else if (style === 'single') quoted = escapeSingleQuoted(text);
  else quoted = text;
  return quoted.replace(/\n/g, `\n${pad}`);
}
