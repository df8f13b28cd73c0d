/**
 * Jinja2 semantics on top of nunjucks, by rewriting the parsed template (formats §0.2):
 * - every `{{ expr }}` prints Python `str()` of its value (`['a', 'b']`, `True`, `None`);
 * - attribute lookup on an undefined value is an error, as in Jinja2 (`variables.missing.x`), while
 *   one missing level still gives an undefined value that prints as "";
 * - `~` joins Python `str()` of its operands (an undefined one is "");
 * - `if`, inline `if` and `not` use Python truthiness (empty lists and dicts are false);
 * - `{% for k in dict %}` iterates the keys;
 * - a few Python methods real templates call on dicts and strings (`items()`, `get()`, `split()`...).
 *
 * The hooks are filters (not context names) so that user variables cannot shadow them.
 */
import { TemplateError } from '../errors.js';
import { isNjNode, njNodes, type NjNode } from './nunjucks-internals.js';
import { isPlainObject, pyStr, pyTruthy } from './python-str.js';

export const PRINT_FILTER = '__jinja_print';
export const GETATTR_FILTER = '__jinja_getattr';
export const TRUTHY_FILTER = '__jinja_truthy';
export const ITER_FILTER = '__jinja_iter';
export const CONCAT_FILTER = '__jinja_concat';

function filterCall(name: string, args: NjNode[], at: NjNode): NjNode {
  return new njNodes.Filter(
    at.lineno,
    at.colno,
    new njNodes.Symbol(at.lineno, at.colno, name),
    new njNodes.NodeList(at.lineno, at.colno, args),
  );
}

function child(node: NjNode, field: string): NjNode | null {
  const value = node[field];
  return isNjNode(value) ? value : null;
}

/** Rewrites the AST in place (children first) and returns the node that replaces `node`. */
export function applyJinjaSemantics(node: NjNode): NjNode {
  for (const field of node.fields) {
    const value = node[field];
    if (isNjNode(value)) node[field] = applyJinjaSemantics(value);
    else if (Array.isArray(value)) node[field] = value.map((v: unknown) => (isNjNode(v) ? applyJinjaSemantics(v) : v));
  }
  switch (node.typename) {
    case 'Output': {
      const children = Array.isArray(node['children']) ? (node['children'] as unknown[]) : [];
      node['children'] = children.map((c) =>
        isNjNode(c) && c.typename !== 'TemplateData' ? filterCall(PRINT_FILTER, [c], c) : c,
      );
      return node;
    }
    case 'LookupVal': {
      const target = child(node, 'target');
      const val = child(node, 'val');
      if (!target || !val) return node;
      // Only function calls record the current line at run time; pass it for the error message.
      const line = new njNodes.Literal(node.lineno, node.colno, node.lineno + 1);
      return filterCall(GETATTR_FILTER, [target, val, line], node);
    }
    case 'If':
    case 'InlineIf': {
      const cond = child(node, 'cond');
      if (cond) node['cond'] = filterCall(TRUTHY_FILTER, [cond], cond);
      return node;
    }
    case 'Concat': {
      // nunjucks joins with JavaScript's String(): an undefined operand would print "undefined".
      const left = child(node, 'left');
      const right = child(node, 'right');
      return left && right ? filterCall(CONCAT_FILTER, [left, right], node) : node;
    }
    case 'Not': {
      const target = child(node, 'target');
      if (target) node['target'] = filterCall(TRUTHY_FILTER, [target], target);
      return node;
    }
    case 'For': {
      const name = child(node, 'name');
      const arr = child(node, 'arr');
      // With two loop names nunjucks already iterates a dict's (key, value) pairs.
      if (name?.typename === 'Symbol' && arr) node['arr'] = filterCall(ITER_FILTER, [arr], arr);
      return node;
    }
    default:
      return node;
  }
}

/** `{{ expr }}` output: Python `str()`. */
export function jinjaPrint(value: unknown): string {
  return pyStr(value);
}

export function jinjaConcat(left: unknown, right: unknown): string {
  return pyStr(left) + pyStr(right);
}

export function jinjaTruthy(value: unknown): boolean {
  return pyTruthy(value);
}

