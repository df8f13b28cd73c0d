/**
 * Benchmark 4: start-up. `occopus --help` and `occopus validate` on one of the Occopus examples, run
 * as a user runs them: a new process of the built CLI each time, with a private HOME. Cold means a
 * new process (nothing of occopus loaded yet); the OS file cache is warm after the first run, as it
 * is for a user typing commands. The median of several runs is reported, next to a bare `node -e 0`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { progress, runAsScript, type BenchResult, type BenchRow } from './lib/result.js';
import { fixed, median } from './lib/stats.js';

export const GOAL_MS = 300;
const repoRoot = resolve(import.meta.dirname, '..');
const cli = join(repoRoot, 'dist', 'src', 'cli', 'occopus.js');
const example = resolve(repoRoot, '..', 'shared', 'examples', 'ec2-ping');

function timeRun(args: string[], home: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, {
    cwd: home,
    env: { PATH: process.env.PATH, HOME: home, USER: 'bench', LOGNAME: 'bench', LANG: 'C.UTF-8' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited with ${String(r.status)}: ${r.stderr}`);
  return ms;
}

export async function startupBench(options: { quick: boolean }): Promise<BenchResult> {
  const started = Date.now();
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
  if (!existsSync(example)) throw new Error(`the Occopus examples are missing: ${example}`);
  const runs = options.quick ? 5 : 15;
  const home = mkdtempSync(join(tmpdir(), 'occopus-bench-startup-'));
  const cases: { label: string; args: string[]; goal: boolean }[] = [
    { label: 'node -e 0 (the floor: Node.js itself)', args: ['-e', '0'], goal: false },
    { label: 'occopus --help', args: [cli, '--help'], goal: true },
    {
      // As a user runs it: node definitions imported before, read from the default store (~/.occopus).
      label: 'occopus validate examples/ec2-ping/infra-ec2-ping.yaml',
      args: [cli, 'validate', join(example, 'infra-ec2-ping.yaml')],
      goal: true,
    },
  ];
  const rows: BenchRow[] = [];
  try {
    timeRun([cli, 'import', join(example, 'nodes', 'node_definitions.yaml')], home);
    // Interleaved, so a burst of load on a shared machine hits every case alike.
    const samples = cases.map(() => [] as number[]);
    for (const c of cases) timeRun(c.args, home); // warms the OS file cache
    for (let i = 0; i < runs; i++) cases.forEach((c, k) => (samples[k] as number[]).push(timeRun(c.args, home)));
    cases.forEach((c, k) => {
      const ms = median(samples[k] as number[]);
      progress(`${c.label}: ${fixed(ms, 0)} ms`);
      rows.push({
        case: c.label,
        result: `${fixed(ms, 0)} ms (median of ${runs}; min ${fixed(Math.min(...(samples[k] as number[])), 0)} ms)`,
        goal: c.goal ? `< ${GOAL_MS} ms` : '',
        met: c.goal ? ms < GOAL_MS : null,
        data: { median_ms: ms, min_ms: Math.min(...(samples[k] as number[])), max_ms: Math.max(...(samples[k] as number[])), runs },
      });
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  return {
    id: 'startup',
    title: 'Start-up of the CLI (new process each run)',
    rows,
    notes: ['wall time from spawn to exit of the built CLI (dist/), private HOME, default SQLite store'],
    elapsed_s: (Date.now() - started) / 1000,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runAsScript((args) => startupBench({ quick: args.quick }));
}
