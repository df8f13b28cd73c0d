import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TemplateError } from '../../../src/errors.js';
import { renderLeaves, renderTemplate } from '../../../src/resolution/template-engine.js';

const render = (text: string, context: Record<string, unknown> = {}): string => renderTemplate(text, context, "test template 'x'");

test('values print with Python str(): lists, dicts, True/False/None, numbers', () => {
  const ctx = { l: ['10.0.0.1', '10.0.0.2'], d: { dbuser: 'u' }, t: true, f: false, n: null, i: 3, x: 2.5, nested: [{ a: [1, "it's"] }] };
  assert.equal(render("{{ l }}", ctx), "['10.0.0.1', '10.0.0.2']");
  assert.equal(render('{{ d }}', ctx), "{'dbuser': 'u'}");
  assert.equal(render('{{ t }} {{ f }} {{ n }}', ctx), 'True False None');
  assert.equal(render('{{ i }} {{ x }}', ctx), '3 2.5');
  assert.equal(render('{{ nested }}', ctx), `[{'a': [1, "it's"]}]`);
  assert.equal(render('{{ True }} {{ None }} {{ none }} {{ true }}'), 'True None None True');
  assert.equal(render('{{ 0.5 }} {{ 1e-5 }}'), '0.5 1e-05');
});

test('the string and join filters use Python str() too', () => {
  assert.equal(render('{{ l | string }}', { l: ['a'] }), "['a']");
  assert.equal(render('{{ l | join(", ") }}', { l: [{ k: 1 }, true, null] }), "{'k': 1}, True, None");
  assert.equal(render('{{ l | join(" ", "ip") }}', { l: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }] }), '10.0.0.1 10.0.0.2');
});

test('one trailing newline of the template is dropped, not more', () => {
  assert.equal(render('a\n'), 'a');
  assert.equal(render('a\n\n'), 'a\n');
  assert.equal(render('a\r\nb\r\n'), 'a\nb');
  assert.equal(render('{{ v }}\n', { v: 'x\n' }), 'x\n');
});

test('undefined names and one missing attribute level render as empty text', () => {
  assert.equal(render('[{{ missing }}]'), '[]');
  assert.equal(render('[{{ variables.missing }}]', { variables: {} }), '[]');
});

test('an attribute of an undefined value is an error, as in Jinja2', () => {
  assert.throws(
    () => render('line one\n{{ variables.missing.x }}', { variables: {} }),
    (e: unknown) => e instanceof TemplateError && /test template 'x', line 2/.test(e.message) && /'x'/.test(e.message),
  );
});

test('~ joins Python str() of its operands; an undefined one adds nothing', () => {
  assert.equal(render("{{ v.missing ~ '-x' }}|{{ n ~ 1 }}|{{ l ~ '' }}", { v: {}, n: null, l: ['a'] }), "-x|None1|['a']");
});

test('an attribute of None is undefined, not an error', () => {
  assert.equal(render('[{{ variables.n.x }}]', { variables: { n: null } }), '[]');
});

test('attribute names that are keywords work after a dot', () => {
  const variables = { flowbster: { app: { in: 'IN', not: 'NOT', true: 'T', none: 'NONE', if: 'IF', is: 'IS', or: 'OR', and: 'AND' } } };
  assert.equal(
    render('{{ variables.flowbster.app.in }} {{ variables.flowbster.app.not }} {{ variables.flowbster.app.true }} {{ variables.flowbster.app.none }}', { variables }),
    'IN NOT T NONE',
  );
  assert.equal(render('{{variables.flowbster.app.if}}{{variables.flowbster.app.is}}{{variables.flowbster.app.or}}{{variables.flowbster.app.and}}', { variables }), 'IFISORAND');
  assert.equal(render("{{ 'a.in' }}"), 'a.in');
  assert.equal(render('{{ l.0 }}{{ l.1 }}', { l: ['x', 'y'] }), 'xy');
});

