/**
 * A separate OS process working on a shared Redis store, for the cross-process tests in
 * redis.test.ts. Protocol on stdout: `ready` once the store is open, then one JSON line with the
 * result.
 *
 *   take <url> <infraId>           take scaling requests until the parent sets kv test/done and
 *                                  nothing is left; result: the `count` of each taken request, per take
 *   lease <url> <rounds> <holder>  after a `go` line on stdin, try acquireLease(`lease-<i>`) for each
 *                                  round; result: the rounds won
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisStore } from '../../src/store/redis.js';

const [mode, url, a, b] = process.argv.slice(2);
if (!mode || !url || !a) throw new Error('usage: redis-child.ts take|lease <url> ...');
const store = await RedisStore.open(url, 'alice');
process.stdout.write('ready\n');

if (mode === 'take') {
  const takes: number[][] = [];
  for (;;) {
    // Read the flag before taking: everything added before it was set is seen by this take.
    const done = (await store.kvGet('test', 'done')) === true;
    const got = await store.takeScalingRequests(a);
    if (got.length > 0) takes.push(got.map((r) => (r.kind === 'destroy' ? -1 : r.count)));
    else if (done) break;
    else await sleep(Math.random() * 2);
  }
  process.stdout.write(`${JSON.stringify(takes)}\n`);
} else if (mode === 'lease') {
  if (!b) throw new Error('lease needs <rounds> <holder>');
  process.stdin.setEncoding('utf8');
  let input = '';
  while (!input.includes('go\n')) {
    const [chunk] = (await once(process.stdin, 'data')) as [string];
    input += chunk;
  }
  const wins: number[] = [];
  for (let i = 0; i < Number(a); i++) {
    if (await store.acquireLease(`lease-${i}`, b, 60_000)) wins.push(i);
  }
  process.stdout.write(`${JSON.stringify(wins)}\n`);
}
await store.close();
process.exit(0);
