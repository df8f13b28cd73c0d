/**
 * Python `str()` / `repr()` of template values. Jinja2 prints every `{{ expr }}` with `str()`, and real
 * Occopus files depend on the exact text: flowbster puts `{{getipall(..)}}` into YAML as a flow list
 * (`['10.0.0.1', '10.0.0.2']`) and the puppet tutorial's sed script parses `{'dbuser': 'u'}`
 * (formats §0.2, §5.3).
 *
 * JSON-shaped values only: JavaScript has one number type, so an integer-valued number prints as a
 * Python int (`1`, never `1.0`); other numbers print as Python's shortest float repr.
 */

/** Python `str(value)`; `undefined` (a Jinja2 Undefined) prints as the empty string. */
export function pyStr(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (isSafeStringLike(value)) return String(value);
  return pyRepr(value);
}

/** Python `repr(value)`, the form items take inside a printed list or dict. */
export function pyRepr(value: unknown): string {
  if (value === undefined || value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return pyNumber(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return pyStringRepr(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (typeof value === 'function') return `<function ${value.name || '<lambda>'}>`;
  if (value instanceof Date) return pyDate(value);
  if (isSafeStringLike(value)) return pyStringRepr(String(value));
  if (isPlainObject(value)) {
    const items = Object.entries(value).map(([k, v]) => `${pyStringRepr(k)}: ${pyRepr(v)}`);
    return `{${items.join(', ')}}`;
  }
  return String(value);
}

/** An integer-valued number as a Python int, any other as Python's float repr. */
export function pyNumber(n: number): string {
  if (Number.isInteger(n)) {
    // JS switches to exponent notation at 1e21; a Python int never does.
    return Math.abs(n) < 1e21 ? String(n === 0 ? 0 : n) : BigInt(n).toString();
  }
  return pyFloatRepr(n);
}

/**
 * Python's `repr(float)`: the shortest round-trip digits, in fixed notation when the decimal exponent
 * is in [-4, 16), else `d.ddde+XX`. Always has a `.` or an exponent (`1.0`, `1e-05`).
 */
export function pyFloatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  const sign = n < 0 || Object.is(n, -0) ? '-' : '';
  const [mantissa = '0', expText = '0'] = Math.abs(n).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${sign}${digits[0]}${frac}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const fracPart = digits.slice(exp + 1) || '0';
  return `${sign}${intPart}.${fracPart}`;
}

const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** Python 3 `repr(str)`: single quotes unless the text has a `'` and no `"`. */
export function pyStringRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch !== ' ' && NOT_PRINTABLE.test(ch)) out += pyEscape(ch.codePointAt(0) ?? 0);
    else out += ch;
  }
  return out + quote;
}

function pyEscape(cp: number): string {
  if (cp <= 0xff) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp <= 0xffff) return `\\u${cp.toString(16).padStart(4, '0')}`;
  return `\\U${cp.toString(16).padStart(8, '0')}`;
}

/** `str(datetime.date)` or `str(datetime.datetime)` in UTC. */
function pyDate(d: Date): string {
  const iso = d.toISOString();
  if (iso.endsWith('T00:00:00.000Z')) return iso.slice(0, 10);
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}+00:00`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** nunjucks' SafeString (what `| safe` returns): a String-like wrapper to print as its text. */
function isSafeStringLike(value: unknown): boolean {
  return value instanceof String;
}

/** Python truthiness: empty lists and dicts are false, unlike in JavaScript. */
export function pyTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (isPlainObject(value)) return Object.keys(value).length > 0;
  if (value instanceof String) return value.length > 0;
  return Boolean(value);
}
