import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { checkInfraDescription } from '../../../src/descriptors/schema/infra-description.js';
import { assertSomeMessage, fakeDoc, fakeLocation, messagesOf, schemaErrorOf, yamlDoc } from './helpers.js';

const HEAD = 'infra_name: test-infra\nuser_id: someone@example.org\n';

function check(text: string) {
  return checkInfraDescription(yamlDoc(text));
}
function messages(text: string): string[] {
  return messagesOf(() => check(text));
}
function base(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { infra_name: 'test-infra', user_id: 'u', nodes: [{ name: 'a', type: 'a_node' }], ...extra };
}

describe('infrastructure description: accepted files', () => {
  it('accepts a minimal description and returns the loaded object itself', () => {
    const doc = yamlDoc(`${HEAD}nodes:\n  - {name: a, type: t}\n`);
    const { value, warnings } = checkInfraDescription(doc);
    assert.equal(value, doc.value);
    assert.deepEqual(warnings, []);
  });

  it('accepts an empty node list', () => {
    assert.deepEqual(check(`${HEAD}nodes: []\n`).value.nodes, []);
  });

  it('accepts every documented key, plus create_timeout and attributes on node entries', () => {
    const { value } = check(`${HEAD}variables: {x: 1, nested: {y: [1, 2]}}
nodes:
  - &A
    name: a
    type: t
    scaling: {min: 0, max: 3}
    filter: {type: ec2}
    variables: {z: 2}
    create_timeout: 90.5
    attributes: {k: v}
  - &B {name: b, type: t}
dependencies:
  - [*B, *A]
  - connection: [*B, *A]
    mappings:
      - [fqdn, wordpress.db.host]
      - {attributes: [a, b], synch: true, note: extra keys are kept}
    anything: else
`);
    assert.equal(value.nodes[0]?.create_timeout, 90.5);
  });

  it('accepts any scalar user_id', () => {
    assert.equal(check('infra_name: x\nuser_id: 42\nnodes: []\n').value.user_id, 42);
    assert.equal(check('infra_name: x\nuser_id: true\nnodes: []\n').value.user_id, true);
  });

  it('keeps YAML alias identity between dependency ends and node entries', () => {
    const { value } = check(`${HEAD}nodes:\n  - &A {name: a, type: t}\n  - &B {name: b, type: t}\ndependencies:\n  - [*B, *A]\n  - {connection: [*A, *B]}\n`);
    const [a, b] = value.nodes;
    const [short, long] = value.dependencies ?? [];
    assert.ok(Array.isArray(short));
    assert.equal(short[0], b);
    assert.equal(short[1], a);
    assert.ok(long && !Array.isArray(long));
    assert.equal(long.connection[0], a);
  });

  it('accepts node names as dependency ends (our extension)', () => {
    const { value } = check(`${HEAD}nodes:\n  - {name: a, type: t}\n  - {name: b, type: t}\ndependencies:\n  - [b, a]\n`);
    assert.deepEqual(value.dependencies, [['b', 'a']]);
  });

  it('inserts nothing into the user data', () => {
    const doc = yamlDoc(`${HEAD}nodes:\n  - {name: a, type: t}\n`);
    const before = structuredClone(doc.value);
    checkInfraDescription(doc);
    assert.deepEqual(doc.value, before);
  });
});

describe('infrastructure description: warnings', () => {
  it('warns when several nodes have no dependencies', () => {
    const { warnings } = check(`${HEAD}nodes:\n  - {name: a, type: t}\n  - {name: b, type: t}\n`);
    assert.deepEqual(warnings, ['no dependencies specified - nodes are built in list order']);
  });

  it('does not warn for a single node, nor for missing scaling', () => {
    assert.deepEqual(check(`${HEAD}nodes:\n  - {name: a, type: t}\n`).warnings, []);
  });

  it('does not warn when dependencies are given (even empty)', () => {
    assert.deepEqual(check(`${HEAD}nodes:\n  - {name: a, type: t}\n  - {name: b, type: t}\ndependencies: []\n`).warnings, []);
  });
});

