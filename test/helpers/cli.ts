/** Runs the built command-line tools as a user would: a real process, a private HOME, exit codes. */
import { spawnSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const sharedExamples = resolve(repoRoot, '..', 'shared', 'examples');
export const distCli = (tool = 'occopus'): string => join(repoRoot, 'dist', 'src', 'cli', `${tool}.js`);

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  home: string;
  env: NodeJS.ProcessEnv;
  run(args: string[], options?: { tool?: string; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): CliResult;
  spawn(args: string[], options?: { tool?: string; cwd?: string; env?: NodeJS.ProcessEnv }): ChildProcess;
  cleanup(): void;
}

/** A private HOME (so ~/.occopus is the sandbox's) and an environment without the developer's settings. */
export function sandbox(): Sandbox {
  const home = mkdtempSync(join(tmpdir(), 'occopus-e2e-'));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, USER: 'e2e', LOGNAME: 'e2e', LANG: 'C.UTF-8' };
  return {
    home,
    env,
    run(args, options = {}) {
      const r = spawnSync(process.execPath, [distCli(options.tool), ...args], {
        cwd: options.cwd ?? home,
        env: { ...env, ...options.env },
        encoding: 'utf8',
        timeout: options.timeoutMs ?? 60_000,
      });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    spawn(args, options = {}) {
      return spawn(process.execPath, [distCli(options.tool), ...args], {
        cwd: options.cwd ?? home,
        env: { ...env, ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    },
    cleanup() {
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A user error is one message, never a stack trace. */
export function assertNoStackTrace(text: string): void {
  if (/^\s+at .+\(.*:\d+:\d+\)$/m.test(text) || /node:internal/.test(text)) {
    throw new Error(`output contains a stack trace:\n${text}`);
  }
}
