import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile } from '../../../src/compiler/index.js';
import { CompileError, type SourceLocation } from '../../../src/errors.js';
import type { RawDependency } from '../../../src/descriptors/types.js';
import { entry, infra } from './helpers.js';

function compileError(fn: () => unknown): CompileError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CompileError, `expected CompileError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a CompileError');
}

/** A locator that knows every path, so tests can see which one an error points at. */
function locateAll(path: readonly (string | number)[]): SourceLocation {
  return { file: path.join('/'), line: 1, column: 1 };
}

test('short form by alias: dependent is built after dependee, edge recorded', () => {
  const [db, web] = [entry('db'), entry('web')];
  const d = compile(infra([web, db], [[web, db]]));
  assert.deepEqual(d.topological_order, [['db'], ['web']]);
  assert.deepEqual(d.edges, [{ dependent: 'web', dependee: 'db', mappings: [] }]);
});

test('long form with both mapping shapes is normalised', () => {
  const [db, web] = [entry('db'), entry('web')];
  const d = compile(
    infra(
      [db, web],
      [
        {
          connection: [web, db],
          mappings: [
            ['fqdn', 'wordpress.db.host'],
            { attributes: ['ip', 'db.ip'], synch: true, note: { why: 'kept' } },
            { attributes: ['port', 'db.port'] },
          ],
          comment: 'ignored',
        },
      ],
    ),
  );
  const expected = [
    { attributes: ['fqdn', 'wordpress.db.host'], synch: false },
    { attributes: ['ip', 'db.ip'], synch: true, note: { why: 'kept' } },
    { attributes: ['port', 'db.port'], synch: false },
  ];
  assert.deepEqual(d.edges, [{ dependent: 'web', dependee: 'db', mappings: expected }]);
  const webD = d.nodes.find((n) => n.name === 'web');
  const dbD = d.nodes.find((n) => n.name === 'db');
  assert.deepEqual(webD?.mappings, { inbound: { db: expected }, outbound: {} });
  assert.deepEqual(dbD?.mappings, { inbound: {}, outbound: { web: expected } });
});

test('a deep-equal inline copy of an entry orders and maps like an alias', () => {
  const db = entry('db', { variables: { port: 3306, tags: ['a'] } });
  const web = entry('web', { scaling: { min: 2 } });
  const copyOfDb = { name: 'db', type: 'db_type', variables: { port: 3306.0, tags: ['a'] } };
  const copyOfWeb = JSON.parse(JSON.stringify(web)) as unknown;
  const d = compile(infra([web, db], [{ connection: [copyOfWeb, copyOfDb], mappings: [['a', 'b']] }]));
  assert.deepEqual(d.topological_order, [['db'], ['web']]);
  assert.deepEqual(d.nodes[0]?.mappings.inbound, { db: [{ attributes: ['a', 'b'], synch: false }] });
});

test('node names as dependency ends (our extension) order and map', () => {
  const d = compile(infra([entry('web'), entry('db')], [{ connection: ['web', 'db'], mappings: [['x', 'y']] }]));
  assert.deepEqual(d.topological_order, [['db'], ['web']]);
  assert.deepEqual(d.nodes[0]?.mappings.inbound, { db: [{ attributes: ['x', 'y'], synch: false }] });
});

test('mixed forms: alias, name and copy in one description', () => {
  const [a, b, c] = [entry('a'), entry('b'), entry('c')];
  const d = compile(infra([c, b, a], [[b, 'a'], [{ ...c }, b]]));
  assert.deepEqual(d.topological_order, [['a'], ['b'], ['c']]);
});

test('unknown node name in a dependency names the node and the dependency', () => {
  const [a, b] = [entry('a'), entry('b')];
  const e = compileError(() => compile(infra([a, b], [[b, a], ['a', 'nosuch']], {}), { locate: locateAll }));
  assert.equal(e.message, "unknown node 'nosuch' in dependency 2");
  assert.equal(e.location?.file, 'dependencies/1/1');
});

test('a mapping that is not an entry of nodes is rejected, not reported as a cycle', () => {
  const [a, b] = [entry('a'), entry('b')];
  const outsider = entry('c');
  const e = compileError(() =>
    compile(infra([a, b], [{ connection: [outsider, a] }]), { locate: locateAll }),
  );
  assert.equal(e.message, "dependency 1 refers to a node that is not in 'nodes'");
  assert.equal(e.location?.file, 'dependencies/0/connection/0');
});

test('an entry that differs in one nested value is not a match', () => {
  const a = entry('a', { variables: { x: [1, 2] } });
  const b = entry('b');
  const near = { name: 'a', type: 'a_type', variables: { x: [1, 2, 3] } };
  const e = compileError(() => compile(infra([a, b], [[b, near]])));
  assert.equal(e.message, "dependency 1 refers to a node that is not in 'nodes'");
});

test('a dependency without two ends is a compile error', () => {
  const a = entry('a');
  const bad = [a] as unknown as RawDependency;
  const e = compileError(() => compile(infra([a], [bad]), { locate: locateAll }));
  assert.match(e.message, /^dependency 1 must be \[dependent, dependee\]/);
  assert.equal(e.location?.file, 'dependencies/0');
});

test('duplicate node names are refused, pointing at the second entry', () => {
  const e = compileError(() =>
    compile(infra([entry('a'), entry('web'), entry('web', { type: 'other' })]), { locate: locateAll }),
  );
  assert.equal(e.message, "duplicate node name 'web': node 3 has the same name as node 2");
  assert.equal(e.location?.file, 'nodes/2/name');
});

test('two edges between one pair merge; the later mappings replace the earlier', () => {
  const [db, web] = [entry('db'), entry('web')];
  const d = compile(
    infra(
      [db, web],
      [
        { connection: [web, db], mappings: [['first', 'one']] },
        { connection: ['web', 'db'], mappings: [{ attributes: ['second', 'two'], synch: true }] },
      ],
    ),
  );
  const expected = [{ attributes: ['second', 'two'], synch: true }];
  assert.deepEqual(d.edges, [{ dependent: 'web', dependee: 'db', mappings: expected }]);
  assert.deepEqual(d.nodes[1]?.mappings.inbound, { db: expected });
  assert.deepEqual(d.nodes[0]?.mappings.outbound, { web: expected });
});

test('a node with several dependees and dependents gets one mappings entry per peer', () => {
  const [a, b, c] = [entry('a'), entry('b'), entry('c')];
  const d = compile(infra([a, b, c], [[b, a], { connection: [c, b], mappings: [['p', 'q']] }, [c, a]]));
  const bD = d.nodes[1];
  assert.deepEqual(bD?.mappings, {
    inbound: { a: [] },
    outbound: { c: [{ attributes: ['p', 'q'], synch: false }] },
  });
  assert.deepEqual(Object.keys(d.nodes[0]?.mappings.outbound ?? {}), ['b', 'c']);
  assert.deepEqual(d.topological_order, [['a'], ['b'], ['c']]);
});