test('raw blocks are output verbatim and {{"{{"}} escapes work', () => {
  assert.equal(render('{% raw %}{{range service "hadoop"}}{{.Node}}{{end}}{% endraw %}'), '{{range service "hadoop"}}{{.Node}}{{end}}');
  assert.equal(render("{{'{{'}}x{{'}}'}}"), '{{x}}');
  assert.equal(render('A {%- raw -%}  {{ a.true }}  {%- endraw -%}  B'), 'A{{ a.true }}B');
  // Whitespace removed around raw blocks does not shift the line numbers of later errors.
  assert.throws(
    () => render('{%- raw -%}\n\n x \n{%- endraw %}\n{{ missing.y }}'),
    (e: unknown) => e instanceof TemplateError && /line 5:/.test(e.message),
  );
});

test('string literals with either quote', () => {
  assert.equal(render(`{{ "dq" }} {{ 'sq' }} {{ "it's" }} {{ 'say "hi"' }}`), `dq sq it's say "hi"`);
});

test('for loops over lists and dict keys; if with is defined; Python truthiness', () => {
  assert.equal(render('{% for x in l %}{{ x }},{% endfor %}', { l: [1, 2] }), '1,2,');
  assert.equal(render('{% for k in d %}{{ k }};{% endfor %}', { d: { a: 1, b: 2 } }), 'a;b;');
  assert.equal(render('{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}', { d: { a: 1, b: 'x' } }), 'a=1;b=x;');
  assert.equal(render('{% if v.x is defined %}D{% else %}U{% endif %}', { v: {} }), 'U');
  assert.equal(render('{% if v.x is defined %}D{% else %}U{% endif %}', { v: { x: null } }), 'D');
  assert.equal(render('{% if l %}Y{% else %}N{% endif %}', { l: [] }), 'N');
  assert.equal(render('{% if not d %}empty{% endif %}', { d: {} }), 'empty');
  assert.equal(render('{{ "y" if l else "n" }}', { l: [] }), 'n');
});

test('Python string and dict methods used by templates', () => {
  assert.equal(render('{{ s.upper() }} {{ s.split(",") }} {{ d.get("k", "dflt") }} {{ d.get("z", "dflt") }}', { s: 'a,b', d: { k: 'v' } }), "A,B ['a', 'b'] v dflt");
  assert.equal(render('{{ l[-1] }}', { l: [1, 2, 3] }), '3');
});

test('syntax errors are TemplateErrors naming the template and the line', () => {
  assert.throws(
    () => render('ok\n{% if x %}\nno end'),
    (e: unknown) => e instanceof TemplateError && e.code === 'E_TEMPLATE' && /syntax error in test template 'x', line \d+/.test(e.message),
  );
  assert.throws(() => render('{{ x( }}'), (e: unknown) => e instanceof TemplateError && /test template 'x'/.test(e.message));
});

test('calling something undefined is a TemplateError, not a crash', () => {
  assert.throws(() => render('{{ nothing() }}'), (e: unknown) => e instanceof TemplateError && /'nothing' is undefined/.test(e.message));
});

test('renderLeaves renders each string of a structure and names the failing leaf', () => {
  const out = renderLeaves({ a: '{{ v }}', b: ['x{{ v }}', 3, true], c: { d: null } }, { v: 'V' }, 'resource', (p) => `${p} of node 'n'`);
  assert.deepEqual(out, { a: 'V', b: ['xV', 3, true], c: { d: null } });
  assert.throws(
    () => renderLeaves({ list: ['ok', '{% if %}'] }, {}, 'resource', (p) => `${p} of node 'n'`),
    (e: unknown) => e instanceof TemplateError && e.message.includes("resource.list[1] of node 'n'"),
  );
});

test('templates cannot reach JavaScript internals (which would bypass the cmd() switch)', () => {
  assert.throws(() => render('{{ range.constructor("return process")() }}'), TemplateError);
  assert.throws(() => render('{{ d.constructor.constructor("return process")() }}', { d: {} }), TemplateError);
  assert.equal(render('[{{ range.constructor }}][{{ __proto__.__defineGetter__ }}]'), '[][]');
  // Data keys with those names still work.
  assert.equal(render('{{ d.constructor }}', { d: { constructor: 'data' } }), 'data');
});
