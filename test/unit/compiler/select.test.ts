import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesFilter, selectImplementation } from '../../../src/resolution/select.js';
import { NoMatchingNodeDefinition } from '../../../src/errors.js';
import type { NodeDefinition } from '../../../src/descriptors/types.js';

function def(resource: NodeDefinition['resource'], extra: Partial<NodeDefinition> = {}): NodeDefinition {
  return { resource, ...extra };
}

const ec2 = def({ type: 'ec2', regionname: 'eu-west-1', instance_type: 't2.small', cores: 1 });
const nova = def({ type: 'nova', endpoint: 'https://nova.example', flavor: { ram: 2048, disk: [10, 20] }, cores: 2 });
const docker = def({ type: 'docker', image: 'ubuntu', privileged: true, network_mode: 'bridge' });
const all = [ec2, nova, docker];

test('absent or empty filter keeps every definition', () => {
  assert.ok(matchesFilter(ec2.resource, undefined));
  assert.ok(matchesFilter(ec2.resource, {}));
});

test('filter keeps definitions whose resource has every key with an equal value', () => {
  assert.ok(matchesFilter(ec2.resource, { type: 'ec2', regionname: 'eu-west-1' }));
  assert.ok(!matchesFilter(ec2.resource, { type: 'ec2', regionname: 'us-east-1' }));
  assert.ok(!matchesFilter(ec2.resource, { type: 'ec2', key_name: 'k' }), 'key missing from resource');
});

test('strings compare exactly and case-sensitively; a string never equals a number', () => {
  assert.ok(!matchesFilter(ec2.resource, { type: 'EC2' }));
  assert.ok(!matchesFilter(ec2.resource, { type: 'ec2 ' }));
  assert.ok(!matchesFilter(ec2.resource, { cores: '1' }));
});

test('numbers and booleans compare the Python way: 1 == 1.0, true == 1, false == 0', () => {
  assert.ok(matchesFilter({ type: 'x', cores: 1 }, { cores: 1.0 }));
  assert.ok(matchesFilter({ type: 'x', cores: 1 }, { cores: true }));
  assert.ok(matchesFilter({ type: 'x', privileged: true }, { privileged: 1 }));
  assert.ok(matchesFilter({ type: 'x', n: 0 }, { n: false }));
  assert.ok(!matchesFilter({ type: 'x', privileged: true }, { privileged: 2 }));
  assert.ok(!matchesFilter({ type: 'x', v: null }, { v: 0 }));
});

test('lists and mappings compare deeply', () => {
  assert.ok(matchesFilter(nova.resource, { flavor: { disk: [10, 20], ram: 2048.0 } }));
  assert.ok(!matchesFilter(nova.resource, { flavor: { ram: 2048 } }), 'a sub-mapping is not a match');
  assert.ok(!matchesFilter(nova.resource, { flavor: { ram: 2048, disk: [20, 10] } }), 'list order matters');
  assert.ok(!matchesFilter(nova.resource, { flavor: { ram: 2048, disk: [10, 20, 30] } }));
  assert.ok(matchesFilter({ type: 'x', l: [true, { a: [1] }] }, { l: [1, { a: [1.0] }] }));
  assert.ok(!matchesFilter({ type: 'x', l: [1] }, { l: { 0: 1 } }), 'a list is not a mapping');
});

test('selection returns a matching definition', () => {
  const picked = selectImplementation(all, { type: 'web', filter: { type: 'nova' } }, () => 0.99);
  assert.deepEqual(picked, nova);
  const byBool = selectImplementation(all, { type: 'web', filter: { privileged: 1 } });
  assert.deepEqual(byBool, docker);
});

test('the pick is uniform over the matching definitions, driven by the injected random', () => {
  const defs = [ec2, def({ type: 'ec2', regionname: 'us' }), nova, def({ type: 'ec2', regionname: 'ap' })];
  const node = { type: 'web', filter: { type: 'ec2' } };
  // boundaries: [0, 1/3) first, [1/3, 2/3) second, [2/3, 1) third
  assert.equal(selectImplementation(defs, node, () => 0).resource.regionname, 'eu-west-1');
  assert.equal(selectImplementation(defs, node, () => 0.34).resource.regionname, 'us');
  assert.equal(selectImplementation(defs, node, () => 0.67).resource.regionname, 'ap');
  assert.equal(selectImplementation(defs, node, () => 0.999999).resource.regionname, 'ap');

  // a deterministic pseudo-random sequence: every candidate gets about a third
  let seed = 12345;
  const lcg = (): number => {
    seed = (seed * 16807) % 2147483647; // Park-Miller: exact in doubles
    return seed / 2147483647;
  };
  const counts = new Map<unknown, number>();
  const n = 3000;
  for (let i = 0; i < n; i++) {
    const r = selectImplementation(defs, node, lcg).resource.regionname;
    counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  assert.deepEqual([...counts.keys()].sort(), ['ap', 'eu-west-1', 'us']);
  for (const c of counts.values()) assert.ok(c > n * 0.28 && c < n * 0.39, `count ${c} not about n/3`);
});

test('a random source returning 1 still picks a definition', () => {
  assert.deepEqual(selectImplementation([ec2, nova], { type: 't' }, () => 1), nova);
});

test('the result is an independent deep copy', () => {
  const stored = def({ type: 'ec2', tags: { a: ['1'] } }, { health_check: { ports: [22] } });
  const picked = selectImplementation([stored], { type: 't' });
  (picked.resource.tags as { a: string[] }).a.push('2');
  picked.health_check!.ports!.push(80);
  assert.deepEqual(stored, def({ type: 'ec2', tags: { a: ['1'] } }, { health_check: { ports: [22] } }));
  const again = selectImplementation([stored], { type: 't' });
  assert.notEqual(again, picked);
  assert.notEqual(again.resource, stored.resource);
});

test('no matching definition: typed error carrying the type and filter', () => {
  assert.throws(
    () => selectImplementation(all, { type: 'web', filter: { type: 'azure_vm' } }),
    (e: unknown) => {
      assert.ok(e instanceof NoMatchingNodeDefinition);
      assert.equal(e.code, 'E_NO_MATCHING_NODE_DEFINITION');
      assert.equal(e.nodeType, 'web');
      assert.deepEqual(e.filter, { type: 'azure_vm' });
      assert.match(e.message, /No matching node definition for type 'web' with filter/);
      return true;
    },
  );
});

test('no definitions at all: the message says the type was never imported', () => {
  assert.throws(
    () => selectImplementation([], { type: 'web' }),
    (e: unknown) => {
      assert.ok(e instanceof NoMatchingNodeDefinition);
      assert.equal(e.code, 'E_NO_MATCHING_NODE_DEFINITION');
      assert.equal(e.nodeType, 'web');
      assert.match(e.message, /'web'.*never imported.*occopus-import/);
      return true;
    },
  );
});
