import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile } from '../../../src/compiler/index.js';
import { entry, infra } from './helpers.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('infra id: a new lowercase UUIDv4 each time unless one is given', () => {
  const desc = infra([entry('a')]);
  const one = compile(desc);
  const two = compile(desc);
  assert.match(one.infra_id, UUID_V4);
  assert.notEqual(one.infra_id, two.infra_id);
  const given = compile(desc, { infraId: 'my-existing-infra' });
  assert.equal(given.infra_id, 'my-existing-infra');
  assert.equal(given.nodes[0]?.infra_id, 'my-existing-infra');
});

test('top-level fields and injected node fields', () => {
  const d = compile(infra([entry('a')], undefined, { infra_name: 'wp', user_id: 42 }), { infraId: 'id1' });
  assert.equal(d.name, 'wp');
  assert.equal(d.user_id, '42');
  assert.equal(d.suspended, false);
  assert.deepEqual(d.variables, {});
  assert.deepEqual(d.edges, []);
  assert.deepEqual(d.nodes, [
    {
      name: 'a',
      type: 'a_type',
      variables: {},
      infra_id: 'id1',
      infra_name: 'wp',
      user_id: '42',
      mappings: { inbound: {}, outbound: {} },
    },
  ]);
});

test('scaling, filter and create_timeout are kept as given; scaling defaults are not filled in', () => {
  const d = compile(
    infra([entry('a', { scaling: { min: 0, max: 5 }, filter: { type: 'ec2', regionname: 'eu' }, create_timeout: 300 }), entry('b')]),
  );
  const [a, b] = d.nodes;
  assert.deepEqual(a?.scaling, { min: 0, max: 5 });
  assert.deepEqual(a?.filter, { type: 'ec2', regionname: 'eu' });
  assert.equal(a?.create_timeout, 300);
  assert.ok(b && !('scaling' in b) && !('filter' in b) && !('create_timeout' in b));
});

test('variables: nested mappings merge, node wins, lists and scalars replaced whole', () => {
  const d = compile(
    infra(
      [
        entry('a', {
          variables: {
            db: { port: 5432, opts: { ssl: true } },
            hosts: ['x'],
            name: { first: 'n' },
            only_node: 1,
          },
        }),
        entry('b'),
      ],
      undefined,
      {
        variables: {
          db: { host: 'h', port: 3306, opts: { ssl: false, pool: 4 } },
          hosts: ['p', 'q'],
          name: 'plain',
          only_infra: 'i',
        },
      },
    ),
  );
  assert.deepEqual(d.nodes[0]?.variables, {
    db: { host: 'h', port: 5432, opts: { ssl: true, pool: 4 } },
    hosts: ['x'],
    name: { first: 'n' },
    only_infra: 'i',
    only_node: 1,
  });
  assert.deepEqual(d.nodes[1]?.variables, d.variables);
  assert.deepEqual(d.variables, {
    db: { host: 'h', port: 3306, opts: { ssl: false, pool: 4 } },
    hosts: ['p', 'q'],
    name: 'plain',
    only_infra: 'i',
  });
});

test('a node scalar overrides an inherited mapping', () => {
  const d = compile(infra([entry('a', { variables: { db: 'none' } })], undefined, { variables: { db: { host: 'h' } } }));
  assert.deepEqual(d.nodes[0]?.variables, { db: 'none' });
});

test('output shares nothing: with the input, between nodes, or with itself', () => {
  const shared = { list: [1, 2], deep: { k: 'v' } };
  const a = entry('a', { variables: { s: shared }, scaling: { min: 1 } });
  const b = entry('b', { variables: { s: shared } });
  const desc = infra([a, b], [{ connection: [b, a], mappings: [['x', 'y']] }], { variables: { common: shared } });
  const before = JSON.stringify(desc);
  const d = compile(desc);

  // mutate every part of the output
  const [na, nb] = d.nodes;
  assert.ok(na && nb);
  (na.variables.s as { list: number[] }).list.push(99);
  (na.variables.common as { deep: { k: string } }).deep.k = 'changed';
  na.scaling!.min = 7;
  na.mappings.outbound.b![0]!.attributes[0] = 'changed';
  d.edges[0]!.mappings.push({ attributes: ['m', 'n'], synch: false });

  assert.equal(JSON.stringify(desc), before, 'input untouched');
  assert.deepEqual(nb.variables.s, { list: [1, 2], deep: { k: 'v' } });
  assert.deepEqual(nb.variables.common, { list: [1, 2], deep: { k: 'v' } });
  assert.deepEqual(d.variables.common, { list: [1, 2], deep: { k: 'v' } });
  assert.deepEqual(nb.mappings.inbound.a, [{ attributes: ['x', 'y'], synch: false }]);
  assert.equal(d.edges[0]!.mappings.length + nb.mappings.inbound.a!.length, 3);
});

test('output is JSON-clean: survives a JSON round trip and structuredClone unchanged', () => {
  const a = entry('a', { variables: { when: new Date('2021-01-01T00:00:00Z'), maybe: undefined, n: null } });
  const b = entry('b', { filter: { type: 'docker' } });
  const d = compile(infra([a, b], [[b, a]], { variables: { list: [1, 'two', { three: 3 }] } }));
  assert.deepEqual(JSON.parse(JSON.stringify(d)), d);
  assert.deepEqual(structuredClone(d), d);
  assert.deepEqual(d.nodes[0]?.variables, { when: '2021-01-01T00:00:00.000Z', n: null, list: [1, 'two', { three: 3 }] });
});

test('node attributes are copied into the node description (Occopus read them but refused the key)', () => {
  {
    const attributes = { role: 'edge', nested: { a: 1 } };
    const sd = compile({ infra_name: 'x', user_id: 'u', nodes: [{ name: 'a', type: 't', attributes }] });
    assert.deepEqual(sd.nodes[0]?.attributes, attributes);
    assert.notEqual(sd.nodes[0]?.attributes, attributes, 'a copy, not the user object');
  }
});
