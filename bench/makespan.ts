/**
 * Benchmark 1: makespan against the critical path. Infrastructures of width × depth on the dummy
 * driver, each node taking a known time to be created and to become ready, are built through the
 * library API (the code path of `occopus-build`); the build time is divided by the critical-path
 * lower bound, depth × per-node time. Parallel runs use a concurrency limit as wide as the widest
 * level, so what is left above 1 is the engine's own overhead.
 */
import { buildInfrastructure } from '../src/api/infrastructure.js';
import type { EngineEvent } from '../src/events/events.js';
import { benchEngine, type DummyTimes } from './lib/harness.js';
import { progress, runAsScript, type BenchResult, type BenchRow } from './lib/result.js';
import { fixed } from './lib/stats.js';

export const SHAPES: readonly [number, number][] = [
  [1, 1],
  [50, 1],
  [1, 10],
  [20, 5],
  [200, 1],
];
export const GOAL_RATIO = 1.05;
const DEFAULT_PARALLELISM = 10;

export interface MakespanRun {
  width: number;
  depth: number;
  strategy: 'sequential' | 'parallel';
  parallelism: number;
  per_node_s: number;
  build_s: number;
  /** depth × per-node time. */
  critical_path_s: number;
  ratio: number;
  /** Mean per level: from its last node seen ready to the next level's first create. */
  level_gap_ms: number;
  /** Mean per level: how much later than (its last create request + per-node time) its last node was seen ready. */
  ready_lag_ms: number;
}

export async function buildOnce(width: number, depth: number, times: DummyTimes, strategy: 'sequential' | 'parallel', parallelism: number): Promise<MakespanRun> {
  const bench = await benchEngine(times, { strategy, parallelism });
  const events: EngineEvent[] = [];
  bench.engine.ctx.events.on((e) => events.push(e));
  try {
    const file = bench.writeInfra(width, depth);
    const t0 = Date.now();
    const result = await buildInfrastructure(bench.engine, file, { strategy, signal: new AbortController().signal });
    const buildMs = Date.now() - t0;
    const instances = Object.values(result.report.nodes).flatMap((n) => Object.values(n.instances));
    if (instances.length !== width * depth || instances.some((i) => i.state !== 'ready')) {
      throw new Error(`the ${width}×${depth} build did not end with every node ready`);
    }
    const perNode = times.create + times.ready;
    const critical = depth * perNode;
    return {
      width,
      depth,
      strategy,
      parallelism,
      per_node_s: perNode,
      build_s: buildMs / 1000,
      critical_path_s: critical,
      ratio: buildMs / 1000 / critical,
      ...levelTimings(events, depth, times),
    };
  } finally {
    await bench.close();
  }
}

/** Where the time above the critical path goes, from the engine's own events. */
function levelTimings(events: EngineEvent[], depth: number, times: DummyTimes): { level_gap_ms: number; ready_lag_ms: number } {
  const levelOf = (e: EngineEvent): number => Number(/^l(\d+)n/.exec(String(e.data['node_name']))?.[1] ?? -1);
  const gaps: number[] = [];
  const lags: number[] = [];
  for (let level = 0; level < depth; level++) {
    const created = events.filter((e) => e.name === 'nodecreated' && levelOf(e) === level).map((e) => e.timestamp);
    const creating = events.filter((e) => e.name === 'nodecreating' && levelOf(e) === level).map((e) => e.timestamp);
    const nextCreating = events.filter((e) => e.name === 'nodecreating' && levelOf(e) === level + 1).map((e) => e.timestamp);
    if (created.length === 0 || creating.length === 0) continue;
    const lastReady = Math.max(...created);
    // Each node of the level could be ready at the earliest per-node time after its own start.
    const earliest = Math.max(...creating) + (times.create + times.ready) * 1000;
    lags.push(Math.max(0, lastReady - earliest));
    if (nextCreating.length) gaps.push(Math.min(...nextCreating) - lastReady);
  }
  const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  return { level_gap_ms: mean(gaps), ready_lag_ms: mean(lags) };
}

export interface MakespanOptions {
  quick: boolean;
}

