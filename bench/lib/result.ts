/**
 * What every benchmark hands back to the runner: rows of measurements, each with the goal it is held
 * to (if any), so the runner can print results and goals side by side and keep them as JSON.
 */
import { writeFileSync } from 'node:fs';

export interface BenchRow {
  /** The case, e.g. `20×5 parallel (limit 20)`. */
  case: string;
  /** The measurement as printed, e.g. `1.012`. */
  result: string;
  /** The goal as printed, e.g. `≤ 1.05`; empty when the row is informational. */
  goal: string;
  /** `null` when there is no goal for this row. */
  met: boolean | null;
  /** Raw figures for the JSON file (seconds, milliseconds, counts). */
  data: Record<string, number | string | boolean | null>;
}

export interface BenchResult {
  /** Short id: makespan, maintenance, footprint, startup, rest. */
  id: string;
  title: string;
  rows: BenchRow[];
  /** Anything a reader needs to interpret the rows (settings, caveats, causes of a missed goal). */
  notes: string[];
  /** Wall time of the whole benchmark, seconds. */
  elapsed_s: number;
}

export interface BenchArgs {
  /** Where the child writes its result (given by the runner). */
  out: string | null;
  /** Fewer repetitions and smaller sizes, for a smoke run. */
  quick: boolean;
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const outIndex = argv.indexOf('--out');
  return { out: outIndex >= 0 ? (argv[outIndex + 1] ?? null) : null, quick: argv.includes('--quick') };
}

/**
 * Runs a benchmark as a script: writes its results (a JSON array) where the runner asked, or prints
 * them. Exits the process afterwards, so a handle left open by a library cannot keep the bench alive.
 */
export async function runAsScript(body: (args: BenchArgs) => Promise<BenchResult | BenchResult[]>): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  try {
    const result = [await body(args)].flat();
    if (args.out) writeFileSync(args.out, JSON.stringify(result, null, 2));
    else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    process.exit(0);
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  }
}

export function progress(message: string): void {
  process.stderr.write(`  ${message}\n`);
}
