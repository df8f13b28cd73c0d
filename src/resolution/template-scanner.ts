/**
 * Splits Jinja2 template source into literal text and tags, the way the Jinja2 lexer sees them:
 * string literals inside tags may contain `}}`, and the body of `{% raw %}…{% endraw %}` is literal
 * text. Two users need this without a full parse: the source rewrite that makes Jinja2 attribute
 * names like `.true` acceptable to nunjucks, and the cloud-config emitter, which must quote literal
 * text for YAML but leave the tags for the template engine.
 *
 * Joining the `text` of all segments gives back the source exactly.
 */

export type SegmentKind = 'text' | 'output' | 'statement' | 'comment';

export interface Segment {
  kind: SegmentKind;
  /** The segment's source, delimiters included. */
  text: string;
  /** For tags: the opening delimiter, with a whitespace-control `-` or `+` if present. */
  open?: string;
  /** For tags: the source between the delimiters. */
  body?: string;
  /** For tags: the closing delimiter, with a whitespace-control `-` if present. */
  close?: string;
}

const RAW_OPEN = /^\s*(raw|verbatim)\s*$/;

export function scanTemplate(src: string): Segment[] {
  const out: Segment[] = [];
  let pos = 0;
  let textStart = 0;
  const flushText = (end: number): void => {
    if (end > textStart) out.push({ kind: 'text', text: src.slice(textStart, end) });
  };
  while (pos < src.length) {
    const start = src.indexOf('{', pos);
    if (start < 0 || start + 1 >= src.length) break;
    const second = src[start + 1];
    if (second !== '{' && second !== '%' && second !== '#') {
      pos = start + 1;
      continue;
    }
    flushText(start);
    const tag = second === '#' ? readComment(src, start) : readTag(src, start, second === '{' ? '}}' : '%}');
    out.push(tag);
    pos = start + tag.text.length;
    textStart = pos;
    const rawMatch = tag.kind === 'statement' ? RAW_OPEN.exec(tag.body ?? '') : null;
    if (rawMatch) {
      const endTag = new RegExp(`\\{%[-+]?\\s*end${rawMatch[1]}\\s*[-+]?%\\}`, 'g');
      endTag.lastIndex = pos;
      const found = endTag.exec(src);
      const bodyEnd = found ? found.index : src.length;
      flushText(bodyEnd);
      if (found) out.push(tagFromText(found[0], 'statement', '%}'));
      pos = found ? found.index + found[0].length : src.length;
      textStart = pos;
    }
  }
  flushText(src.length);
  return out;
}

function readComment(src: string, start: number): Segment {
  const end = src.indexOf('#}', start + 2);
  const text = end < 0 ? src.slice(start) : src.slice(start, end + 2);
  return { kind: 'comment', text };
}