describe('infrastructure description: required and unknown keys', () => {
  for (const key of ['infra_name', 'user_id', 'nodes']) {
    it(`reports a missing ${key}`, () => {
      const value = base();
      delete value[key];
      const ms = messagesOf(() => checkInfraDescription(fakeDoc(value)));
      assert.deepEqual(ms, [`infrastructure description: Missing key(s): ${key}`]);
    });
  }

  for (const key of ['name', 'type']) {
    it(`reports a node entry without ${key}`, () => {
      const node: Record<string, unknown> = { name: 'a', type: 't' };
      delete node[key];
      const ms = messagesOf(() => checkInfraDescription(fakeDoc(base({ nodes: [node] }))));
      assertSomeMessage(ms, `Missing key(s): ${key}`);
    });
  }

  it('reports unknown keys at the top level, in node entries and in scaling', () => {
    const ms = messages(`${HEAD}extra: 1\nnodes:\n  - {name: a, type: t, colour: red, scaling: {min: 1, mx: 2}}\n`);
    assertSomeMessage(ms, 'infrastructure description: Unknown key(s): extra');
    assertSomeMessage(ms, "node 'a': Unknown key(s): colour");
    assertSomeMessage(ms, "node 'a': Unknown key(s) in scaling: mx");
  });

  it('refuses infra_id and says the id is given with -i', () => {
    const ms = messages(`${HEAD}infra_id: abc\nnodes: []\n`);
    assert.equal(ms.length, 1);
    assertSomeMessage(ms, 'infra_id', 'command line', '-i');
  });

  it('refuses init_suspended, userinfo_strategy and backend_selection_strategy', () => {
    const ms = messages(
      `${HEAD}init_suspended: true\nuserinfo_strategy: x\nnodes:\n  - {name: a, type: t, backend_selection_strategy: random}\n`,
    );
    assertSomeMessage(ms, "'init_suspended' is not supported");
    assertSomeMessage(ms, "'userinfo_strategy' is not supported");
    assertSomeMessage(ms, "node 'a': 'backend_selection_strategy' is not supported");
  });

  it('still rejects resource_filter on a node', () => {
    assertSomeMessage(messages(`${HEAD}nodes:\n  - {name: a, type: t, resource_filter: {}}\n`), 'Unknown key(s): resource_filter');
  });

  it('reports a file that is empty or not a mapping', () => {
    assertSomeMessage(messages(''), 'infrastructure description is empty');
    assertSomeMessage(messages('- a\n- b\n'), 'infrastructure description: must be a mapping');
  });
});

