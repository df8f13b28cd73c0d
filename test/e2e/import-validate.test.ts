/**
 * The foundation as a user meets it: `occopus-import` and `occopus validate` run as real processes on
 * the real Occopus example files, and on broken files.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, sharedExamples, assertNoStackTrace } from '../helpers/cli.js';

const box = sandbox();
after(() => box.cleanup());
const storeUrl = `sqlite:${join(box.home, 'e2e.db')}`;

function exampleFiles(dir: string): { infra: string; nodes: string } {
  const root = join(sharedExamples, dir);
  const infra = readdirSync(root).find((f) => f.startsWith('infra-') && f.endsWith('.yaml'));
  assert.ok(infra, `no infra file in ${root}`);
  return { infra: join(root, infra), nodes: join(root, 'nodes', 'node_definitions.yaml') };
}

describe('the Occopus examples import and validate unchanged', () => {
  for (const dir of readdirSync(sharedExamples).sort()) {
    test(dir, () => {
      const { infra, nodes } = exampleFiles(dir);
      const imported = box.run(['--store', storeUrl, nodes], { tool: 'occopus-import' });
      assert.equal(imported.code, 0, imported.stderr);
      assert.match(imported.stdout, /^Successfully imported nodes: [a-z0-9_]+(, [a-z0-9_]+)*\n$/);

      const validated = box.run(['validate', '--store', storeUrl, infra]);
      assert.equal(validated.code, 0, validated.stderr);
      assert.match(validated.stdout, /is valid: \d node\(s\) in \d level\(s\)/);
    });
  }

  test('ping examples build the receiver first and pass its address to the sender', () => {
    for (const [dir, needle] of [
      ['ec2-ping', 'ping 192.0.2.1 -c 5'],
      ['nova-ping', 'ping 192.0.2.1 -c 5'],
      ['docker-ping', 'target_ip=192.0.2.1'],
    ] as const) {
      const { infra, nodes } = exampleFiles(dir);
      const r = box.run(['validate', '--store', 'memory:', '--nodes', nodes, '--render', infra]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /level 0: ping-receiver\n\s+level 1: ping-sender/);
      assert.ok(r.stdout.includes(needle), `${dir}: rendered output lacks '${needle}':\n${r.stdout}`);
    }
  });

  test('--json gives a machine-readable report', () => {
    const { infra, nodes } = exampleFiles('nova-ping');
    const r = box.run(['validate', '--json', '--store', 'memory:', '--nodes', nodes, infra]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { infra_name: string; levels: string[][] };
    assert.equal(report.infra_name, 'nova-ping-infra');
    assert.deepEqual(report.levels, [['ping-receiver'], ['ping-sender']]);
  });

  test('rendered cloud-config keeps the quoted file permissions', () => {
    const { infra, nodes } = exampleFiles('ec2-helloworld');
    const r = box.run(['validate', '--store', 'memory:', '--nodes', nodes, '--render', infra]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /#cloud-config/);
    assert.match(r.stdout, /permissions: '0644'/);
    assert.match(r.stdout, /Hello World! I have been created by Occopus/);
  });
});

describe('broken input gives one clear message with its position and a non-zero exit', () => {
  const dir = join(box.home, 'broken');
  mkdirSync(dir, { recursive: true });
  const nodesOk = join(dir, 'nodes-ok.yaml');
  writeFileSync(
    nodesOk,
    [
      "'node_def:a_node':",
      '  - resource: {type: dummy}',
      "'node_def:b_node':",
      '  - resource: {type: dummy}',
      '    contextualisation:',
      '      type: docker',
      '      env: ["peer={{getip(\'a\')}}"]',
      '      command: "sleep 1"',
      '',
    ].join('\n'),
  );

  function infraFile(name: string, text: string): string {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  }
  function validate(file: string, nodes = nodesOk) {
    const r = box.run(['validate', '--store', 'memory:', '--nodes', nodes, file]);
    assertNoStackTrace(r.stderr);
    return r;
  }

  const header = 'infra_name: broken\nuser_id: someone\n';

  const cases: Array<{ name: string; text: string; expect: RegExp }> = [
    { name: 'syntax.yaml', text: `${header}nodes:\n  - name: a\n    type: [a_node\n`, expect: /syntax\.yaml:\d+:\d+/ },
    {
      name: 'python-tag.yaml',
      text: `${header}nodes: !!python/object/apply:os.system ["echo pwned"]\n`,
      expect: /python-tag\.yaml:3:8: .*tag/i,
    },
    { name: 'unknown-key.yaml', text: `${header}nodes:\n  - name: a\n    type: a_node\n    colour: blue\n`, expect: /unknown-key\.yaml:6:5: .*colour/ },
    { name: 'bad-name.yaml', text: `${header}nodes:\n  - name: my_node\n    type: a_node\n`, expect: /bad-name\.yaml:4:\d+: .*my_node/ },
    {
      name: 'cycle.yaml',
      text: `${header}nodes:\n  - &A {name: a, type: a_node}\n  - &B {name: b, type: b_node}\ndependencies:\n  - [*A, *B]\n  - [*B, *A]\n`,
      expect: /cycle.*\b(a -> b -> a|b -> a -> b)\b/,
    },
    {
      name: 'unknown-dep.yaml',
      text: `${header}nodes:\n  - {name: a, type: a_node}\ndependencies:\n  - [a, ghost]\n`,
      expect: /unknown-dep\.yaml:\d+:\d+: .*ghost/,
    },
    {
      name: 'duplicate.yaml',
      text: `${header}nodes:\n  - {name: a, type: a_node}\n  - {name: a, type: b_node}\n`,
      expect: /duplicate\.yaml:5:\d+: .*duplicate.*'a'/i,
    },
    { name: 'scaling.yaml', text: `${header}nodes:\n  - {name: a, type: a_node, scaling: {min: -1}}\n`, expect: /scaling\.yaml:\d+:\d+: .*min/ },
    { name: 'no-type.yaml', text: `${header}nodes:\n  - {name: a, type: c_node}\n`, expect: /c_node/ },
    {
      name: 'getip-before.yaml',
      text: `${header}nodes:\n  - {name: b, type: b_node}\n`,
      expect: /No node exists with the given name: 'a'/,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = validate(infraFile(c.name, c.text));
      assert.equal(r.code, 1, `exit code for ${c.name}: ${r.stderr}`);
      assert.match(r.stderr, c.expect);
      assert.equal(r.stdout, '');
    });
  }

  test('a missing imported file is named', () => {
    const nodes = join(dir, 'nodes-missing-import.yaml');
    writeFileSync(
      nodes,
      "'node_def:a_node':\n  - resource: {type: ec2, endpoint: e, regionname: r, image_id: i, instance_type: t}\n" +
        '    contextualisation:\n      type: cloudinit\n      context_template: !yaml_import\n        url: file://nowhere.yaml\n',
    );
    const r = box.run(['--store', storeUrl, nodes], { tool: 'occopus-import' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /nodes-missing-import\.yaml:6:\d+: .*nowhere\.yaml/);
    assertNoStackTrace(r.stderr);
  });

  test('an unknown resource type lists the known ones', () => {
    const nodes = join(dir, 'nodes-unknown-type.yaml');
    writeFileSync(nodes, "'node_def:a_node':\n  - resource: {type: ecc2}\n");
    const r = box.run(['--store', storeUrl, nodes], { tool: 'occopus-import' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /nodes-unknown-type\.yaml:2:\d+: .*ecc2.*ec2/);
  });

  test('an import is all or nothing', () => {
    const store = `sqlite:${join(dir, 'all-or-nothing.db')}`;
    const nodes = join(dir, 'nodes-half-bad.yaml');
    writeFileSync(nodes, "'node_def:good_node':\n  - resource: {type: dummy}\n'node_def:bad_node':\n  - resource: {type: dummy, colour: red}\n");
    const r = box.run(['--store', store, nodes], { tool: 'occopus-import' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /nodes-half-bad\.yaml:4:\d+: .*colour/);
    const infra = infraFile('uses-good.yaml', `${header}nodes:\n  - {name: a, type: good_node}\n`);
    const v = box.run(['validate', '--store', store, infra]);
    assert.equal(v.code, 1, 'good_node must not have been stored');
    assert.match(v.stderr, /good_node/);
  });

  test('cmd() is refused unless the config allows it', () => {
    const nodes = join(dir, 'nodes-cmd.yaml');
    writeFileSync(
      nodes,
      "'node_def:a_node':\n  - resource: {type: dummy}\n    contextualisation:\n      type: docker\n      env: [\"x={{cmd('echo hi')}}\"]\n      command: sleep\n",
    );
    const infra = infraFile('cmd.yaml', `${header}nodes:\n  - {name: a, type: a_node}\n`);
    const refused = validate(infra, nodes);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /cmd\(\).*allow_cmd/);

    const cfg = join(dir, 'allow-cmd.yaml');
    writeFileSync(cfg, 'templates:\n  allow_cmd: true\n');
    const allowed = box.run(['validate', '--cfg', cfg, '--store', 'memory:', '--nodes', nodes, '--render', infra]);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /x=hi/);
    assert.match(allowed.stderr, /cmd\(\)/, 'using cmd() is announced');
  });

  test('wrong usage exits 2', () => {
    const r = box.run(['validate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /missing required argument/);
  });
});
