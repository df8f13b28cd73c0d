import type { Command } from 'commander';
import { OccopusError } from '../../errors.js';
import type { Logger, LogLevel } from '../../util/logger.js';
import type { OccopusApp } from '../../api/setup.js';
import { withApp, type GlobalOptions } from '../app.js';

interface ServeFlags extends GlobalOptions {
  host?: string;
  port?: string;
  parallelize?: boolean;
  auth: boolean;
}

const ORDER: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'silent'];

/** As the other engine commands: the config's log file at its level, else stderr at `warn` or above. */
function serviceLogger(app: OccopusApp, createLogger: typeof import('../../util/logger.js').createLogger): Logger {
  const { level, file } = app.configuration.logging;
  return file ? createLogger({ level, destination: file }) : createLogger({ level: ORDER.indexOf(level) < ORDER.indexOf('warn') ? 'warn' : level });
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the REST service (occopus-rest-service): the Occopus REST API, maintaining the infrastructures submitted to it')
    .option('--host <host>', 'address to listen on (default: the config\'s rest.host, 127.0.0.1)')
    .option('--port <port>', 'port to listen on (default: the config\'s rest.port, 5000; 0 picks a free one)')
    .option('--parallelize', 'create the nodes of a level in parallel')
    .option('--no-auth', 'do not require the API token (allowed only on a loopback address)')
    .action((_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<ServeFlags>();
      return withApp(flags, async (app, out) => {
        let port: number | undefined;
        if (flags.port !== undefined) {
          port = Number(flags.port);
          if (!/^\d+$/.test(flags.port) || port > 65535) throw new OccopusError('E_CONFIG', `--port must be a port number (0-65535), got '${flags.port}'`);
        }
        // Loaded when the command runs, so that `occopus --help` and the other commands do not pay for it.
        const [{ createRestService }, { createLogger }] = await Promise.all([import('../../rest/service.js'), import('../../util/logger.js')]);
        const service = await createRestService(app, {
          ...(flags.host !== undefined ? { host: flags.host } : {}),
          ...(port !== undefined ? { port } : {}),
          ...(flags.parallelize ? { strategy: 'parallel' as const } : {}),
          auth: flags.auth,
          log: serviceLogger(app, createLogger),
          notice: (m) => out.info(m),
        });

        let stopping: ((signal: NodeJS.Signals) => void) | null = null;
        const stopped = new Promise<NodeJS.Signals>((resolve) => {
          stopping = resolve;
        });
        let signals = 0;
        const onSignal = (signal: NodeJS.Signals): void => {
          signals++;
          if (signals === 1) stopping?.(signal);
          else process.exit(130);
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          const { url, resumed } = await service.start();
          const authText = service.token ? `bearer token from ${service.token.origin === 'env' ? '$OCCOPUS_API_TOKEN' : service.token.path}` : 'OFF (--no-auth)';
          out.info(`REST service listening on ${url} (authentication: ${authText}); API documentation at ${url}/docs`);
          if (resumed.length) out.info(`resumed maintaining ${resumed.length} infrastructure(s): ${resumed.join(', ')}`);
          if (out.json) out.data({ url, resumed });

          const signal = await stopped;
          const maintained = service.maintainers.list();
          out.info(
            `${signal}: stopping${maintained.length ? `; ${maintained.length} infrastructure(s) keep running and are resumed on the next start: ${maintained.join(', ')}` : ''} (press Ctrl+C again to exit at once)`,
          );
        } finally {
          await service.close();
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      });
    });
}