describe('infrastructure description: values', () => {
  it('reports scaling values that are not non-negative integers, in the documented style', () => {
    const ms = messages(`${HEAD}nodes:\n  - {name: web, type: t, scaling: {min: -1, max: 1.5}}\n  - {name: db, type: t, scaling: {min: '2', max: true}}\n`);
    assert.deepEqual(ms, [
      "node 'web': scaling.min must be a non-negative integer",
      "node 'web': scaling.max must be a non-negative integer",
      "node 'db': scaling.min must be a non-negative integer",
      "node 'db': scaling.max must be a non-negative integer",
    ]);
  });

  for (const [key, text] of [
    ['variables', `${HEAD}variables:\nnodes: []\n`],
    ['dependencies', `${HEAD}nodes: []\ndependencies:\n`],
    ['scaling', `${HEAD}nodes:\n  - {name: a, type: t, scaling: }\n`],
    ['node variables', `${HEAD}nodes:\n  - {name: a, type: t, variables: }\n`],
  ] as const) {
    it(`reports null ${key} clearly`, () => {
      const ms = messages(text);
      assert.equal(ms.length, 1);
      assertSomeMessage(ms, key.replace('node ', ''), 'empty (null)');
    });
  }

  it('reports a filter that is not a mapping', () => {
    assertSomeMessage(messages(`${HEAD}nodes:\n  - {name: a, type: t, filter: [ec2]}\n`), "node 'a': filter must be a mapping");
  });

  it('reports nodes that are not a list, and entries that are not mappings', () => {
    assertSomeMessage(messages(`${HEAD}nodes: {a: 1}\n`), 'nodes must be a list');
    assertSomeMessage(messages(`${HEAD}nodes: [web]\n`), 'nodes[0]: must be a mapping');
  });

  it('rejects a null or empty user_id and a non-string node type', () => {
    assertSomeMessage(messages('infra_name: x\nuser_id:\nnodes: []\n'), 'user_id must be');
    assertSomeMessage(messages(`${HEAD}nodes:\n  - {name: a, type: 5}\n  - {name: b, type: ''}\n`), "node 'a': type must be");
    assertSomeMessage(messages(`${HEAD}nodes:\n  - {name: b, type: ''}\n`), "node 'b': type must be");
  });

  for (const [value, ok] of [
    [0, false],
    [-5, false],
    ['60', false],
    [true, false],
    [0.5, true],
    [3600, true],
  ] as const) {
    it(`${ok ? 'accepts' : 'rejects'} create_timeout ${JSON.stringify(value)}`, () => {
      const doc = fakeDoc(base({ nodes: [{ name: 'a', type: 't', create_timeout: value }] }));
      if (ok) checkInfraDescription(doc);
      else assertSomeMessage(messagesOf(() => checkInfraDescription(doc)), "node 'a': create_timeout must be a positive number of seconds");
    });
  }
});

describe('name rule', () => {
  const good = ['web', 'GENERATOR', 'Hadoop-Master-01', '-leading-and-trailing-', 'a'.repeat(63), '0'];
  const bad: [unknown, string][] = [
    ['a'.repeat(64), 'is too long'],
    ['under_score', 'may contain only'],
    ['with space', 'may contain only'],
    ['dot.ted', 'may contain only'],
    ['trailing-newline\n', 'may contain only'],
    ['ünicode', 'may contain only'],
    ['K\u212A', 'may contain only'], // KELVIN SIGN: Python's case folding let it through
    ['', 'must not be empty'],
    [5, 'must be a string'],
    [null, 'must be a string'],
    [['a'], 'must be a string'],
  ];

  for (const name of good) {
    it(`accepts ${JSON.stringify(name)} as infra_name and node name`, () => {
      checkInfraDescription(fakeDoc(base({ infra_name: name, nodes: [{ name, type: 't' }] })));
    });
  }

  for (const [name, why] of bad) {
    it(`rejects ${JSON.stringify(name)} as infra_name and node name (${why})`, () => {
      const ms = messagesOf(() => checkInfraDescription(fakeDoc(base({ infra_name: name, nodes: [{ name, type: 't' }] }))));
      assertSomeMessage(ms, 'infrastructure description: infra_name', why);
      // The node has no usable name, so it is named by its position.
      assertSomeMessage(ms, 'nodes[0]: name', why);
      assert.equal(ms.length, 2);
    });
  }
});

