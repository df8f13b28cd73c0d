import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../../src/store/memory.js';
import {
  evaluateHealth,
  forgetNodeTimers,
  peekHealth,
  tempFailedTimerKey,
} from '../../../src/health/failure-timer.js';

const INFRA = 'infra-1';
const NODE = 'node-1';
const FAIL = { ok: false };
const OK = { ok: true };

test('a failing node is pending until it has failed for strictly more than the timeout', async () => {
  const store = new MemoryStore('tester');
  assert.equal(await evaluateHealth(store, INFRA, NODE, FAIL, 600, 1000), 'pending');
  assert.equal(await evaluateHealth(store, INFRA, NODE, FAIL, 600, 1300), 'pending');
  assert.equal(await evaluateHealth(store, INFRA, NODE, FAIL, 600, 1600), 'pending', 'exactly the timeout is not past it');
  assert.equal(await evaluateHealth(store, INFRA, NODE, FAIL, 600, 1600.5), 'failed');
});

test('the first failure is kept: later failures do not restart the clock', async () => {
  const store = new MemoryStore('tester');
  await evaluateHealth(store, INFRA, NODE, FAIL, 10, 100);
  await evaluateHealth(store, INFRA, NODE, FAIL, 10, 105);
  assert.equal(await store.getFailingSince(INFRA, NODE), 100);
  assert.equal(await evaluateHealth(store, INFRA, NODE, FAIL, 10, 111), 'failed');
});

test('one success resets the clock', async () => {
  const store = new MemoryStore('tester');
  await evaluateHealth(store, INFRA, NODE, FAIL, 10, 100);
  assert.equal(await evaluateHealth(store, INFRA, NODE, OK, 10, 109), 'ready');
  assert.equal(await store.getFailingSince(INFRA, NODE), null);
  assert.equal(await evaluateHealth(store, INFRA, NODE, FAIL, 10, 115), 'pending', 'a new failure starts a new period');
  assert.equal(await evaluateHealth(store, INFRA, NODE, FAIL, 10, 125), 'pending');
  assert.equal(await evaluateHealth(store, INFRA, NODE, FAIL, 10, 126), 'failed');
});

test('timers are per node', async () => {
  const store = new MemoryStore('tester');
  await evaluateHealth(store, INFRA, 'a', FAIL, 10, 100);
  assert.equal(await evaluateHealth(store, INFRA, 'b', FAIL, 10, 200), 'pending');
  assert.equal(await evaluateHealth(store, INFRA, 'a', FAIL, 10, 200), 'failed');
});

test('a zero timeout fails at the second failing observation, not the first', async () => {
  const store = new MemoryStore('tester');
  assert.equal(await evaluateHealth(store, INFRA, NODE, FAIL, 0, 100), 'pending');
  assert.equal(await evaluateHealth(store, INFRA, NODE, FAIL, 0, 100.001), 'failed');
});

test('peekHealth gives the same verdict without starting or clearing a timer', async () => {
  const store = new MemoryStore('tester');
  assert.equal(await peekHealth(store, INFRA, NODE, FAIL, 10, 100), 'pending');
  assert.equal(await store.getFailingSince(INFRA, NODE), null, 'a read-only report does not start the clock');

  await evaluateHealth(store, INFRA, NODE, FAIL, 10, 100);
  assert.equal(await peekHealth(store, INFRA, NODE, FAIL, 10, 111), 'failed');
  assert.equal(await peekHealth(store, INFRA, NODE, OK, 10, 112), 'ready');
  assert.equal(await store.getFailingSince(INFRA, NODE), 100, 'a read-only report does not clear the clock');
});

test('forgetNodeTimers removes both the health and the temp_failed timers of one node only', async () => {
  const store = new MemoryStore('tester');
  await store.markFailing(INFRA, NODE, 1);
  await store.markFailing(INFRA, tempFailedTimerKey(NODE), 2);
  await store.markFailing(INFRA, 'other', 3);
  await forgetNodeTimers(store, INFRA, NODE);
  assert.equal(await store.getFailingSince(INFRA, NODE), null);
  assert.equal(await store.getFailingSince(INFRA, tempFailedTimerKey(NODE)), null);
  assert.equal(await store.getFailingSince(INFRA, 'other'), 3);
});
