/**
 * What a local instance runs, worked out from the resolved node before anything is started:
 * the docker form (`command`, `env`), a `#cloud-config` subset, or a `#!` user-data script.
 * When a boot script is needed, user data enters it only as single-quoted words.
 */
import { DriverError } from '../../errors.js';
import { parseCloudConfig, type FileToWrite, type RunCommand } from './cloud-init.js';

/** The parts of a resolved node that decide what runs. */
export interface LaunchInput {
  /** Rendered user data (cloudinit contextualisation), if any. */
  context: string | null;
  /** Docker-form `command`: a string for `/bin/sh -c`, or an argument vector. */
  command: unknown;
  /** Docker-form `env`: `NAME=value` strings. */
  env: unknown;
}

export interface LaunchPlan {
  files: FileToWrite[];
  runcmd: RunCommand[];
  /** A `#!` user-data script, run once like cloud-init's scripts-user stage. */
  script: string | null;
  /** The node's main process; null means "stay up like an idle VM". */
  command: RunCommand | null;
  env: Record<string, string>;
  /** Things the user should hear about once (unsupported cloud-init keys, ignored entries). */
  warnings: string[];
}

/** Keeps an instance without a main command running, as a VM would be after boot. */
const IDLE = 'while :; do sleep 3600; done';

export const BOOT_SCRIPT = 'occopus-boot.sh';
export const USER_DATA_SCRIPT = 'user-data';

function noNul(s: string, field: string): string {
  if (s.includes('\0')) throw new DriverError(`${field} must not contain NUL characters`);
  return s;
}

function parseCommand(command: unknown): RunCommand | null {
  if (command === undefined || command === null) return null;
  if (typeof command === 'string') return command.trim() === '' ? null : { shell: noNul(command, 'command') };
  if (Array.isArray(command) && command.length > 0 && command.every((a): a is string => typeof a === 'string')) {
    return { argv: command.map((a) => noNul(a, 'command')) };
  }
  throw new DriverError('contextualisation command must be a string or a non-empty list of strings');
}

function parseEnv(env: unknown, warnings: string[]): Record<string, string> {
  if (env === undefined || env === null) return {};
  if (!Array.isArray(env)) throw new DriverError("contextualisation env must be a list of 'NAME=value' strings");
  const out: Record<string, string> = {};
  const skipped: string[] = [];
  env.forEach((entry: unknown, i) => {
    if (typeof entry !== 'string') throw new DriverError(`contextualisation env[${i}] must be a 'NAME=value' string`);
    const eq = entry.indexOf('=');
    if (eq <= 0) {
      skipped.push(entry);
      return;
    }
    out[noNul(entry.slice(0, eq), `env[${i}]`)] = noNul(entry.slice(eq + 1), `env[${i}]`);
  });
  if (skipped.length) warnings.push(`env entries without 'NAME=' are ignored: ${skipped.map((s) => `'${s}'`).join(', ')}`);
  return out;
}

export function planLaunch(input: LaunchInput): LaunchPlan {
  const warnings: string[] = [];
  const plan: LaunchPlan = {
    files: [],
    runcmd: [],
    script: null,
    command: parseCommand(input.command),
    env: parseEnv(input.env, warnings),
    warnings,
  };
  const context = input.context ?? '';
  if (context.startsWith('#cloud-config')) {
    const cc = parseCloudConfig(context);
    plan.files = cc.files;
    plan.runcmd = cc.runcmd;
    for (const r of cc.runcmd) for (const word of 'shell' in r ? [r.shell] : r.argv) noNul(word, 'runcmd');
    if (cc.unsupported.length) {
      warnings.push(`cloud-config keys not supported by the local driver were ignored: ${cc.unsupported.join(', ')}`);
    }
  } else if (context.startsWith('#!')) {
    plan.script = context;
  } else if (context.trim() !== '') {
    warnings.push("user data is neither '#cloud-config' nor a '#!' script; the local driver ignored it");
  }
  return plan;
}

/** `s` as one single-quoted shell word. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function commandLine(c: RunCommand, execIt: boolean): string {
  const words = 'shell' in c ? ['/bin/sh', '-c', c.shell] : c.argv;
  return (execIt ? 'exec ' : '') + words.map(shellQuote).join(' ');
}

/**
 * The boot script (runcmd in order, then the user-data script, then the main command or an idle
 * loop), or null when the main command can be started directly.
 */
export function bootScript(plan: LaunchPlan, userDataPath: string): string | null {
  if (plan.runcmd.length === 0 && plan.script === null) return null;
  const lines = ['#!/bin/sh', '# Written by occopus: cloud-init runcmd and user data, then the node command.'];
  for (const c of plan.runcmd) lines.push(commandLine(c, false));
  if (plan.script !== null) lines.push(shellQuote(userDataPath));
  lines.push(plan.command ? commandLine(plan.command, true) : IDLE);
  return lines.join('\n') + '\n';
}

/** The program and arguments to spawn; `bootScriptPath` is where {@link bootScript}'s text was written. */
export function launchArgv(plan: LaunchPlan, bootScriptPath: string | null): [string, string[]] {
  if (bootScriptPath !== null) return ['/bin/sh', [bootScriptPath]];
  const c = plan.command;
  if (c === null) return ['/bin/sh', ['-c', IDLE]];
  if ('shell' in c) return ['/bin/sh', ['-c', c.shell]];
  const [file, ...args] = c.argv;
  return [file ?? '', args];
}
