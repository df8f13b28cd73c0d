import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TemplateError } from '../../../src/errors.js';
import { CMD_FAILED_TEXT, createHelpers, cut } from '../../../src/resolution/helpers.js';
import { renderTemplate } from '../../../src/resolution/template-engine.js';
import type { AddressLookup, InstanceAddresses } from '../../../src/resolution/resolve.js';

const instances: Record<string, InstanceAddresses[]> = {
  master: [{ public: ['203.0.113.5', '198.51.100.1'], private: ['10.0.0.5'] }],
  privonly: [{ public: [], private: ['10.0.0.9'] }],
  workers: [
    { public: ['203.0.113.10'], private: ['10.0.0.10'] },
    { public: [], private: ['10.0.0.11'] },
  ],
  pending: [{ public: [], private: [] }],
};
const lookup: AddressLookup = {
  instancesOf: (name) => (name ? instances[name] ?? [] : Object.values(instances).flat()),
};

function setup(allowCmd = false) {
  const warnings: string[] = [];
  const helpers = createHelpers({ lookup, allowCmd, warn: (m) => warnings.push(m) });
  const render = (text: string, extra: Record<string, unknown> = {}) => renderTemplate(text, { ...helpers, ...extra }, 'test');
  return { helpers, warnings, render };
}

test('getip gives the first public address of the first instance, else its first private one', () => {
  const { render } = setup();
  assert.equal(render("{{ getip('master') }}"), '203.0.113.5');
  assert.equal(render('{{ getip("privonly") }}'), '10.0.0.9');
});

test('getip of an unknown node is a TemplateError naming the node', () => {
  const { render } = setup();
  assert.throws(
    () => render("{{ getip('nosuch') }}"),
    (e: unknown) => e instanceof TemplateError && e.message.includes("No node exists with the given name: 'nosuch'"),
  );
});

test('getip with several instances warns and uses the first one', () => {
  const { render, warnings } = setup();
  assert.equal(render("{{ getip('workers') }}"), '203.0.113.10');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /2 instances/);
});

test('getip of an undefined variable uses the first instance of any node, with a warning (cqueue-cluster)', () => {
  const { render, warnings } = setup();
  assert.equal(render('{{ getip(master) }}'), '203.0.113.5');
  assert.ok(warnings.some((w) => /empty or undefined node name/.test(w)));
});

test('an instance without any address renders as None, with a warning', () => {
  const { render, warnings } = setup();
  assert.equal(render("ping {{ getip('pending') }}"), 'ping None');
  assert.ok(warnings.some((w) => /no address/.test(w)));
});

test('getprivip prefers the private address, and falls back to the public one', () => {
  const { helpers } = setup();
  assert.equal(helpers.getprivip('master'), '10.0.0.5');
  const onlyPublic = createHelpers({
    lookup: { instancesOf: () => [{ public: ['203.0.113.7'], private: [] }] },
    allowCmd: false,
    warn: () => undefined,
  });
  assert.equal(onlyPublic.getprivip('x'), '203.0.113.7');
  assert.throws(() => helpers.getprivip('nosuch'), TemplateError);
});

test('getipall gives one address per instance and renders as a Python list', () => {
  const { render, warnings } = setup();
  assert.equal(render("{{ getipall('workers') }}"), "['203.0.113.10', '10.0.0.11']");
  assert.equal(warnings.length, 0);
  assert.throws(() => render("{{ getipall('nosuch') }}"), TemplateError);
});

test('cut is Python slicing', () => {
  const id = '0b1c2d3e-aaaa';
  assert.equal(cut(id, 0, 4), '0b1c');
  assert.equal(cut(id, -4), 'aaaa');
  assert.equal(cut(id, -4, -2), 'aa');
  assert.equal(cut(id, 5), 'd3e-aaaa');
  assert.equal(cut(id, 0, 100), id);
  assert.equal(cut(id, 50, 60), '');
  assert.equal(cut(id, 4, 2), '');
  assert.equal(cut(id, -100, 2), '0b');
  assert.equal(cut(id, null, 3), '0b1');
  assert.deepEqual(cut([1, 2, 3], 1), [2, 3]);
  assert.throws(() => cut(undefined, 0, 1), TemplateError);
  assert.throws(() => cut('abc', 'x', 1), TemplateError);
  const { render } = setup();
  assert.equal(render('jupyterlab-{{ cut(infra_id, 0, 4) }}', { infra_id: id }), 'jupyterlab-0b1c');
});

test('cmd() is refused unless the config allows it, and says how to allow it', () => {
  const { render } = setup(false);
  assert.throws(
    () => render("{{ cmd('echo hi') }}"),
    (e: unknown) => e instanceof TemplateError && /cmd\(\) is disabled/.test(e.message) && e.message.includes('allow_cmd: true'),
  );
});

test('cmd() runs the command without a shell and returns its decoded output, with a warning', () => {
  const { render, warnings } = setup(true);
  assert.equal(render("[{{ cmd('echo hello   $HOME') }}]"), '[hello $HOME\n]');
  assert.ok(warnings.some((w) => /cmd\(\) runs a local command/.test(w)));
});

test('a failing cmd() returns the Occopus failure text and warns', () => {
  const { render, warnings } = setup(true);
  assert.equal(render("{{ cmd('/nonexistent/command-xyz') }}"), CMD_FAILED_TEXT);
  assert.equal(render("{{ cmd('false') }}"), CMD_FAILED_TEXT);
  assert.ok(warnings.some((w) => /cmd\(\) failed/.test(w)));
});
