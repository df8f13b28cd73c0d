/**
 * The `basic` health check (runtime §2.2): ping, ports, urls and mysqldbs of one node.
 *
 * Unlike Occopus, which stops at the first failing component and probes one thing after another,
 * every probe runs at once (bounded by a semaphore that the caller shares across all the nodes of a
 * pass) and every failure is reported, so one silent port costs its own short timeout, not the pass.
 */
import type { HealthCheckSection } from '../descriptors/types.js';
import { renderHealthCheckStrings, type HealthCheckTemplateContext } from '../resolution/health-templates.js';
import { Semaphore } from '../util/semaphore.js';
import { httpUrl, mysqlDb, ping, tcpPort, type ProbeResult } from './checks.js';
import { healthCheckDefaults } from './schema.js';

/** Per-probe timeouts in milliseconds (Occopus: ping 1 s, HEAD 10 s, TCP and MySQL none). */
export const PING_TIMEOUT_MS = 2_000;
export const TCP_TIMEOUT_MS = 3_000;
export const HTTP_TIMEOUT_MS = 10_000;
export const MYSQL_TIMEOUT_MS = 5_000;

/** Probes in flight at once when the caller does not share a semaphore. */
export const DEFAULT_PROBE_CONCURRENCY = 16;

export interface ProbeTimeouts {
  ping: number;
  tcp: number;
  http: number;
  mysql: number;
}

export const DEFAULT_PROBE_TIMEOUTS_MS: Readonly<ProbeTimeouts> = Object.freeze({
  ping: PING_TIMEOUT_MS,
  tcp: TCP_TIMEOUT_MS,
  http: HTTP_TIMEOUT_MS,
  mysql: MYSQL_TIMEOUT_MS,
});

/** The node to check. `variables` and `instance_data` feed the url and mysqldbs templates. */
export interface HealthTarget {
  /** The node's primary address (runtime §2.3). */
  address: string;
  node_id: string;
  variables: HealthCheckTemplateContext['variables'];
  instance_data: HealthCheckTemplateContext['instance_data'];
  health_check?: HealthCheckSection;
}

export interface HealthCheckOptions {
  /** Shared by every check of one pass so that a large infrastructure does not open hundreds of sockets at once. */
  limiter?: Semaphore;
  /** Cancels the pass: running probes stop and the check throws an `E_CANCELLED` error. */
  signal?: AbortSignal;
  timeoutsMs?: Partial<ProbeTimeouts>;
  /** The ping executable; only tests change it. */
  pingCommand?: string;
}

export interface HealthCheckResult {
  ok: boolean;
  /** One line per failed probe, e.g. `port 80 refused`; empty when `ok`. */
  failures: string[];
}

/** Seconds of continuous failure before the node is `failed` (runtime §1.3), default 600. */
export function healthTimeoutSeconds(hc: HealthCheckSection | undefined): number {
  return hc?.timeout ?? healthCheckDefaults.timeout;
}

/**
 * Runs the node's health check once. Templates are rendered first, so a template error surfaces as
 * its typed error before any probe starts; a missing `ping` executable is an error, not a failure.
 */
export async function runHealthCheck(target: HealthTarget, options: HealthCheckOptions = {}): Promise<HealthCheckResult> {
  const hc = target.health_check ?? {};
  const timeouts = { ...DEFAULT_PROBE_TIMEOUTS_MS, ...options.timeoutsMs };
  const limiter = options.limiter ?? new Semaphore(DEFAULT_PROBE_CONCURRENCY);
  const signal = options.signal;
  const { address } = target;

  const rendered = renderHealthCheckStrings(hc, {
    ip: address,
    node_id: target.node_id,
    variables: target.variables,
    instance_data: target.instance_data,
  });

  const probes: (() => Promise<ProbeResult>)[] = [];
  if (hc.ping ?? healthCheckDefaults.ping) {
    probes.push(() =>
      ping(address, { timeoutMs: timeouts.ping, ...(signal ? { signal } : {}), ...(options.pingCommand ? { command: options.pingCommand } : {}) }),
    );
  }
  for (const port of hc.ports ?? []) {
    probes.push(() => tcpPort(address, port, { timeoutMs: timeouts.tcp, ...(signal ? { signal } : {}) }));
  }
  for (const url of rendered.urls) {
    probes.push(() => httpUrl(url, { timeoutMs: timeouts.http, ...(signal ? { signal } : {}) }));
  }
  for (const db of rendered.mysqldbs) {
    probes.push(() => mysqlDb(address, db, { timeoutMs: timeouts.mysql, ...(signal ? { signal } : {}) }));
  }

  // allSettled, not all: an error must not leave sibling probes running unobserved after we return.
  const outcomes = await Promise.allSettled(probes.map((probe) => limiter.run(probe)));
  const failures: string[] = [];
  for (const outcome of outcomes) {
    if (outcome.status === 'rejected') throw outcome.reason;
    if (!outcome.value.ok) failures.push(outcome.value.detail);
  }
  return { ok: failures.length === 0, failures };
}
