import { test } from 'node:test';
import assert from 'node:assert/strict';
import YAML from 'yaml';
import { chooseScalarStyle, emitCloudConfig, emitYaml } from '../../../src/resolution/cloud-config-emitter.js';
import { renderTemplate } from '../../../src/resolution/template-engine.js';

test('block style with sorted keys, sequences not indented under their key, and the header', () => {
  const text = emitCloudConfig({ write_files: [{ path: '/tmp/x', content: 'hi' }], runcmd: ['a', 'b'], b: { z: 1, a: { k: 'v' } } });
  assert.equal(
    text,
    [
      '#cloud-config',
      'b:',
      '  a:',
      '    k: v',
      '  z: 1',
      'runcmd:',
      '- a',
      '- b',
      'write_files:',
      '- content: hi',
      '  path: /tmp/x',
      '',
    ].join('\n'),
  );
});

test("the string '0644' stays quoted while the number 644 is plain", () => {
  assert.equal(emitYaml({ permissions: '0644' }), "permissions: '0644'\n");
  assert.equal(emitYaml({ permissions: 644 }), 'permissions: 644\n');
});

test('strings that would read back as another type under YAML 1.1 or 1.2 are quoted', () => {
  for (const s of ['yes', 'on', 'No', 'true', 'null', '~', '', '12', '0o17', '0x1F', '1.5', '1e5', '.inf', '2021-01-01', '1:30', '<<']) {
    assert.equal(chooseScalarStyle(s), 'single', s);
  }
  for (const s of ['hello', 'ping 10.0.0.1 -c 5', 'http://x:80/y', "echo 'hi'", 'a-b', 'v1.2.3']) {
    assert.equal(chooseScalarStyle(s), 'plain', s);
  }
});

test('not plain: double-quoted when it has a quote or a line break, else single-quoted', () => {
  assert.equal(chooseScalarStyle("'quoted' first"), 'double');
  assert.equal(chooseScalarStyle('line\nbreak'), 'double');
  assert.equal(chooseScalarStyle('{{variables.message}}\n'), 'double');
  assert.equal(chooseScalarStyle('{{variables.message}}'), 'single');
  assert.equal(chooseScalarStyle('a: b'), 'single');
  assert.equal(chooseScalarStyle('- item'), 'single');
  assert.equal(chooseScalarStyle('x #comment'), 'single');
  assert.equal(chooseScalarStyle(' leading'), 'single');
  assert.equal(chooseScalarStyle('tab\there'), 'double');
  assert.equal(emitYaml({ c: 'say "hi"\n' }), 'c: "say \\"hi\\"\\n"\n');
});

test('canonical booleans, null and numbers', () => {
  assert.equal(emitYaml({ a: true, b: false, c: null, d: 1.5, e: 1e-7, f: -3, g: [], h: {} }), 'a: true\nb: false\nc: null\nd: 1.5\ne: 1.0e-07\nf: -3\ng: []\nh: {}\n');
});

test('what the emitter writes reads back as the same data', () => {
  const data = {
    write_files: [{ content: 'line 1\n  line 2\n\nend\n', path: '/etc/x', permissions: '0755', owner: 'root:root' }],
    runcmd: [['sh', '-c', "echo 'a' > /tmp/b"], 'yes', 'key: value', '#not a comment', 'trailing ', '"dq"', 'ütf-8 ✓'],
    nested: { list: [{ a: 1, b: [true, null] }, []], empty: '' },
    'key: with colon': 1,
  };
  assert.deepEqual(YAML.parse(emitYaml(data)), data);
});

test('a multi-line key inserted into a double-quoted scalar folds into a valid key (autoscaling-hadoop)', () => {
  const key = [
    '-----BEGIN RSA PRIVATE KEY-----',
    '',
    'MIIEpAIBAAKCAQEAx',
    '',
    'AbCdEfGh+/==',
    '',
    '-----END RSA PRIVATE KEY-----',
    '',
  ].join('\n');
  const template = { write_files: [{ path: '/tmp/hduser/id_rsa', content: '{{variables.key}}\n', permissions: '600' }] };
  const text = emitCloudConfig(template);
  const rendered = renderTemplate(text, { variables: { key } }, 'context_template');
  const doc = YAML.parseDocument(rendered);
  assert.deepEqual(doc.errors, []);
  const content = (doc.toJS() as { write_files: { content: string }[] }).write_files[0]?.content ?? '';
  assert.deepEqual(content.split('\n').map((l) => l.trim()).filter((l) => l !== ''), [
    '-----BEGIN RSA PRIVATE KEY-----',
    'MIIEpAIBAAKCAQEAx',
    'AbCdEfGh+/==',
    '-----END RSA PRIVATE KEY-----',
  ]);
  assert.match(content, /^-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAx\nAbCdEfGh\+\/==\n-----END RSA PRIVATE KEY-----\s*\n$/);
});

test('quotes inside inserted values and inside template tags do not break the YAML', () => {
  const template = {
    runcmd: ["echo 'x' {{ getip(\"n\") }}", '{{ variables.q }}', 'line\n{{ variables.q }}'],
  };
  const rendered = renderTemplate(emitCloudConfig(template), { getip: () => '10.0.0.1', variables: { q: `it's "q" \\ ` } }, 'ctx');
  assert.deepEqual(YAML.parse(rendered), { runcmd: ["echo 'x' 10.0.0.1", `it's "q" \\ `, `line\nit's "q" \\ `] });
});

test('raw blocks inside a scalar keep their literal text', () => {
  const template = { content: '{% raw %}{{range service "hadoop"}}\n{{.Node}}{{end}}{% endraw %}\n' };
  const rendered = renderTemplate(emitCloudConfig(template), {}, 'ctx');
  assert.deepEqual(YAML.parse(rendered), { content: '{{range service "hadoop"}}\n{{.Node}}{{end}}\n' });
});
