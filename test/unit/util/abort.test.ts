/**
 * The cancellation helpers: every sleeper and child wakes on abort, and a signal watched by hundreds
 * of waiters (a wide level being built) carries one listener, not one per waiter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { CancelledError, childController, sleep } from '../../../src/util/abort.js';

test('sleep resolves after its time when nothing aborts', async () => {
  const controller = new AbortController();
  const t0 = Date.now();
  await sleep(30, controller.signal);
  assert.ok(Date.now() - t0 >= 25);
});

test('every sleeper on a signal is woken by its abort, with the reason', async () => {
  const controller = new AbortController();
  const sleepers = Array.from({ length: 300 }, () => sleep(60_000, controller.signal));
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1, 'one listener for all sleepers');
  controller.abort(new Error('interrupted by SIGINT'));
  const outcomes = await Promise.allSettled(sleepers);
  for (const o of outcomes) {
    assert.equal(o.status, 'rejected');
    assert.ok(o.status === 'rejected' && o.reason instanceof CancelledError);
    assert.match(String((o as PromiseRejectedResult).reason.message), /interrupted by SIGINT/);
  }
  await assert.rejects(sleep(10, controller.signal), CancelledError, 'an aborted signal rejects at once');
});

test('a finished sleep no longer reacts to a later abort', async () => {
  const controller = new AbortController();
  await sleep(5, controller.signal);
  controller.abort();
  // Nothing to assert beyond "no unhandled rejection": the finished sleep was unregistered.
  await new Promise((r) => setTimeout(r, 5));
});

test('children follow any parent until disposed', () => {
  const a = new AbortController();
  const b = new AbortController();
  const children = Array.from({ length: 200 }, () => childController(a.signal, b.signal));
  assert.equal(getEventListeners(a.signal, 'abort').length, 1);
  const disposed = children.pop()!;
  disposed.dispose();
  b.abort(new Error('lease lost'));
  for (const child of children) {
    assert.equal(child.signal.aborted, true);
    assert.equal((child.signal.reason as Error).message, 'lease lost');
  }
  assert.equal(disposed.signal.aborted, false, 'a disposed child stops following its parents');
});

test('a child of an already aborted parent starts aborted', () => {
  const parent = new AbortController();
  parent.abort('stop');
  assert.equal(childController(parent.signal).signal.aborted, true);
});
