/**
 * The functions templates call (formats §5.3, §5.4): getip, getprivip, getipall, cut, cmd.
 * `find_node_id` and `ibget` are not provided: they exposed Occopus internals.
 */
import { execFileSync } from 'node:child_process';
import { TemplateError } from '../errors.js';
import { pyRepr, pyTruthy } from './python-str.js';
import type { AddressLookup, InstanceAddresses } from './types.js';

export interface HelperOptions {
  lookup: AddressLookup;
  allowCmd: boolean;
  warn: (message: string) => void;
}

export interface TemplateHelpers {
  getip(name?: unknown): string | null;
  getprivip(name?: unknown): string | null;
  getipall(name?: unknown): (string | null)[];
  cut(value?: unknown, start?: unknown, end?: unknown): unknown;
  cmd(command?: unknown): string;
}

/** What `cmd()` returns when the command fails; the text Occopus puts into the user data. */
export const CMD_FAILED_TEXT = 'Command in cloud-init failed. See Occopus log for details!';
const CMD_TIMEOUT_MS = 30_000;

export function createHelpers({ lookup, allowCmd, warn }: HelperOptions): TemplateHelpers {
  const instances = (helper: string, name: unknown, all: boolean): InstanceAddresses[] => {
    const anyNode = !pyTruthy(name);
    if (anyNode) {
      warn(
        `${helper}() was called with an empty or undefined node name, so it uses the instances of all ` +
          'nodes of the infrastructure (Occopus behaviour); check the name passed to it',
      );
    }
    const found = lookup.instancesOf(anyNode ? null : String(name));
    if (found.length === 0) {
      throw new TemplateError(`No node exists with the given name: ${pyRepr(name ?? null)}`);
    }
    if (!all && found.length > 1) {
      warn(`${helper}(${pyRepr(name ?? null)}): there are ${found.length} instances of that node; using the first one`);
    }
    return found;
  };

  const first = (helper: string, name: unknown, pick: (a: InstanceAddresses) => string | undefined): string | null => {
    const [instance] = instances(helper, name, false);
    const address = instance ? pick(instance) : undefined;
    if (address === undefined) {
      warn(`${helper}(${pyRepr(name ?? null)}): the instance has no address yet; the template gets None`);
      return null;
    }
    return address;
  };

  const publicFirst = (a: InstanceAddresses): string | undefined => a.public[0] ?? a.private[0];
  const privateFirst = (a: InstanceAddresses): string | undefined => a.private[0] ?? a.public[0];

  return {
    getip: (name) => first('getip', name, publicFirst),
    getprivip: (name) => first('getprivip', name, privateFirst),
    getipall: (name) => instances('getipall', name, true).map((a) => publicFirst(a) ?? null),
    cut: (value, start, end) => cut(value, start, end),
    cmd: (command) => runCommand(command, allowCmd, warn),
  };
}

/** Python `value[start:end]` on a string (by code point) or a list. */
export function cut(value: unknown, start?: unknown, end?: unknown): unknown {
  if (value === undefined || value === null) {
    throw new TemplateError(`cut(): the value to cut is ${value === null ? 'None' : 'undefined'}`);
  }
  const index = (v: unknown, which: string): number | null => {
    if (v === undefined || v === null) return null;
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    throw new TemplateError(`cut(): the ${which} index must be an integer or None, got ${pyRepr(v)}`);
  };
  const a = index(start, 'start');
  const b = index(end, 'end');
  const items = typeof value === 'string' ? Array.from(value) : Array.isArray(value) ? value : null;
  if (items === null) throw new TemplateError(`cut(): cannot slice ${pyRepr(value)}; pass a string or a list`);
  const len = items.length;
  const clamp = (i: number | null, dflt: number): number =>
    i === null ? dflt : i < 0 ? Math.max(len + i, 0) : Math.min(i, len);
  const from = clamp(a, 0);
  const to = clamp(b, len);
  const slice = to > from ? items.slice(from, to) : [];
  return typeof value === 'string' ? slice.join('') : slice;
}

function runCommand(command: unknown, allowCmd: boolean, warn: (m: string) => void): string {
  if (!allowCmd) {
    throw new TemplateError(
      'cmd() is disabled: it runs a command on the Occopus host. To allow it, set ' +
        '`templates: {allow_cmd: true}` in the Occopus config file',
    );
  }
  const text = typeof command === 'string' ? command : '';
  const [file, ...args] = text.split(/\s+/).filter((part) => part !== '');
  if (file === undefined) {
    warn('cmd() was called without a command');
    return CMD_FAILED_TEXT;
  }
  warn(`cmd() runs a local command on the Occopus host: ${text}`);
  try {
    return execFileSync(file, args, {
      encoding: 'utf8',
      timeout: CMD_TIMEOUT_MS,
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (e) {
    warn(`cmd() failed for '${text}': ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    return CMD_FAILED_TEXT;
  }
}
