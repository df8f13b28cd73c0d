/**
 * Logging through pino. The engine logs structured records; the CLI decides where they go (stderr
 * at `warn` by default, a file with the config's `logging.file`). Secrets are redacted by path, and
 * callers never pass auth data in the first place.
 */
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';

export type Logger = PinoLogger;
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

const REDACT = [
  'auth_data',
  '*.auth_data',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'secretkey',
  '*.secretkey',
  'token',
  '*.token',
];

export function createLogger(options: { level: LogLevel; destination?: DestinationStream | string | null }): Logger {
  const dest =
    typeof options.destination === 'string'
      ? pino.destination({ dest: options.destination, mkdir: true, sync: false })
      : options.destination ?? pino.destination(2);
  return pino({ level: options.level, redact: { paths: REDACT, censor: '***' }, base: null }, dest);
}

/** A logger that drops everything (library default and tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