/** Median build of `reps` runs (the runs before it warm the JIT; the machine may be shared). */
async function medianRun(reps: number, build: () => Promise<MakespanRun>): Promise<MakespanRun & { runs: number; min_ratio: number; max_ratio: number }> {
  const runs: MakespanRun[] = [];
  for (let i = 0; i < reps; i++) runs.push(await build());
  runs.sort((a, b) => a.ratio - b.ratio);
  const mid = runs[Math.floor((runs.length - 1) / 2)] as MakespanRun;
  return { ...mid, runs: runs.length, min_ratio: (runs[0] as MakespanRun).ratio, max_ratio: (runs[runs.length - 1] as MakespanRun).ratio };
}

export async function makespanBench(options: MakespanOptions): Promise<BenchResult> {
  const started = Date.now();
  const times: DummyTimes = options.quick ? { create: 0.2, ready: 0.4 } : { create: 1, ready: 2 };
  // A sequential build of 200 nodes at 3 s each takes 10 minutes by definition; the sequential series
  // runs at a twentieth of the per-node time so the whole bench stays within its budget.
  const seqTimes: DummyTimes = { create: times.create / 20, ready: times.ready / 20 };
  const rows: BenchRow[] = [];
  // One throw-away build loads the driver and warms the JIT, as a long-running service would be.
  await buildOnce(2, 2, { create: 0, ready: 0 }, 'parallel', 2);

  for (const [width, depth] of SHAPES) {
    const limit = Math.max(width, DEFAULT_PARALLELISM);
    const reps = options.quick || depth * (times.create + times.ready) > 15 ? 1 : 3;
    progress(`makespan ${width}×${depth} parallel, limit ${limit} (${reps} run${reps > 1 ? 's' : ''})`);
    const run = await medianRun(reps, () => buildOnce(width, depth, times, 'parallel', limit));
    rows.push(row(`${width}×${depth} parallel, limit ${limit}`, run, `≤ ${GOAL_RATIO}`, run.ratio <= GOAL_RATIO));
  }

  progress(`makespan 200×1 parallel with a cloud-init contextualisation`);
  const withContext = await buildOnce(200, 1, { ...times, cloudInit: true }, 'parallel', 200);
  rows.push(row('200×1 parallel, limit 200, cloud-init rendered per node', withContext, '', null));

  progress(`makespan 200×1 parallel, default limit ${DEFAULT_PARALLELISM}`);
  const dflt = await buildOnce(200, 1, times, 'parallel', DEFAULT_PARALLELISM);
  const rounds = Math.ceil(200 / DEFAULT_PARALLELISM);
  rows.push(row(`200×1 parallel, default limit ${DEFAULT_PARALLELISM}`, dflt, `(${rounds} rounds: ≥ ${rounds})`, null));

  for (const [width, depth] of SHAPES) {
    progress(`makespan ${width}×${depth} sequential`);
    const run = await buildOnce(width, depth, seqTimes, 'sequential', 1);
    rows.push(row(`${width}×${depth} sequential (${fixed(seqTimes.create + seqTimes.ready, 2)} s nodes)`, run, `(≥ ${width})`, null));
  }

  return {
    id: 'makespan',
    title: 'Makespan ÷ critical path (depth × per-node time)',
    rows,
    notes: [
      ...(options.quick ? ['--quick: nodes of 0.6 s instead of 3 s make the same overhead weigh five times more; judge the goal on a full run'] : []),
      `parallel: each dummy node takes ${times.create} s to create + ${times.ready} s to become ready, memory store; median of 3 runs where the critical path is ≤ 15 s`,
      `sequential: ${seqTimes.create} s + ${seqTimes.ready} s per node (a twentieth, to fit the time budget); its lower bound is the width`,
      "lag: per level, how much later than (its last create request + per-node time) its last node was seen ready; gap: from there to the next level's first create",
    ],
    elapsed_s: (Date.now() - started) / 1000,
  };
}

function row(label: string, run: MakespanRun, goal: string, met: boolean | null): BenchRow {
  return {
    case: label,
    result: `${fixed(run.ratio, 3)}  (${fixed(run.build_s, 2)} s; lag ${fixed(run.ready_lag_ms, 0)} ms, gap ${fixed(run.level_gap_ms, 0)} ms per level)`,
    goal,
    met,
    data: { ...run },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runAsScript((args) => makespanBench({ quick: args.quick }));
}
