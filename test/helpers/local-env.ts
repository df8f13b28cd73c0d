/**
 * A private occopus installation for end-to-end tests of the engine on the `local` driver: its own
 * HOME, config, SQLite store, instance directory and loopback range, so test files running in
 * parallel never share addresses or processes.
 */
import { mkdirSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, type Sandbox } from './cli.js';

export interface LocalEnv extends Sandbox {
  baseDir: string;
  storePath: string;
  /** Pids of live processes whose working directory is inside the instance directory. */
  processes(): number[];
  /** The infra id: the last line of build's plain output. */
  infraIdOf(buildStdout: string): string;
}

let counter = 0;

export function localEnv(engine: Record<string, unknown> = {}): LocalEnv {
  const box = sandbox();
  const baseDir = join(box.home, 'local');
  const storePath = join(box.home, 'occopus.db');
  const octet = 100 + ((process.pid * 7 + counter++ * 13) % 150);
  const range = `127.${octet}.${(process.pid + counter) % 250}.0/24`;
  mkdirSync(join(box.home, '.occopus'), { recursive: true });
  writeFileSync(
    join(box.home, '.occopus', 'occopus_config.yaml'),
    JSON.stringify({
      store: `sqlite:${storePath}`,
      engine: { lease_ttl: 3, poll_interval: 0.2, create_timeout: 60, enactor_interval: 1, ...engine },
      drivers: { local: { base_dir: baseDir, stop_grace: 2, address_range: range } },
      logging: { level: 'warn' },
    }),
  );
  return {
    ...box,
    baseDir,
    storePath,
    processes() {
      const pids: number[] = [];
      for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        try {
          if (readlinkSync(`/proc/${entry}/cwd`).startsWith(baseDir)) pids.push(Number(entry));
        } catch {
          // gone, or not ours to read
        }
      }
      return pids;
    },
    infraIdOf(stdout) {
      const lines = stdout.trim().split('\n');
      return (lines[lines.length - 1] ?? '').trim();
    },
  };
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
