/**
 * The docker contextualisation as Occopus hands it to the engine (plugins §8): `command` is a list
 * (used as the container's argv) or a string split shell-style into one, as docker-py's
 * `shlex.split` does (no shell runs it: `sh -c /root/start.sh` is the argv
 * `['sh', '-c', '/root/start.sh']`); `env` is a list of `NAME=value` or a mapping.
 */
import { DriverError } from '../../errors.js';

/**
 * POSIX shell-style word splitting, like Python's `shlex.split(s)` (comments off): whitespace
 * separates words, single quotes keep everything, double quotes keep everything except that a
 * backslash escapes `\` and `"`, and a backslash outside quotes escapes any character.
 */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < command.length; i++) {
    const c = command[i] as string;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && (command[i + 1] === '\\' || command[i + 1] === '"')) word += command[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= command.length) throw new DriverError('command: no escaped character after the final backslash');
      word += command[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== null) throw new DriverError(`command: no closing quotation (${quote})`);
  if (inWord) words.push(word);
  return words;
}

/** The container's `Cmd`, or null to keep the image's default command. */
export function commandArgv(command: unknown): string[] | null {
  if (command === null || command === undefined) return null;
  if (typeof command === 'string') {
    const argv = splitCommand(command);
    return argv.length > 0 ? argv : null;
  }
  if (Array.isArray(command) && command.every((w) => typeof w === 'string')) {
    return command.length > 0 ? (command as string[]) : null;
  }
  throw new DriverError('contextualisation.command must be a string or a list of strings');
}

/** The container's `Env`: `NAME=value` strings. */
export function environment(env: unknown): string[] {
  if (env === null || env === undefined) return [];
  if (Array.isArray(env)) {
    return env.map((entry, i) => {
      if (typeof entry !== 'string') throw new DriverError(`contextualisation.env[${i}] must be a 'NAME=value' string`);
      return entry;
    });
  }
  if (typeof env === 'object') {
    return Object.entries(env as Record<string, unknown>).map(([name, value]) => {
      if (value !== null && typeof value === 'object') {
        throw new DriverError(`contextualisation.env.${name} must be a single value, not a list or a mapping`);
      }
      return `${name}=${value === null || value === undefined ? '' : String(value)}`;
    });
  }
  throw new DriverError("contextualisation.env must be a list of 'NAME=value' strings or a mapping");
}
