/**
 * The one template engine: nunjucks configured and patched to behave like the plain
 * `jinja2.Template(text)` Occopus uses (formats §0.2). No autoescape, no loader (a template cannot
 * read files), lenient undefined values.
 *
 * Each template goes through: newline normalisation and removal of one trailing newline
 * (Jinja2's keep_trailing_newline=False) → rewrite of attribute names nunjucks cannot parse
 * (`.true`, `.in`, `.0`) → parse → Jinja2-semantics AST rewrite → code generation (cached).
 */
import nunjucks from 'nunjucks';
import { TemplateError, isOccopusError } from '../errors.js';
import {
  CONCAT_FILTER,
  GETATTR_FILTER,
  ITER_FILTER,
  PRINT_FILTER,
  TRUTHY_FILTER,
  TemplateRuntimeError,
  applyJinjaSemantics,
  jinjaConcat,
  jinjaGetattr,
  jinjaIter,
  jinjaPrint,
  jinjaTruthy,
} from './jinja-compat.js';
import {
  compileAst,
  parseTemplate,
  templateFromCode,
  type CompiledTemplate,
  type NunjucksTemplateError,
} from './nunjucks-internals.js';
import { pyStr } from './python-str.js';
import { rewriteTemplateSource } from './template-scanner.js';
import { YAML_FRAGMENT_FILTER, yamlFragment } from './yaml-scalar.js';

export type TemplateContext = Record<string, unknown>;

function createEnvironment(): nunjucks.Environment {
  // `dev: true` keeps nunjucks' own error objects (line, column, cause) instead of flattening them.
  const env = new nunjucks.Environment([], { autoescape: false, throwOnUndefined: false, dev: true });
  env.addFilter(PRINT_FILTER, jinjaPrint);
  env.addFilter(GETATTR_FILTER, jinjaGetattr);
  env.addFilter(TRUTHY_FILTER, jinjaTruthy);
  env.addFilter(ITER_FILTER, jinjaIter);
  env.addFilter(CONCAT_FILTER, jinjaConcat);
  env.addFilter(YAML_FRAGMENT_FILTER, yamlFragment);
  // Jinja2's `string` and `join` use Python str(); nunjucks' would print a list as `a,b`.
  env.addFilter('string', pyStr);
  env.addFilter('join', (value: unknown, delimiter: unknown = '', attribute?: unknown) => {
    if (!Array.isArray(value)) return pyStr(value);
    const items = attribute === undefined || attribute === null ? value : value.map((v) => jinjaGetattr(v, attribute));
    return items.map((item) => pyStr(item)).join(pyStr(delimiter));
  });
  // The docker resolver's filter; Occopus returns bytes (`b'…'`), we return the text (formats §5.3).
  env.addFilter('b64encode', (v: unknown) => Buffer.from(pyStr(v), 'utf8').toString('base64'));
  // Missing from @types/nunjucks, present in nunjucks 3.
  (env as unknown as { addTest(name: string, fn: (v: unknown) => boolean): void }).addTest('none', (v) => v === null);
  // Jinja2 literals that nunjucks would otherwise look up as variables.
  env.addGlobal('True', true);
  env.addGlobal('False', false);
  env.addGlobal('None', null);
  return env;
}

const env = createEnvironment();

const CACHE_LIMIT = 500;
const compiled = new Map<string, CompiledTemplate>();

/** Jinja2 reads `\r\n` and `\r` as `\n` and drops one trailing newline of the template. */
export function prepareSource(text: string): string {
  const normalised = text.replace(/\r\n?/g, '\n');
  const trimmed = normalised.endsWith('\n') ? normalised.slice(0, -1) : normalised;
  return rewriteTemplateSource(trimmed);
}

function compile(src: string): CompiledTemplate {
  const hit = compiled.get(src);
  if (hit) return hit;
  const code = compileAst(applyJinjaSemantics(parseTemplate(src)), 'template');
  if (compiled.size >= CACHE_LIMIT) compiled.clear();
  compiled.set(src, code);
  return code;
}

