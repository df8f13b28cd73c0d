/** How the command-line tools talk to the user: results on stdout, diagnostics on stderr. */
import { isOccopusError, messageOf } from '../errors.js';

export interface Output {
  json: boolean;
  result(text: string): void;
  /** Machine-readable result for `--json`. */
  data(value: unknown): void;
  warn(message: string): void;
  info(message: string): void;
}

export function consoleOutput(json: boolean): Output {
  return {
    json,
    result: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    data: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    warn: (message) => process.stderr.write(`occopus: warning: ${message}\n`),
    info: (message) => process.stderr.write(`occopus: ${message}\n`),
  };
}

/**
 * Exit codes: 0 success, 1 the request failed (bad input, failed build, ...), 2 wrong usage
 * (commander), 130 interrupted. User errors print one message and no stack trace; an unexpected
 * error prints its stack only with OCCOPUS_DEBUG=1.
 */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

export function reportError(e: unknown, json: boolean): number {
  const known = isOccopusError(e);
  const message = known ? e.describe() : `internal error: ${messageOf(e)}`;
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ error: { code: known ? e.code : 'E_INTERNAL', message } }, null, 2)}\n`,
    );
  }
  process.stderr.write(`occopus: error: ${message.replace(/\n/g, '\n  ')}\n`);
  if (!known && process.env.OCCOPUS_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  if (!known && !process.env.OCCOPUS_DEBUG) process.stderr.write('occopus: set OCCOPUS_DEBUG=1 for details\n');
  return known && e.code === 'E_CANCELLED' ? EXIT_INTERRUPTED : EXIT_FAILURE;
}
