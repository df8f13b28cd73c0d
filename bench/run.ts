/**
 * `npm run bench`: runs every benchmark, each in its own process (so one's heap, JIT and open handles
 * cannot colour another's figures), prints one table with the goals next to the results, and writes
 * bench/results/latest.json.
 *
 *   npm run bench                     # all five (expects a fresh `npm run build`; the script builds first)
 *   npm run bench -- makespan rest    # some of them
 *   npm run bench -- --quick          # smaller sizes and shorter runs, for a smoke test
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BenchResult } from './lib/result.js';

interface Script {
  file: string;
  /** Result ids the script produces. */
  ids: string[];
  timeoutS: number;
}

const SCRIPTS: Script[] = [
  { file: 'startup.ts', ids: ['startup'], timeoutS: 120 },
  { file: 'makespan.ts', ids: ['makespan'], timeoutS: 360 },
  { file: 'maintenance.ts', ids: ['maintenance'], timeoutS: 180 },
  { file: 'rest.ts', ids: ['footprint', 'rest'], timeoutS: 300 },
];
const ORDER = ['makespan', 'maintenance', 'footprint', 'startup', 'rest'];

const benchDir = import.meta.dirname;
const repoRoot = resolve(benchDir, '..');

function gitCommit(): string | null {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function runScript(script: Script, quick: boolean, scratch: string): { results: BenchResult[]; error: string | null } {
  const out = join(scratch, `${script.file}.json`);
  process.stderr.write(`\n== ${script.file}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(benchDir, script.file), '--out', out, ...(quick ? ['--quick'] : [])], {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: script.timeoutS * 1000,
    killSignal: 'SIGKILL',
  });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal} (time limit ${script.timeoutS} s?)` : `exit code ${String(r.status)}`;
    return { results: [], error: `${script.file} failed: ${why}` };
  }
  return { results: JSON.parse(readFileSync(out, 'utf8')) as BenchResult[], error: null };
}

function table(results: BenchResult[]): string {
  const rows: string[][] = [['Benchmark', 'Case', 'Result', 'Goal', '']];
  for (const result of results) {
    result.rows.forEach((row, i) => {
      rows.push([i === 0 ? result.id : '', row.case, row.result, row.goal, row.met === null ? '' : row.met ? 'met' : 'MISSED']);
    });
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]): string => r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const wanted = argv.filter((a) => !a.startsWith('--'));
  const unknown = wanted.filter((w) => !ORDER.includes(w));
  if (unknown.length) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')} (choose from ${ORDER.join(', ')})\n`);
    process.exit(2);
  }
  const scripts = SCRIPTS.filter((s) => wanted.length === 0 || s.ids.some((id) => wanted.includes(id)));
  const scratch = mkdtempSync(join(tmpdir(), 'occopus-bench-run-'));
  const started = Date.now();
  const loadBefore = loadavg();
  const results: BenchResult[] = [];
  const errors: string[] = [];
  try {
    for (const script of scripts) {
      const { results: got, error } = runScript(script, quick, scratch);
      results.push(...got.filter((r) => wanted.length === 0 || wanted.includes(r.id)));
      if (error) errors.push(error);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  results.sort((a, b) => ORDER.indexOf(a.id) - ORDER.indexOf(b.id));
  const elapsed = (Date.now() - started) / 1000;
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}, load average ${loadBefore[0]?.toFixed(1)} → ${loadavg()[0]?.toFixed(1)}`;

  process.stdout.write(`\n${table(results)}\n\n`);
  for (const r of results) for (const note of r.notes) process.stdout.write(`${r.id}: ${note}\n`);
  process.stdout.write(`\n${machine}; ${elapsed.toFixed(0)} s in all${quick ? ' (--quick)' : ''}\n`);
  for (const e of errors) process.stdout.write(`ERROR: ${e}\n`);

  const resultsDir = join(benchDir, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, quick ? 'latest-quick.json' : 'latest.json');
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), commit: gitCommit(), machine, quick, elapsed_s: elapsed, errors, results }, null, 2)}\n`,
  );
  process.stdout.write(`results written to ${file}\n`);
  const missed = results.flatMap((r) => r.rows).filter((row) => row.met === false).length;
  // A missed goal is a finding, not a crash: only a benchmark that could not run fails the command.
  process.exitCode = errors.length ? 1 : 0;
  if (missed) process.stdout.write(`${missed} goal(s) missed\n`);
}

await main();