describe('dependencies', () => {
  const nodes = `nodes:\n  - &A {name: a, type: t}\n  - &B {name: b, type: t}\n`;

  it('rejects a short form without exactly two ends', () => {
    const ms = messages(`${HEAD}${nodes}dependencies:\n  - [*A]\n  - [*A, *B, *A]\n`);
    assertSomeMessage(ms, 'dependencies[0] must be a list of exactly 2 nodes');
    assertSomeMessage(ms, 'dependencies[1] must be a list of exactly 2 nodes');
  });

  it('requires connection in the long form, with exactly two ends', () => {
    const ms = messages(`${HEAD}${nodes}dependencies:\n  - {mappings: []}\n  - {connection: [*A]}\n`);
    assertSomeMessage(ms, 'Missing key(s) in dependencies[0]: connection');
    assertSomeMessage(ms, 'dependencies[1].connection must be a list of exactly 2 nodes');
  });

  it('rejects ends that are neither node entries nor names', () => {
    const ms = messages(`${HEAD}${nodes}dependencies:\n  - [*A, 7]\n  - {connection: [[x], *B]}\n`);
    assertSomeMessage(ms, 'dependencies[0][1] must be a node entry (an alias like *A) or a node name');
    assertSomeMessage(ms, 'dependencies[1].connection[0] must be a node entry');
  });

  it('checks mappings: 2-lists of strings or mappings with attributes and a boolean synch', () => {
    const ms = messages(
      `${HEAD}${nodes}dependencies:\n  - connection: [*B, *A]\n    mappings:\n      - [only-one]\n      - {synch: true}\n      - {attributes: [a, b], synch: 'yes'}\n      - 5\n`,
    );
    assertSomeMessage(ms, 'dependencies[0].mappings[0] must be a list of exactly 2 attribute names');
    assertSomeMessage(ms, 'Missing key(s) in dependencies[0].mappings[1]: attributes');
    assertSomeMessage(ms, 'dependencies[0].mappings[2].synch must be true or false');
    assertSomeMessage(ms, 'dependencies[0].mappings[3] must be a list [source, destination] or a mapping with attributes');
    assert.equal(ms.length, 4);
  });

  it('rejects a dependency that is neither a list nor a mapping', () => {
    assertSomeMessage(messages(`${HEAD}${nodes}dependencies:\n  - a->b\n`), "dependencies[0] must be a list [dependent, dependee] or a mapping with 'connection'");
  });
});

describe('infrastructure description: error reporting', () => {
  it('collects every problem into one SchemaError', () => {
    const err = schemaErrorOf(() => check('infra_name: bad_name\nnodes:\n  - {name: a, type: t, scaling: {min: x}}\nfoo: 1\n'));
    assert.equal(err.issues.length, 4); // infra_name, user_id missing, scaling.min, foo
  });

  it('locates issues with the real loader (line and column of the offending value)', () => {
    const err = schemaErrorOf(() => check(`${HEAD}nodes:\n  - name: web\n    type: t\n    scaling:\n      min: -1\n`));
    const [issue] = err.issues;
    assert.ok(issue);
    assert.deepEqual(issue.path, ['nodes', 0, 'scaling', 'min']);
    assert.equal(issue.location?.file, 'test.yaml');
    assert.equal(issue.location?.line, 7);
    assert.match(err.describe(), /^test\.yaml:7:\d+: node 'web': scaling\.min must be a non-negative integer$/);
  });

  it('asks locate() for the path of each issue; missing keys point at their mapping, unknown keys at themselves', () => {
    const doc = fakeDoc(base({ nodes: [{ name: 'a' }], extra: true }));
    const err = schemaErrorOf(() => checkInfraDescription(doc));
    const byMessage = new Map(err.issues.map((i) => [i.message, i]));
    const missing = byMessage.get("node 'a': Missing key(s): type");
    assert.deepEqual(missing?.path, ['nodes', 0]);
    assert.deepEqual(missing?.location, fakeLocation(['nodes', 0]));
    const unknown = byMessage.get('infrastructure description: Unknown key(s): extra');
    assert.deepEqual(unknown?.location, fakeLocation(['extra']));
    // SchemaError puts the first issue's location on the error itself.
    assert.deepEqual(err.location, err.issues[0]?.location);
  });

  it('lists issues in file order', () => {
    const err = schemaErrorOf(() => check(`${HEAD}nodes:\n  - {name: a, type: t, scaling: {max: x}}\n  - {name: b_, type: t}\nextra: 1\n`));
    const lines = err.issues.map((i) => i.location?.line ?? 0);
    assert.deepEqual(lines, [...lines].sort((x, y) => x - y));
    assert.equal(err.issues.length, 3);
  });
});
