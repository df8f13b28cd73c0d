/**
 * The built REST service (`occopus-rest-service`) as its own process for the benchmarks: a private
 * HOME with a config and an SQLite store, a random loopback port, no token (loopback only), and a
 * keep-alive HTTP client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const serviceBin = resolve(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'occopus-rest-service.js');

export interface RunningService {
  url: string;
  pid: number;
  child: ChildProcess;
  home: string;
  stderr(): string;
  /** Peak and current resident set size of the service process, in MiB (Linux /proc). */
  memory(): { peakMiB: number; rssMiB: number };
  stop(): Promise<void>;
}

export interface ServiceOptions {
  engine?: Record<string, unknown>;
  parallelize?: boolean;
  /** Extra node flags for the service process (e.g. --cpu-prof when looking for a cause). */
  nodeArgs?: string[];
}

export async function startService(options: ServiceOptions = {}): Promise<RunningService> {
  if (!existsSync(serviceBin)) throw new Error(`${serviceBin} is missing: run npm run build first`);
  const home = mkdtempSync(join(tmpdir(), 'occopus-bench-rest-'));
  mkdirSync(join(home, '.occopus'));
  const cfg = join(home, '.occopus', 'occopus_config.yaml');
  writeFileSync(
    cfg,
    JSON.stringify({ store: `sqlite:${join(home, 'occopus.db')}`, engine: options.engine ?? {}, logging: { level: 'warn' } }),
  );
  const args = [...(options.nodeArgs ?? []), serviceBin, '--cfg', cfg, '--host', '127.0.0.1', '--port', '0', '--no-auth', ...(options.parallelize ? ['--parallelize'] : [])];
  const child = spawn(process.execPath, args, {
    cwd: home,
    env: { PATH: process.env.PATH, HOME: home, USER: 'bench', LOGNAME: 'bench', LANG: 'C.UTF-8' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // A bench that fails or exits early must not leave the service running.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  let stderr = '';
  const started = new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`the REST service did not start within 30 s:\n${stderr}`)), 30_000);
    // The service announces its address on stderr ("REST service listening on http://...").
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-20_000);
      const found = /listening on (http:\/\/[^\s]+)/.exec(stderr);
      if (found?.[1]) {
        clearTimeout(timer);
        resolveUrl(found[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the REST service exited with ${String(code)}:\n${stderr}`));
    });
  });
  let url: string;
  try {
    url = await started;
  } catch (e) {
    child.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
    throw e;
  }
  child.stdout?.resume();
  const pid = child.pid as number;
  return {
    url,
    pid,
    child,
    home,
    stderr: () => stderr,
    memory() {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
      return { peakMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024 };
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((done) => child.once('exit', () => done()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      process.off('exit', killOnExit);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface HttpResult {
  status: number;
  body: string;
}

/** A keep-alive HTTP client for one origin, with as many sockets as concurrent callers. */
export function httpClient(baseUrl: string, maxSockets: number): { call(method: string, path: string, body?: string): Promise<HttpResult>; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const base = new URL(baseUrl);
  return {
    call(method, path, body) {
      return new Promise((resolveCall, reject) => {
        const req = request(
          {
            host: base.hostname,
            port: base.port,
            path,
            method,
            agent,
            headers: body !== undefined ? { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) } : {},
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolveCall({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
            res.on('error', reject);
          },
        );
        req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path}: no answer within 60 s`)));
        req.on('error', reject);
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}
