import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { decideScaling, selectInstancesToDrop, type ExistingInstance } from '../../../src/enactor/scaling.js';
import type { ScalingRequest } from '../../../src/store/store.js';

const node = (min?: number, max?: number) => ({
  name: 'web',
  ...(min !== undefined || max !== undefined ? { scaling: { ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) } } : {}),
});
const inst = (id: string, start: number, ...addresses: string[]): ExistingInstance => ({ node_id: id, start_time: start, addresses });
const three = [inst('a', 1, '10.0.0.1'), inst('b', 2, '10.0.0.2', '2001:db8::2'), inst('c', 3, '10.0.0.3')];
const create = (count: number): ScalingRequest => ({ node: 'web', kind: 'create', count });
const destroy = (selector: string | null = null): ScalingRequest => ({ node: 'web', kind: 'destroy', selector });
const target = (count: number): ScalingRequest => ({ node: 'web', kind: 'target', count });

describe('target count (runtime §3.4)', () => {
  test('without scaling a node has exactly one instance', () => {
    assert.equal(decideScaling({ node: node(), existing: [], storedTarget: null, requests: [] }).target, 1);
  });

  test('min 0 means 1, and max below min means min', () => {
    assert.equal(decideScaling({ node: node(0), existing: [], storedTarget: null, requests: [] }).target, 1);
    assert.equal(decideScaling({ node: node(3, 1), existing: [], storedTarget: null, requests: [create(5)] }).target, 3);
  });

  test('with no stored target the target is min; a stored one is clamped into the limits', () => {
    assert.equal(decideScaling({ node: node(2, 5), existing: [], storedTarget: null, requests: [] }).target, 2);
    assert.equal(decideScaling({ node: node(2, 5), existing: [], storedTarget: 9, requests: [] }).target, 5);
    assert.equal(decideScaling({ node: node(2, 5), existing: [], storedTarget: 0, requests: [] }).target, 2);
  });

  test('create requests add up and are capped at max, with a note', () => {
    const d = decideScaling({ node: node(1, 3), existing: three.slice(0, 1), storedTarget: 1, requests: [create(1), create(4)] });
    assert.equal(d.target, 3);
    assert.equal(d.changed, true);
    assert.match(d.notes.join('\n'), /6 instances requested, maximum is 3/);
  });

  test('unnamed destroy requests lower the target, not below min', () => {
    assert.equal(decideScaling({ node: node(1, 5), existing: three, storedTarget: 3, requests: [destroy()] }).target, 2);
    const d = decideScaling({ node: node(2, 5), existing: three, storedTarget: 3, requests: [destroy(), destroy(), destroy()] });
    assert.equal(d.target, 2);
    assert.match(d.notes.join('\n'), /minimum is 2/);
  });

  test('a destroy request names an instance by node id, IPv4 or IPv6 address', () => {
    for (const selector of ['b', '10.0.0.2', '2001:DB8::2']) {
      const d = decideScaling({ node: node(1, 5), existing: three, storedTarget: 3, requests: [destroy(selector)] });
      assert.deepEqual(d.namedDrops, ['b'], selector);
      assert.equal(d.target, 2);
    }
  });

  test('a request naming no instance is ignored and reported', () => {
    const d = decideScaling({ node: node(1, 5), existing: three, storedTarget: 3, requests: [destroy('10.9.9.9')] });
    assert.equal(d.target, 3);
    assert.deepEqual(d.namedDrops, []);
    assert.match(d.notes.join('\n'), /no instance .*10\.9\.9\.9/);
  });

  test('named drops never go below min', () => {
    const d = decideScaling({ node: node(2, 5), existing: three, storedTarget: 3, requests: [destroy('a'), destroy('b')] });
    assert.equal(d.target, 2);
    assert.deepEqual(d.namedDrops, ['a']);
    assert.match(d.notes.join('\n'), /instance b kept to respect the minimum of 2/);
  });

  test('an instance named twice is counted once', () => {
    const d = decideScaling({ node: node(1, 5), existing: three, storedTarget: 3, requests: [destroy('a'), destroy('10.0.0.1')] });
    assert.equal(d.target, 2);
    assert.deepEqual(d.namedDrops, ['a']);
  });

  test('requests apply in order: set, then add', () => {
    assert.equal(decideScaling({ node: node(1, 10), existing: [], storedTarget: 1, requests: [target(4), create(2)] }).target, 6);
    assert.equal(decideScaling({ node: node(1, 10), existing: [], storedTarget: 1, requests: [create(2), target(4)] }).target, 4);
  });

  test('a destroy request is counted once across passes (runtime §10.11)', () => {
    // Pass 1 consumes the request; the stored target carries its effect. Pass 2 sees no request.
    const first = decideScaling({ node: node(1, 5), existing: three, storedTarget: 3, requests: [destroy()] });
    assert.equal(first.target, 2);
    const afterDrop = three.slice(0, 2);
    const second = decideScaling({ node: node(1, 5), existing: afterDrop, storedTarget: first.target, requests: [] });
    assert.equal(second.target, 2);
    // Even when the drop has not happened yet (existing still 3), the target is not lowered again.
    const pending = decideScaling({ node: node(1, 5), existing: three, storedTarget: first.target, requests: [] });
    assert.equal(pending.target, 2);
  });

  test('failed instances removed before counting are replaced up to the target', () => {
    const d = decideScaling({ node: node(1, 5), existing: three.slice(0, 1), storedTarget: 3, requests: [] });
    assert.equal(d.target, 3);
    assert.equal(d.changed, false);
  });
});

describe('choosing instances to drop (runtime §3.5)', () => {
  test('simple drops the youngest', () => {
    assert.deepEqual(selectInstancesToDrop(three, 2, [], 'simple'), ['c', 'b']);
  });

  test('named instances go first, then the strategy tops up', () => {
    assert.deepEqual(selectInstancesToDrop(three, 2, ['a'], 'simple'), ['a', 'c']);
    assert.deepEqual(selectInstancesToDrop(three, 1, ['a', 'b'], 'simple'), ['a']);
  });

  test('random takes a sample chosen by the random source', () => {
    const picks = new Set<string>();
    for (const r of [0, 0.34, 0.67, 0.99]) {
      const chosen = selectInstancesToDrop(three, 1, [], 'random', () => r);
      assert.equal(chosen.length, 1);
      picks.add(chosen[0] as string);
    }
    assert.ok(picks.size > 1, 'different random values choose different instances');
  });
});

describe('requests in one pass apply one after another', () => {
  test('"+1" at the maximum is refused, later named drops still happen', () => {
    const d = decideScaling({ node: node(1, 3), existing: three, storedTarget: 3, requests: [create(1), destroy('a'), destroy('b')] });
    assert.equal(d.target, 1);
    assert.deepEqual(d.namedDrops, ['a', 'b']);
    assert.match(d.notes.join('\n'), /4 instances requested, maximum is 3/);
    assert.doesNotMatch(d.notes.join('\n'), /kept/);
  });

  test('a named drop while below target is still carried out (the instance is replaced)', () => {
    const d = decideScaling({ node: node(1, 5), existing: three.slice(0, 2), storedTarget: 4, requests: [destroy('a')] });
    assert.equal(d.target, 3);
    assert.deepEqual(d.namedDrops, ['a']);
  });
});
