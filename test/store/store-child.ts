/**
 * A separate OS process working on a shared store, for the cross-process tests in
 * cross-process.ts (and the read-only test in sqlite.test.ts). The store is opened from a URL
 * with openStore: `sqlite:/path` or `redis://...`. Protocol on stdout: a line `ready` once the
 * store is open, then one JSON line with the result.
 *
 *   take <url> <infraId>           take scaling requests until the parent sets kv test/done and
 *                                  nothing is left; result: the `count` of each taken request, per take
 *   lease <url> <rounds> <holder>  after a `go` line on stdin, try acquireLease(`lease-<i>`) for each
 *                                  round; result: the rounds won
 *   write <url>                    open the store and try one write; prints `ok` or the error
 *                                  message (no `ready` line)
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../../src/store/open.js';

const [mode, url, a, b] = process.argv.slice(2);
if (!mode || !url || (!a && mode !== 'write')) throw new Error('usage: store-child.ts take|lease|write <url> ...');
if (mode === 'write') {
  // Used by the SQLite read-only test when it runs as root: this process runs as an unprivileged user.
  let message = 'ok';
  try {
    const s = await openStore(url, { user: 'alice' });
    await s.kvPut('ns', 'k', 1).finally(() => s.close());
  } catch (e) {
    message = e instanceof Error ? e.message : String(e);
  }
  process.stdout.write(`${message}\n`);
  process.exit(0);
}
const store = await openStore(url, { user: 'alice' });
process.stdout.write('ready\n');

if (mode === 'take') {
  const takes: number[][] = [];
  for (;;) {
    // Read the flag before taking: everything added before it was set is seen by this take.
    const done = (await store.kvGet('test', 'done')) === true;
    const got = await store.takeScalingRequests(a as string);
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
