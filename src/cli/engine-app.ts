/** Plumbing of the engine commands: the engine on top of `setup()`, logging, Ctrl+C. */
import type { OccopusApp } from '../api/setup.js';
import { createEngine, type Engine } from '../api/engine.js';
import { createLogger, type LogLevel } from '../util/logger.js';
import { CancelledError } from '../util/abort.js';
import type { Output } from './output.js';
import type { EngineEvent } from '../events/events.js';

const ORDER: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'silent'];

/** Engine logs go to the config's log file at its level, else to stderr at `warn` or above. */
export function engineFor(app: OccopusApp): Engine {
  const { level, file } = app.configuration.logging;
  const log = file
    ? createLogger({ level, destination: file })
    : createLogger({ level: ORDER.indexOf(level) < ORDER.indexOf('warn') ? 'warn' : level });
  return createEngine(app, { log });
}

/** An AbortSignal fired by the first Ctrl+C (or SIGTERM); a second Ctrl+C exits at once. */
export function interruptSignal(out: Output): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let count = 0;
  const onSignal = (name: NodeJS.Signals): void => {
    count++;
    if (count === 1) {
      out.info(`${name}: cancelling, rolling back what this command created... (press Ctrl+C again to exit at once)`);
      controller.abort(new CancelledError(`interrupted by ${name}`));
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** One progress line per engine event, for humans, on stderr. */
export function describeEvent(e: EngineEvent): string | null {
  const d = e.data as Record<string, unknown>;
  const node = typeof d.node_name === 'string' ? d.node_name : '';
  const id = typeof d.node_id === 'string' ? d.node_id.slice(0, 8) : '';
  switch (e.name) {
    case 'nodecreating':
      return `${node}: creating instance ${id}`;
    case 'nodecreated': {
      const a = d.addresses as { public?: string[]; private?: string[] } | undefined;
      return `${node}: instance ${id} is ready at ${[...(a?.public ?? []), ...(a?.private ?? [])].filter((x, i, all) => all.indexOf(x) === i).join(', ')}`;
    }
    case 'nodedropping':
      return `${node}: dropping instance ${id} (${String(d.reason ?? '')})`;
    case 'nodedropped':
      return `${node}: instance ${id} dropped`;
    case 'nodefailed':
      return `${node}: instance ${id} failed${Array.isArray(d.details) && d.details.length ? `: ${d.details.join('; ')}` : ''}`;
    case 'nodeadopted':
      return `${node}: adopted instance ${id} left by an interrupted run`;
    case 'scaling':
      return `${node}: scaling to ${String(d.target)}${Array.isArray(d.notes) && d.notes.length ? ` (${d.notes.join('; ')})` : ''}`;
    case 'healthchanged':
      return `${node}: instance ${id} is now ${String(d.to)}`;
    case 'infraready':
      return 'infrastructure is ready';
    case 'error':
      return `error: ${String(d.message ?? '')}`;
    default:
      return null;
  }
}
