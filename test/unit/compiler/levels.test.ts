import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile } from '../../../src/compiler/index.js';
import { CompileError } from '../../../src/errors.js';
import { entry, infra } from './helpers.js';

test('no dependencies: one level in list order', () => {
  const nodes = ['c', 'a', 'b'].map((n) => entry(n));
  assert.deepEqual(compile(infra(nodes)).topological_order, [['c', 'a', 'b']]);
});

test('empty nodes list compiles to no levels', () => {
  assert.deepEqual(compile(infra([])).topological_order, []);
});

test('chain builds dependee first', () => {
  const [a, b, c] = [entry('a'), entry('b'), entry('c')];
  // c depends on b, b depends on a
  const d = compile(infra([c, b, a], [[c, b], [b, a]]));
  assert.deepEqual(d.topological_order, [['a'], ['b'], ['c']]);
});

test('diamond: the two middle nodes share a level', () => {
  const [top, l, r, bottom] = [entry('top'), entry('left'), entry('right'), entry('bottom')];
  const d = compile(
    infra([bottom, r, l, top], [[l, top], [r, top], [bottom, l], [bottom, r]]),
  );
  assert.deepEqual(d.topological_order, [['top'], ['right', 'left'], ['bottom']]);
});

test('wide: many dependents of one node form one level in list order', () => {
  const db = entry('db');
  const webs = ['w5', 'w1', 'w3', 'w2', 'w4'].map((n) => entry(n));
  const d = compile(infra([...webs, db], webs.map((w) => [w, db])));
  assert.deepEqual(d.topological_order, [['db'], ['w5', 'w1', 'w3', 'w2', 'w4']]);
});

test('independent node stays in level 0 next to the roots', () => {
  const [a, b, x] = [entry('a'), entry('b'), entry('x')];
  const d = compile(infra([b, x, a], [[b, a]]));
  assert.deepEqual(d.topological_order, [['x', 'a'], ['b']]);
});

function cycleMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CompileError, `expected CompileError, got ${String(e)}`);
    assert.equal(e.code, 'E_COMPILE');
    return e.message;
  }
  assert.fail('expected a CompileError');
}

test('2-node cycle is named', () => {
  const [a, b] = [entry('a'), entry('b')];
  assert.equal(cycleMessage(() => compile(infra([a, b], [[a, b], [b, a]]))), 'dependency cycle: a -> b -> a');
});

test('3-node cycle is named in "depends on" direction', () => {
  const [a, b, c] = [entry('a'), entry('b'), entry('c')];
  // a depends on b, b on c, c on a
  assert.equal(
    cycleMessage(() => compile(infra([a, b, c], [[a, b], [b, c], [c, a]]))),
    'dependency cycle: a -> b -> c -> a',
  );
});

test('cycle behind a node that merely depends on it names only the loop', () => {
  const [root, x, p, q] = [entry('root'), entry('x'), entry('p'), entry('q')];
  // x depends on p; p and q depend on each other; root is fine
  const msg = cycleMessage(() => compile(infra([root, x, p, q], [[x, p], [p, q], [q, p]])));
  assert.equal(msg, 'dependency cycle: p -> q -> p');
});

test('self-dependency is a cycle', () => {
  const a = entry('a');
  assert.equal(cycleMessage(() => compile(infra([entry('ok'), a], [[a, a]]))), 'dependency cycle: a -> a');
});

test('cycle error points at a dependency of the cycle', () => {
  const [a, b] = [entry('a'), entry('b')];
  const paths: string[] = [];
  try {
    compile(infra([a, b], [[a, b], [b, a]]), {
      locate: (p) => {
        paths.push(p.join('.'));
        return p[0] === 'dependencies' && p.length === 2 ? { file: 'infra.yaml', line: 10 + Number(p[1]), column: 5 } : undefined;
      },
    });
    assert.fail('expected a CompileError');
  } catch (e) {
    assert.ok(e instanceof CompileError);
    assert.deepEqual(e.location, { file: 'infra.yaml', line: 10, column: 5 });
    assert.equal(e.describe(), 'infra.yaml:10:5: dependency cycle: a -> b -> a');
  }
});
