/**
 * The cross-process tests shared by the SQLite and Redis stores: separate OS processes
 * (store-child.ts) open the same store from its URL and compete for scaling requests and leases.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ScalingRequest, Store } from '../../src/store/store.js';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const STORE_CHILD = fileURLToPath(new URL('./store-child.ts', import.meta.url));

/** One shared store for one test: a fresh file or key prefix. */
export interface CrossProcessSubject {
  /** The store URL the child processes open. */
  url: string;
  /** Opens the parent's own connection to the same store. */
  open(): Promise<Store>;
  /**
   * Extra checks after the take test's shared assertions; `results` holds each child's takes
   * (the `count` of each taken request, per take).
   */
  afterTake?(parent: Store, results: number[][][]): Promise<void>;
  /** Deletes the store's data; runs after the parent store is closed. */
  cleanup(): Promise<void>;
}

interface Child {
  ready: Promise<void>;
  result: Promise<string>;
  send(line: string): void;
}

function spawnChild(args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', STORE_CHILD, ...args], {
    cwd: PROJECT_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (chunk: string) => {
    out += chunk;
    if (out.startsWith('ready\n')) onReady();
  });
  proc.stderr.on('data', (chunk: string) => (err += chunk));
  const result = new Promise<string>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('exit', (code) => {
      if (code === 0 && out.startsWith('ready\n')) resolve(out.slice('ready\n'.length).trim());
      else reject(new Error(`child ${args.join(' ')} exited with ${code}:\n${err}`));
    });
  });
  // A child that dies before `ready` must fail the test, not hang it.
  const readyOrDied = Promise.race([ready, result.then(() => undefined)]);
  return { ready: readyOrDied, result, send: (line) => proc.stdin.write(`${line}\n`) };
}

/** Runs `fn` on a fresh subject and a parent store, then closes the store and cleans up. */
async function withSubject(
  subject: (tag: string) => Promise<CrossProcessSubject>,
  tag: string,
  fn: (s: CrossProcessSubject, parent: Store) => Promise<void>,
): Promise<void> {
  const s = await subject(tag);
  try {
    const parent = await s.open();
    try {
      await fn(s, parent);
    } finally {
      await parent.close();
    }
  } finally {
    await s.cleanup();
  }
}

/**
 * Registers the describe block `name` with the cross-process tests. `subject(tag)` makes a fresh
 * shared store for each test (`tag` is `take` or `lease`, for naming the file or prefix).
 */
export function crossProcessSuite(name: string, subject: (tag: string) => Promise<CrossProcessSubject>): void {
  describe(name, { timeout: 120_000 }, () => {
    test('every scaling request is taken exactly once, in order, by 4 competing processes', () =>
      withSubject(subject, 'take', async (s, parent) => {
        const children = Array.from({ length: 4 }, () => spawnChild(['take', s.url, 'infra']));
        await Promise.all(children.map((c) => c.ready));

        const total = 400;
        let next = 0;
        while (next < total) {
          const batch: ScalingRequest[] = [];
          const size = 1 + (next % 4);
          for (let i = 0; i < size && next < total; i++) batch.push({ node: 'web', kind: 'create', count: next++ });
          await parent.addScalingRequests('infra', batch);
          // Pace the producer so the takers interleave with it instead of finding one big backlog.
          await new Promise((r) => setTimeout(r, 1));
        }
        await parent.kvPut('test', 'done', true);

        const results = (await Promise.all(children.map((c) => c.result))).map((r) => JSON.parse(r) as number[][]);
        const all: number[] = [];
        for (const takes of results) {
          const flat = takes.flat();
          // Each process sees requests in submission order.
          assert.deepEqual(flat, [...flat].sort((a, b) => a - b));
          all.push(...flat);
        }
        assert.deepEqual(
          all.sort((a, b) => a - b),
          Array.from({ length: total }, (_, i) => i),
        );
        assert.deepEqual(await parent.peekScalingRequests('infra'), []);
        await s.afterTake?.(parent, results);
      }));

    test('two processes racing for the same leases: exactly one wins each', () =>
      withSubject(subject, 'lease', async (s, parent) => {
        const rounds = 200;
        const children = ['proc-a', 'proc-b'].map((holder) => spawnChild(['lease', s.url, String(rounds), holder]));
        await Promise.all(children.map((c) => c.ready));
        for (const c of children) c.send('go');
        const [winsA, winsB] = (await Promise.all(children.map((c) => c.result))).map((r) => JSON.parse(r) as number[]);
        const a = new Set(winsA);
        const b = new Set(winsB);
        for (let i = 0; i < rounds; i++) {
          assert.equal(Number(a.has(i)) + Number(b.has(i)), 1, `lease-${i} won by ${a.has(i) ? 'both' : 'neither'}`);
          assert.equal((await parent.getLease(`lease-${i}`))?.holder, a.has(i) ? 'proc-a' : 'proc-b');
        }
      }));
  });
}