/** Reads `{{ … }}` or `{% … %}` from `start`, skipping string literals. Unterminated: to the end. */
function readTag(src: string, start: number, closing: '}}' | '%}'): Segment {
  let i = start + 2;
  let quote: string | null = null;
  while (i < src.length) {
    const ch = src[i];
    if (quote) {
      if (ch === '\\') i += 1;
      else if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (src.startsWith(closing, i)) {
      return tagFromText(src.slice(start, i + 2), closing === '}}' ? 'output' : 'statement', closing);
    }
    i += 1;
  }
  return tagFromText(src.slice(start), closing === '}}' ? 'output' : 'statement', closing);
}

function tagFromText(text: string, kind: 'output' | 'statement', closing: string): Segment {
  const terminated = text.length >= 4 && text.endsWith(closing);
  let open = text.slice(0, 2);
  let bodyStart = 2;
  if (text[2] === '-' || text[2] === '+') {
    open += text[2];
    bodyStart = 3;
  }
  let close = terminated ? closing : '';
  let bodyEnd = terminated ? text.length - 2 : text.length;
  if (terminated && bodyEnd > bodyStart && text[bodyEnd - 1] === '-') {
    close = '-' + close;
    bodyEnd -= 1;
  }
  return { kind, text, open, body: text.slice(bodyStart, bodyEnd), close };
}

/** Tokens inside a tag body, as far as the keyword rewrite needs them. */
interface ExprToken {
  type: 'name' | 'number' | 'string' | 'punct' | 'space';
  text: string;
}

function tokenizeExpression(body: string): ExprToken[] {
  const tokens: ExprToken[] = [];
  let i = 0;
  while (i < body.length) {
    const ch = body[i] ?? '';
    if (ch === '"' || ch === "'") {
      let j = i + 1;
      while (j < body.length && body[j] !== ch) j += body[j] === '\\' ? 2 : 1;
      tokens.push({ type: 'string', text: body.slice(i, j + 1) });
      i = j + 1;
    } else if (/\s/.test(ch)) {
      const m = /^\s+/.exec(body.slice(i));
      const text = m ? m[0] : ch;
      tokens.push({ type: 'space', text });
      i += text.length;
    } else if (/[A-Za-z_]/.test(ch)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(body.slice(i));
      const text = m ? m[0] : ch;
      tokens.push({ type: 'name', text });
      i += text.length;
    } else if (/[0-9]/.test(ch)) {
      const prev = lastSignificant(tokens);
      // After an attribute dot only an integer can follow (`x.0.1` is two lookups).
      const re = prev?.text === '.' ? /^[0-9]+/ : /^[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/;
      const m = re.exec(body.slice(i));
      const text = m ? m[0] : ch;
      tokens.push({ type: 'number', text });
      i += text.length;
    } else {
      tokens.push({ type: 'punct', text: ch });
      i += 1;
    }
  }
  return tokens;
}

function lastSignificant(tokens: ExprToken[], before = tokens.length): ExprToken | undefined {
  for (let k = before - 1; k >= 0; k -= 1) {
    const t = tokens[k];
    if (t && t.type !== 'space') return t;
  }
  return undefined;
}

/**
 * Jinja2 attribute names that nunjucks' grammar does not accept after a dot (its literals
 * `true/false/none/null`, and words that are operators or keywords in either language). They are
 * rewritten to subscripts, which mean the same in both engines: `a.in` → `a["in"]`, `a.0` → `a[0]`.
 */
const REWRITTEN_ATTRIBUTES = new Set([
  'true', 'false', 'none', 'null', 'True', 'False', 'None',
  'in', 'not', 'and', 'or', 'is', 'if', 'else', 'elif', 'for', 'recursive',
]);

export function rewriteKeywordAttributes(body: string): string {
  const tokens = tokenizeExpression(body);
  let out = '';
  for (let k = 0; k < tokens.length; k += 1) {
    const tok = tokens[k];
    if (!tok) continue;
    if (tok.type === 'punct' && tok.text === '.') {
      const prev = lastSignificant(tokens, k);
      let next = k + 1;
      while (tokens[next]?.type === 'space') next += 1;
      const target = tokens[next];
      const afterValue =
        prev !== undefined && (prev.type === 'name' || prev.text === ')' || prev.text === ']');
      if (afterValue && target) {
        if (target.type === 'name' && REWRITTEN_ATTRIBUTES.has(target.text)) {
          out += `["${target.text}"]`;
          k = next;
          continue;
        }
        if (target.type === 'number' && /^[0-9]+$/.test(target.text)) {
          out += `[${target.text}]`;
          k = next;
          continue;
        }
      }
    }
    if (tok.type === 'number' && /[eE]/.test(tok.text)) {
      // nunjucks has no exponent literals; Jinja2 does.
      const plain = String(Number(tok.text));
      out += /e/i.test(plain) ? tok.text : plain;
      continue;
    }
    out += tok.text;
  }
  return out;
}

/** A comment holding `n` line breaks: keeps line numbers when whitespace is removed. */
function lineBreaksComment(removed: string): string {
  const n = (removed.match(/\n/g) ?? []).length;
  return n > 0 ? `{#${'\n'.repeat(n)}#}` : '';
}

/**
 * Prepares Jinja2 source for nunjucks: rewrites attribute names in every tag (see
 * {@link rewriteKeywordAttributes}) and normalises `{% raw %}` blocks, whose whitespace control
 * (`{%- raw -%}`, `{%- endraw -%}`) nunjucks does not understand. Text is left alone.
 */
export function rewriteTemplateSource(src: string): string {
  const segs = scanTemplate(src);
  const out: string[] = [];
  let stripNextLeading = false;
  for (let i = 0; i < segs.length; i += 1) {
    const seg = segs[i];
    if (!seg) continue;
    if (seg.kind === 'text') {
      let text = seg.text;
      if (stripNextLeading) {
        const kept = text.replace(/^\s+/, '');
        text = lineBreaksComment(text.slice(0, text.length - kept.length)) + kept;
      }
      stripNextLeading = false;
      out.push(text);
      continue;
    }
    stripNextLeading = false;
    const raw = seg.kind === 'statement' ? RAW_OPEN.exec(seg.body ?? '') : null;
    if (raw) {
      const keyword = raw[1] ?? 'raw';
      const bodySeg = segs[i + 1]?.kind === 'text' ? segs[i + 1] : undefined;
      const endIndex = bodySeg ? i + 2 : i + 1;
      const endSeg = segs[endIndex];
      let body = bodySeg?.text ?? '';
      let removed = '';
      if (seg.open?.endsWith('-') && out.length > 0) {
        const last = out.pop() ?? '';
        const kept = last.replace(/\s+$/, '');
        removed += last.slice(kept.length);
        out.push(kept);
      }
      if (seg.close?.startsWith('-')) {
        const kept = body.replace(/^\s+/, '');
        removed += body.slice(0, body.length - kept.length);
        body = kept;
      }
      if (endSeg?.open?.endsWith('-')) {
        const kept = body.replace(/\s+$/, '');
        removed += body.slice(kept.length);
        body = kept;
      }
      out.push(`${lineBreaksComment(removed)}{% ${keyword} %}${body}${endSeg ? `{% end${keyword} %}` : ''}`);
      stripNextLeading = Boolean(endSeg?.close?.startsWith('-'));
      i = endSeg ? endIndex : i + 1;
      continue;
    }
    out.push(
      seg.kind === 'output' || seg.kind === 'statement'
        ? `${seg.open ?? ''}${rewriteKeywordAttributes(seg.body ?? '')}${seg.close ?? ''}`
        : seg.text,
    );
  }
  return out.join('');
}
