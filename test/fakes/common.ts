/**
 * Plumbing shared by the cloud fakes: a loopback HTTP server on a random port, fault injection
 * (latency, throttling, 5xx before or after the request took effect), a request log, timers that
 * die with the fake, and loopback address pools (so the engine's ping health check reaches the
 * "VMs" without any network).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoggedRequest {
  method: string;
  /** EC2: the Action; OpenStack: `METHOD /service/path` without the query. */
  operation: string;
  status: number;
  at: number;
}

/** One injected fault: the next `times` requests matching `match` get `status` instead of the real answer. */
export interface FaultRule {
  /** Which requests: EC2 Action name, or a regular expression over `METHOD /path`. */
  match?: string | RegExp;
  status: number;
  /** Provider error code (EC2 `<Code>`), or the OpenStack error title. */
  code?: string;
  message?: string;
  times: number;
  /** The request takes effect first and only the answer is lost (what makes a retry dangerous). */
  afterProcessing?: boolean;
  /** `Retry-After` seconds to send along. */
  retryAfter?: number;
}

export interface FaultHit {
  rule: FaultRule;
}

/** Fault rules and latency, consulted by a fake for every request. */
export class FaultInjector {
  private rules: FaultRule[] = [];
  latencyMs = 0;

  add(rule: FaultRule): void {
    this.rules.push({ ...rule });
  }

  clear(): void {
    this.rules = [];
    this.latencyMs = 0;
  }

  /** Pending faults (times left > 0). */
  pending(): number {
    return this.rules.reduce((n, r) => n + r.times, 0);
  }

  /** The first rule matching `operation` with tries left, consumed by one; or null. */
  take(operation: string): FaultRule | null {
    for (const rule of this.rules) {
      if (rule.times <= 0) continue;
      const m = rule.match;
      const hit = m === undefined || (typeof m === 'string' ? m === operation : m.test(operation));
      if (hit) {
        rule.times -= 1;
        return rule;
      }
    }
    return null;
  }
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface FakeHttp {
  server: Server;
  port: number;
  baseUrl: string;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 on a free port. */
export async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<FakeHttp> {
  const server = createServer(handler);
  // Clients keep connections alive; closing must not wait for them.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** setTimeout that never keeps the process alive and is cancelled when the fake closes. */
export class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();
  after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.pending.delete(t);
      fn();
    }, ms);
    t.unref();
    this.pending.add(t);
  }
  clear(): void {
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
  }
}

export function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

/**
 * Hands out distinct addresses of a /16: `127.<a>.x.y` for "public" ones (loopback, so `ping` works)
 * or any other prefix given.
 */
export class AddressPool {
  private next = 1;
  constructor(readonly prefix: string) {}
  take(): string {
    const n = this.next++;
    return `${this.prefix}.${Math.floor(n / 250) % 256}.${(n % 250) + 1}`;
  }
}

/** A random loopback /16 prefix such as `127.163`, clear of 127.0 and of the local driver's 127.77. */
export function randomLoopbackPrefix(): string {
  let a = 0;
  while (a === 0 || a === 77 || a === 1) a = 2 + Math.floor(Math.random() * 250);
  return `127.${a}`;
}

export function randomHex(n: number): string {
  let s = '';
  while (s.length < n) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}