/**
 * Renders `text` as a Jinja2 template. `where` names the template for error messages, e.g.
 * "contextualisation.context_template of node 'x'".
 * @throws TemplateError on a syntax error, an undefined lookup, or a helper's failure.
 */
export function renderTemplate(text: string, context: TemplateContext, where: string): string {
  const src = prepareSource(text);
  // Without a `{` there is no tag: the text is its own output (and stays out of the cache).
  if (!src.includes('{')) return src;
  let code: CompiledTemplate;
  try {
    code = compile(src);
  } catch (e) {
    throw toTemplateError(e, where, 'syntax', src);
  }
  try {
    return templateFromCode(code, env, where).render(context);
  } catch (e) {
    throw toTemplateError(e, where, 'render', src);
  }
}

const NUNJUCKS_PREFIX = /^\([^\n]*\)(?: \[Line \d+(?:, Column \d+)?\])?\n {1,2}/;
const NUNJUCKS_PARSER_PREFIX = /^parse[A-Za-z]*: /;

function isNunjucksError(e: unknown): e is NunjucksTemplateError {
  return e instanceof Error && e.name === 'Template render error';
}

/** The 1-based template line an error comes from, when known. */
function errorLine(e: unknown, phase: 'syntax' | 'render', src: string): number | undefined {
  const err = isNunjucksError(e) ? e : undefined;
  const cause = err?.cause;
  if (cause instanceof TemplateRuntimeError && cause.line !== undefined) return cause.line;
  // Parser positions are 1-based; positions recorded while rendering are 0-based.
  if (typeof err?.lineno === 'number') return err.lineno + (phase === 'render' ? 1 : 0);
  // The parser gives no position when the template ends too early.
  if (phase === 'syntax' && err) return src.split('\n').length;
  return undefined;
}

function errorReason(e: unknown, phase: 'syntax' | 'render'): string {
  const cause = isNunjucksError(e) ? e.cause : undefined;
  let reason: string;
  if (isOccopusError(cause)) reason = cause.message;
  else if (isOccopusError(e)) reason = e.message;
  else if (cause instanceof Error) reason = cause.message;
  else if (isNunjucksError(e)) reason = e.message.replace(NUNJUCKS_PREFIX, '').replace(NUNJUCKS_PARSER_PREFIX, '');
  // Anything else is nunjucks failing on input it does not expect, e.g. a template cut short.
  else if (phase === 'syntax') reason = 'unexpected end of template or malformed expression';
  else reason = e instanceof Error ? e.message : String(e);
  return reason.replace(/^Error: /, '').replace(
    /Unable to call `(.*)`, which is undefined or falsey/,
    (_m, name: string) => (name === '--expression--' ? 'cannot call an undefined value' : `'${name}' is undefined and cannot be called`),
  );
}

function toTemplateError(e: unknown, where: string, phase: 'syntax' | 'render', src: string): TemplateError {
  const line = errorLine(e, phase, src);
  const at = line !== undefined && (src.includes('\n') || phase === 'syntax') ? `, line ${line}` : '';
  const kind = phase === 'syntax' ? 'Template syntax error' : 'Template error';
  return new TemplateError(`${kind} in ${where}${at}: ${errorReason(e, phase)}`, undefined, e);
}

/**
 * Renders every string inside `value` (through mappings and lists) as its own template; other
 * values are copied unchanged. `path` is the value's location (`resource`, `attributes`) and
 * `describe` turns a leaf's path into the `where` of error messages.
 */
export function renderLeaves(
  value: unknown,
  context: TemplateContext,
  path: string,
  describe: (leafPath: string) => string,
): unknown {
  if (typeof value === 'string') return renderTemplate(value, context, describe(path));
  if (Array.isArray(value)) return value.map((item, i) => renderLeaves(item, context, `${path}[${i}]`, describe));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const child = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`;
      out[k] = renderLeaves(v, context, child, describe);
    }
    return out;
  }
  return value;
}
