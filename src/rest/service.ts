/**
 * The REST service: one engine, one InfrastructureManager (a maintenance loop per infrastructure in
 * this process), the HTTP app, and the restart/shutdown behaviour Occopus lacked: infrastructures
 * marked as maintained are resumed on start (and, while it runs, those other services sharing the
 * store mark, so it can take over from one that dies), and a stop ends every maintainer gracefully.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { OccopusApp } from '../api/setup.js';
import { createEngine, type Engine } from '../api/engine.js';
import { InfrastructureManager } from '../api/manager.js';
import type { ProcessStrategy } from '../infraprocessor/infraprocessor.js';
import { ConfigError } from '../errors.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { isLoopbackHost, resolveToken, type TokenSource } from './auth.js';
import { buildRestApp } from './app.js';
import { Maintainers } from './maintained.js';
import { RestMetrics } from './metrics.js';

export interface RestServiceOptions {
  /** Default: the config's `rest.host` (127.0.0.1). */
  host?: string;
  /** Default: the config's `rest.port` (5000); 0 picks a free port. */
  port?: number;
  /** Default: the config's `engine.strategy`. */
  strategy?: ProcessStrategy;
  /** `false` switches authentication off; refused unless the host is a loopback address. */
  auth?: boolean;
  log?: Logger;
  /** Environment for `$OCCOPUS_API_TOKEN` (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Home directory for `~/.occopus/api-token` (default $HOME). */
  home?: string;
  eventPollMs?: number;
  /** Tells the operator something once (startup, a generated token). Default: nothing. */
  notice?: (message: string) => void;
}

export interface RestService {
  http: FastifyInstance;
  engine: Engine;
  maintainers: Maintainers;
  metrics: RestMetrics;
  /** `null` when authentication is off. */
  token: TokenSource | null;
  host: string;
  /** Listens, resumes every infrastructure marked as maintained, and from then on follows the marks in the store. */
  start(): Promise<{ url: string; port: number; resumed: string[] }>;
  /** Stops taking requests, ends event streams, stops the maintainers (keeping their marks), closes the engine. */
  close(waitTimeoutS?: number): Promise<void>;
}

export function packageVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'occopus' && pkg.version) return pkg.version;
    } catch {
      // not at this level (source tree vs dist/)
    }
  }
  return '0.0.0';
}

export async function createRestService(app: OccopusApp, options: RestServiceOptions = {}): Promise<RestService> {
  const config = app.configuration;
  const host = options.host ?? config.rest.host;
  const port = options.port ?? config.rest.port;
  const auth = options.auth ?? true;
  if (!auth && !isLoopbackHost(host)) {
    throw new ConfigError(
      `refusing to listen on ${host} without authentication: --no-auth is allowed only on a loopback address (127.0.0.1, ::1, localhost)`,
    );
  }
  const notice = options.notice ?? (() => undefined);
  const token = auth
    ? resolveToken({
        tokenFile: config.rest.token_file,
        ...(options.env ? { env: options.env } : {}),
        ...(options.home ? { home: options.home } : {}),
      })
    : null;
  token?.warnings.forEach((w) => notice(`warning: ${w}`));
  if (token?.generated) {
    notice(
      `generated an API token, stored in ${token.path} (mode 0600); send it as 'Authorization: Bearer <token>'. ` +
        `It is shown this once:\n${token.token}`,
    );
  }

  const log = options.log ?? silentLogger();
  const engine = createEngine(app, { log });
  const metrics = new RestMetrics();
  const manager = new InfrastructureManager(engine, options.strategy ?? config.engine.strategy, {
    events: (infraId) => {
      const hooks = metrics.hooks(infraId);
      return {
        ...hooks,
        onError: (e, ms) => {
          hooks.onError?.(e, ms);
          log.warn({ infra_id: infraId, err: e instanceof Error ? e.message : String(e) }, 'maintenance pass failed');
        },
      };
    },
  });
  const maintainers = new Maintainers(manager, app.store, log, { leaseTtlMs: config.engine.lease_ttl * 1000 });
  const http = await buildRestApp({
    engine,
    maintainers,
    metrics,
    token: token?.token ?? null,
    rest: config.rest,
    allowCmd: config.templates.allow_cmd,
    log,
    version: packageVersion(),
    ...(options.eventPollMs !== undefined ? { eventPollMs: options.eventPollMs } : {}),
  });

  let closing: Promise<void> | null = null;
  return {
    http,
    engine,
    maintainers,
    metrics,
    token,
    host,
    async start() {
      try {
        await http.listen({ host, port });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
          throw new ConfigError(`cannot listen on ${host}:${port}: ${code}`);
        }
        throw e;
      }
      const address = http.server.address();
      const actualPort = typeof address === 'object' && address ? address.port : port;
      const shown = host.includes(':') ? `[${host}]` : host;
      const resumed = await maintainers.resume();
      // Follows the marks other services sharing the store add and remove, for fail-over between them.
      maintainers.startSync();
      return { url: `http://${shown}:${actualPort}`, port: actualPort, resumed };
    },
    close(waitTimeoutS = 60) {
      closing ??= (async () => {
        await http.close();
        await maintainers.shutdown(waitTimeoutS);
        await engine.close();
      })();
      return closing;
    },
  };
}