export function jinjaIter(value: unknown): unknown {
  return isPlainObject(value) ? Object.keys(value) : value;
}

/** An error raised while rendering, with the 1-based template line it comes from. */
export class TemplateRuntimeError extends TemplateError {
  readonly line: number | undefined;
  constructor(message: string, line: number | undefined) {
    super(message);
    this.line = line;
  }
}

function describeKey(key: unknown): string {
  return typeof key === 'string' ? `'${key}'` : String(key);
}

/**
 * `obj.key` and `obj[key]`: own keys of the data, list indexes (negative ones too), and a few Python
 * methods. On an undefined value Jinja2 raises UndefinedError; on None (null) it gives undefined.
 * Functions are bound to their object so that method calls work.
 */
export function jinjaGetattr(obj: unknown, key: unknown, line?: unknown): unknown {
  if (obj === undefined) {
    throw new TemplateRuntimeError(
      `cannot read attribute ${describeKey(key)} of an undefined value (an earlier name or attribute does not exist)`,
      typeof line === 'number' ? line : undefined,
    );
  }
  if (obj === null) return undefined;
  if (typeof obj === 'string') return stringMember(obj, key);
  if (Array.isArray(obj)) return typeof key === 'number' ? obj[key < 0 ? obj.length + key : key] : undefined;
  // Functions and prototypes expose no attributes: that is the way out of nunjucks' non-sandbox
  // (`range.constructor("…")()`), which would bypass the cmd() switch.
  if (typeof obj !== 'object' || obj === Object.prototype || obj === Function.prototype) return undefined;
  const record = obj as Record<string, unknown>;
  const k = String(key);
  if (!Object.prototype.hasOwnProperty.call(record, k)) return isPlainObject(obj) ? dictMethod(record, k) : undefined;
  const v = record[k];
  if (typeof v !== 'function') return v;
  return UNSAFE_MEMBERS.has(k) ? undefined : (v as (...a: unknown[]) => unknown).bind(obj);
}

const UNSAFE_MEMBERS = new Set([
  'constructor',
  'prototype',
  '__proto__',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]);

function dictMethod(d: Record<string, unknown>, name: string): unknown {
  switch (name) {
    case 'items':
      return () => Object.entries(d);
    case 'keys':
      return () => Object.keys(d);
    case 'values':
      return () => Object.values(d);
    case 'get':
      return (k: unknown, dflt: unknown = null) =>
        Object.prototype.hasOwnProperty.call(d, String(k)) ? d[String(k)] : dflt;
    default:
      return undefined;
  }
}

function stringMember(s: string, key: unknown): unknown {
  if (typeof key === 'number') {
    const chars = Array.from(s);
    return chars[key < 0 ? chars.length + key : key];
  }
  const strip = (chars: unknown, mode: 'both' | 'start' | 'end'): string => {
    const set = typeof chars === 'string' ? chars : null;
    const isStripped = (c: string): boolean => (set === null ? /\s/.test(c) : set.includes(c));
    const arr = Array.from(s);
    let a = 0;
    let b = arr.length;
    if (mode !== 'end') while (a < b && isStripped(arr[a] ?? '')) a += 1;
    if (mode !== 'start') while (b > a && isStripped(arr[b - 1] ?? '')) b -= 1;
    return arr.slice(a, b).join('');
  };
  switch (key) {
    case 'upper':
      return () => s.toUpperCase();
    case 'lower':
      return () => s.toLowerCase();
    case 'strip':
      return (chars?: unknown) => strip(chars, 'both');
    case 'lstrip':
      return (chars?: unknown) => strip(chars, 'start');
    case 'rstrip':
      return (chars?: unknown) => strip(chars, 'end');
    case 'split':
      return (sep?: unknown) => (typeof sep === 'string' ? s.split(sep) : s.split(/\s+/).filter((p) => p !== ''));
    case 'replace':
      return (a: unknown, b: unknown) => s.split(String(a)).join(String(b));
    case 'startswith':
      return (p: unknown) => s.startsWith(String(p));
    case 'endswith':
      return (p: unknown) => s.endsWith(String(p));
    case 'join':
      return (items: unknown) => (Array.isArray(items) ? items.map((i) => pyStr(i)).join(s) : '');
    default:
      return undefined;
  }
}
