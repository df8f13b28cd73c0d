import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../../src/store/memory.js';
import { OccopusError } from '../../../src/errors.js';
import type { ResourceState } from '../../../src/drivers/resource-handler.js';
import {
  combineStates,
  escalateTempFailed,
  observeTempFailed,
  type NodeState,
} from '../../../src/health/node-state.js';

const ALL: ResourceState[] = ['ready', 'pending', 'shutdown', 'temp_failed', 'failed', 'unknown'];

/** Runtime §1.3 step 5, written out independently of the implementation's loop. */
function expected(states: ResourceState[]): NodeState {
  if (states.every((s) => s === 'ready')) return 'ready';
  if (states.includes('failed')) return 'failed';
  if (states.includes('shutdown')) return 'shutdown';
  if (states.includes('temp_failed')) return 'temp_failed';
  return 'pending';
}

test('every combination of the six component states follows the rule order', () => {
  let seen = 0;
  for (const rh of ALL) {
    for (const cm of ALL) {
      for (const hc of ALL) {
        assert.equal(combineStates(rh, cm, hc), expected([rh, cm, hc]), `${rh}/${cm}/${hc}`);
        seen++;
      }
    }
  }
  assert.equal(seen, 216);
});

test('the rules as a user meets them', () => {
  assert.equal(combineStates('ready', 'ready', 'ready'), 'ready');
  assert.equal(combineStates('ready', 'ready', 'pending'), 'pending', 'a failing health check alone only delays');
  assert.equal(combineStates('failed', 'unknown', 'unknown'), 'failed', 'a backend failure is immediate');
  assert.equal(combineStates('shutdown', 'unknown', 'unknown'), 'shutdown');
  assert.equal(combineStates('temp_failed', 'unknown', 'unknown'), 'temp_failed');
  assert.equal(combineStates('pending', 'unknown', 'unknown'), 'pending');
  assert.equal(combineStates('ready', 'unknown', 'unknown'), 'pending', 'the combined state is never unknown');
  assert.equal(combineStates('shutdown', 'failed', 'temp_failed'), 'failed', 'failed beats shutdown');
  assert.equal(combineStates('temp_failed', 'shutdown', 'ready'), 'shutdown', 'shutdown beats temp_failed');
});

test('a state word outside the six is an error naming the component, not a guess', () => {
  assert.throws(
    () => combineStates('ready', 'running' as ResourceState, 'ready'),
    (e: unknown) => e instanceof OccopusError && e.code === 'E_DRIVER' && /service state "running"/.test(e.message),
  );
});

test('temp_failed escalates to failed only strictly after the timeout', () => {
  assert.equal(escalateTempFailed('temp_failed', 100, 700, 600), 'temp_failed');
  assert.equal(escalateTempFailed('temp_failed', 100, 700.1, 600), 'failed');
  assert.equal(escalateTempFailed('temp_failed', null, 1e9, 600), 'temp_failed', 'no recorded start, no escalation');
  assert.equal(escalateTempFailed('pending', 0, 1e9, 600), 'pending', 'only temp_failed escalates');
});

test('observeTempFailed: continuous temp_failed beyond the timeout fails the node; any other state resets', async () => {
  const store = new MemoryStore('tester');
  assert.equal(await observeTempFailed(store, 'i', 'n', 'temp_failed', 60, 1000), 'temp_failed');
  assert.equal(await observeTempFailed(store, 'i', 'n', 'temp_failed', 60, 1060), 'temp_failed');
  assert.equal(await observeTempFailed(store, 'i', 'n', 'temp_failed', 60, 1061), 'failed');

  assert.equal(await observeTempFailed(store, 'i', 'n', 'ready', 60, 1062), 'ready');
  assert.equal(await observeTempFailed(store, 'i', 'n', 'temp_failed', 60, 1100), 'temp_failed', 'the clock restarted');
  assert.equal(await observeTempFailed(store, 'i', 'n', 'temp_failed', 60, 1161), 'failed');
});

test('the temp_failed timer does not disturb the health-check timer of the same node', async () => {
  const store = new MemoryStore('tester');
  await store.markFailing('i', 'n', 5);
  await observeTempFailed(store, 'i', 'n', 'temp_failed', 60, 1000);
  await observeTempFailed(store, 'i', 'n', 'pending', 60, 1001);
  assert.equal(await store.getFailingSince('i', 'n'), 5);
});
