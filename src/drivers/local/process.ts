/**
 * Inspecting and signalling the process group of a local instance. A pid alone does not identify
 * a process (pids are reused), so every instance records its group leader's pid together with the
 * leader's start time, and nothing is ever signalled unless that pair still matches.
 *
 * Linux reads `/proc` directly; other systems ask `ps`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { sleep } from '../../util/abort.js';

/** A process as recorded by the driver: group leader pid plus its start time. */
export interface ProcessIdentity {
  pid: number;
  /** `/proc/<pid>/stat` field 22 (clock ticks since boot) on Linux, `ps -o lstart` elsewhere. */
  start_time: string;
}

interface ProcessStatus {
  pid: number;
  pgid: number;
  startTime: string;
  zombie: boolean;
}

const onLinux = process.platform === 'linux';

function parseProcStat(pid: number, text: string): ProcessStatus | null {
  // `comm` (field 2) is in parentheses and may itself contain spaces and parentheses.
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const rest = text.slice(close + 2).split(' ');
  const state = rest[0];
  const pgid = Number(rest[2]);
  const startTime = rest[19];
  if (state === undefined || startTime === undefined || !Number.isInteger(pgid)) return null;
  return { pid, pgid, startTime, zombie: state === 'Z' || state === 'X' };
}

function procStatus(pid: number): ProcessStatus | null {
  try {
    return parseProcStat(pid, readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** `ps` lines of the form `<pid> <pgid> <stat> <lstart...>`. */
function psStatuses(args: string[]): ProcessStatus[] {
  let out: string;
  try {
    out = execFileSync('ps', [...args, '-o', 'pid=,pgid=,stat=,lstart='], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return [];
  }
  const statuses: ProcessStatus[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.+?)\s*$/.exec(line);
    if (m) statuses.push({ pid: Number(m[1]), pgid: Number(m[2]), zombie: (m[3] ?? '').startsWith('Z'), startTime: m[4] ?? '' });
  }
  return statuses;
}

function statusOf(pid: number): ProcessStatus | null {
  if (!Number.isInteger(pid) || pid <= 1) return null;
  return onLinux ? procStatus(pid) : (psStatuses(['-p', String(pid)])[0] ?? null);
}

function allStatuses(): ProcessStatus[] {
  if (!onLinux) return psStatuses(['-A']);
  const statuses: ProcessStatus[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = procStatus(Number(entry));
    if (s) statuses.push(s);
  }
  return statuses;
}

/** The identity of a process we just started, or null if it is already gone. */
export function identify(pid: number): ProcessIdentity | null {
  const s = statusOf(pid);
  return s ? { pid, start_time: s.startTime } : null;
}

/** Whether the recorded process is still running: same pid, same start time, not a zombie. */
export function isAlive(id: ProcessIdentity): boolean {
  const s = statusOf(id.pid);
  return s !== null && !s.zombie && s.startTime === id.start_time;
}

function startOrder(t: string): number {
  return /^\d+$/.test(t) ? Number(t) : Date.parse(t);
}

/**
 * Live members of the recorded process group. A group outlives its leader while members remain, so
 * members are ours unless the group id now belongs to a different leader (a reused pid whose start
 * time differs) or they started before our leader did (then the group cannot be the one we made).
 */
export function liveGroupMembers(id: ProcessIdentity): number[] {
  const leader = statusOf(id.pid);
  if (leader && leader.startTime !== id.start_time) return [];
  const ourStart = startOrder(id.start_time);
  return allStatuses()
    .filter((s) => s.pgid === id.pid && !s.zombie && !(startOrder(s.startTime) < ourStart))
    .map((s) => s.pid);
}

function signalGroup(id: ProcessIdentity, signal: NodeJS.Signals): boolean {
  if (liveGroupMembers(id).length === 0) return false;
  try {
    process.kill(-id.pid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

async function waitForGroupExit(id: ProcessIdentity, ms: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (liveGroupMembers(id).length === 0) return true;
    if (Date.now() >= deadline || signal?.aborted) return false;
    await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
  }
}

/** How long SIGKILLed processes get to disappear before stopping counts as failed. */
const KILL_WAIT_MS = 5000;

/**
 * Stops the recorded process group: SIGTERM, up to `graceMs` for it to exit (cut short when `signal`
 * aborts), then SIGKILL. Returns false if members are still alive afterwards (e.g. stuck in the
 * kernel). A group that is not ours, or already gone, is left alone and counts as stopped.
 */
export async function stopGroup(id: ProcessIdentity, graceMs: number, signal?: AbortSignal): Promise<boolean> {
  if (graceMs > 0 && signalGroup(id, 'SIGTERM')) {
    if (await waitForGroupExit(id, graceMs, signal)) return true;
  }
  if (!signalGroup(id, 'SIGKILL')) return true;
  return waitForGroupExit(id, KILL_WAIT_MS);
}
