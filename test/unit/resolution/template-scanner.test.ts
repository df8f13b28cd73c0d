import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rewriteKeywordAttributes, scanTemplate } from '../../../src/resolution/template-scanner.js';

test('segments join back into the source; strings inside tags may hold delimiters', () => {
  const src = `a {{ "}}" ~ x }} b {% if y %}{# c #}{% raw %}{{ not a tag }}{% endraw %}{{ z`;
  const segs = scanTemplate(src);
  assert.equal(segs.map((s) => s.text).join(''), src);
  assert.deepEqual(
    segs.map((s) => s.kind),
    ['text', 'output', 'text', 'statement', 'comment', 'statement', 'text', 'statement', 'output'],
  );
  assert.equal(segs[6]?.text, '{{ not a tag }}');
  assert.equal(segs[1]?.body, ' "}}" ~ x ');
});

test('keyword attribute names become subscripts, strings and numbers are left alone', () => {
  assert.equal(rewriteKeywordAttributes(' variables.app.in '), ' variables.app["in"] ');
  assert.equal(rewriteKeywordAttributes('a.true or b.none'), 'a["true"] or b["none"]');
  assert.equal(rewriteKeywordAttributes('f(x).if'), 'f(x)["if"]');
  assert.equal(rewriteKeywordAttributes("'a.in' ~ 1.5"), "'a.in' ~ 1.5");
  assert.equal(rewriteKeywordAttributes('l.0.name'), 'l[0].name');
  assert.equal(rewriteKeywordAttributes('x.input'), 'x.input');
});
