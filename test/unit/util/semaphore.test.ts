import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Semaphore, limit } from '../../../src/util/semaphore.js';

/** A promise the test resolves by hand, to control exactly when each task ends. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('never runs more tasks at once than its capacity, and runs them all', async () => {
  const sem = new Semaphore(2);
  let inFlight = 0;
  let maxInFlight = 0;
  const gates = Array.from({ length: 5 }, gate);
  const started: number[] = [];
  const all = gates.map((g, i) =>
    sem.run(async () => {
      started.push(i);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await g.promise;
      inFlight--;
      return i * 10;
    }),
  );
  await tick();
  assert.deepEqual(started, [0, 1], 'only two tasks start while both slots are taken');
  gates[1]!.open();
  await tick();
  assert.deepEqual(started, [0, 1, 2], 'a freed slot goes to the oldest waiter');
  for (const g of gates) g.open();
  assert.deepEqual(await Promise.all(all), [0, 10, 20, 30, 40]);
  assert.equal(maxInFlight, 2);
  assert.equal(sem.running, 0);
});

test('a task that throws frees its slot and its error reaches the caller', async () => {
  const run = limit(1);
  await assert.rejects(run(() => Promise.reject(new Error('boom'))), /boom/);
  await assert.rejects(
    run(() => {
      throw new Error('sync boom');
    }),
    /sync boom/,
  );
  assert.equal(await run(() => 'still usable'), 'still usable');
});

test('a newcomer cannot jump ahead of queued tasks', async () => {
  const sem = new Semaphore(1);
  const first = gate();
  const order: string[] = [];
  const a = sem.run(async () => {
    await first.promise;
    order.push('a');
  });
  const b = sem.run(() => {
    order.push('b');
  });
  first.open();
  // Queued right when `a` is releasing: must still run after `b`.
  await Promise.resolve();
  const c = sem.run(() => {
    order.push('c');
  });
  await Promise.all([a, b, c]);
  assert.deepEqual(order, ['a', 'b', 'c']);
});

test('rejects a capacity that would block forever or is not a count', () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => new Semaphore(bad), RangeError);
  }
});
