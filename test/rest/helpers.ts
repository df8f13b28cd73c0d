/**
 * The REST service for tests: a private HOME, config and SQLite store, the `dummy` driver, a random
 * loopback port, and small HTTP helpers that talk to it over a real socket.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setup, type OccopusApp } from '../../src/api/setup.js';
import { createRestService, type RestService, type RestServiceOptions } from '../../src/rest/service.js';

export const TOKEN = 'test-token-0123456789abcdef';

/** Node types of the dummy cloud: ready 0.2 s after creation, no ping. */
export const DUMMY_NODES = `
'node_def:dummy_server':
  - resource: {type: dummy, ready_delay: 0.2}
    health_check: {ping: false}
'node_def:dummy_client':
  - resource: {type: dummy, ready_delay: 0.2}
    health_check: {ping: false}
`;

export const INFRA = `
infra_name: rest-test
user_id: tester@example.com
nodes:
  - &S {name: server, type: dummy_server}
  - &C {name: client, type: dummy_client, scaling: {min: 1, max: 3}}
dependencies:
  - [*C, *S]
`;

export interface Home {
  dir: string;
  configPath: string;
  storePath: string;
  cleanup(): void;
}

/** A private HOME with a config for fast maintenance (short passes, short leases). */
export function makeHome(rest: Record<string, unknown> = {}, engine: Record<string, unknown> = {}): Home {
  const dir = mkdtempSync(join(tmpdir(), 'occopus-rest-'));
  mkdirSync(join(dir, '.occopus'), { recursive: true });
  const storePath = join(dir, 'occopus.db');
  const configPath = join(dir, '.occopus', 'occopus_config.yaml');
  writeFileSync(
    configPath,
    JSON.stringify({
      store: `sqlite:${storePath}`,
      engine: { enactor_interval: 0.3, lease_ttl: 3, poll_interval: 0.1, create_timeout: 30, ...engine },
      logging: { level: 'warn' },
      rest,
    }),
  );
  return { dir, configPath, storePath, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Running {
  home: Home;
  app: OccopusApp;
  service: RestService;
  url: string;
  notices: string[];
  /** fetch with the token (unless headers say otherwise). */
  api(method: string, path: string, body?: string, headers?: Record<string, string>): Promise<Response>;
  json<T = Record<string, unknown>>(method: string, path: string, body?: string): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

export async function startService(
  options: { rest?: Record<string, unknown>; engine?: Record<string, unknown>; service?: RestServiceOptions; home?: Home } = {},
): Promise<Running> {
  const home = options.home ?? makeHome(options.rest, options.engine);
  const app = await setup({ cfg: home.configPath, env: { HOME: home.dir }, cwd: home.dir, user: 'rest-test' });
  const notices: string[] = [];
  const service = await createRestService(app, {
    port: 0,
    env: { OCCOPUS_API_TOKEN: TOKEN },
    home: home.dir,
    eventPollMs: 100,
    notice: (m) => notices.push(m),
    ...options.service,
  });
  const { url } = await service.start();
  const api = (method: string, path: string, body?: string, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...headers },
      ...(body !== undefined ? { body } : {}),
      signal: AbortSignal.timeout(30_000),
    });
  return {
    home,
    app,
    service,
    url,
    notices,
    api,
    async json<T>(method: string, path: string, body?: string) {
      const res = await api(method, path, body);
      return { status: res.status, body: (await res.json()) as T };
    },
    async stop() {
      await service.close(10);
      await app.close();
      if (!options.home) home.cleanup();
    },
  };
}

/** A raw request with exactly the headers given (e.g. no Content-Type, as Python's requests sends). */
export function rawRequest(
  url: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('request timed out')));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export interface SseMessage {
  id: string | null;
  event: string | null;
  data: string;
}

/** Reads an SSE stream until `until` says stop (or the stream ends); returns the messages read. */
export async function readSse(
  res: Response,
  until: (messages: SseMessage[]) => boolean,
  timeoutMs = 20_000,
): Promise<SseMessage[]> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const messages: SseMessage[] = [];
  let buffer = '';
  const deadline = setTimeout(() => void reader.cancel(), timeoutMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const m: SseMessage = { id: null, event: null, data: '' };
        let any = false;
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) (m.id = line.slice(4)), (any = true);
          else if (line.startsWith('event: ')) (m.event = line.slice(7)), (any = true);
          else if (line.startsWith('data: ')) (m.data += line.slice(6)), (any = true);
        }
        if (any && m.event !== null) messages.push(m);
      }
      if (until(messages)) break;
    }
  } finally {
    clearTimeout(deadline);
    await reader.cancel().catch(() => undefined);
  }
  return messages;
}

/** Polls until `check` returns a value other than undefined. */
export async function waitFor<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface ReportNode {
  instances: Record<string, { resource_address: string | string[] | null; state: string }>;
  scaling: { actual: number; target: number; min: number; max: number };
}

/** Waits until every node of the report has `counts[node]` instances, all ready. */
export async function waitForCounts(
  get: () => Promise<Record<string, unknown>>,
  counts: Record<string, number>,
  timeoutMs = 20_000,
): Promise<Record<string, ReportNode>> {
  let last: unknown = null;
  return waitFor(
    async () => {
      const report = (await get()) as Record<string, ReportNode>;
      last = report;
      for (const [node, n] of Object.entries(counts)) {
        const states = Object.values(report[node]?.instances ?? {}).map((i) => i.state);
        if (states.length !== n || !states.every((s) => s === 'ready')) return undefined;
      }
      return report;
    },
    `instance counts ${JSON.stringify(counts)}`,
    timeoutMs,
  ).catch((e: unknown) => {
    throw new Error(`${String(e)}; last report: ${JSON.stringify(last)}`);
  });
}

