// The one stop ladder of every service, process and keeper: a signal, a wait until the target is
// gone, then the next, stronger signal. Node built-ins only (the keeper uses it and must start
// fast). A process group counts as gone when no live member is left (zombies are dead); without
// /proc, kill(-pgid, 0) decides.
import {existsSync, readdirSync} from 'node:fs';
import {pidAlive, procStat} from '../util/proc.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One process (gone when it has exited) or a whole process group (gone when no member is left). */
export type StopTarget = {pid: number} | {group: number};

export interface Rung {
  signal: NodeJS.Signals;
  /** How long to wait for the target to be gone before the next rung. */
  waitMs: number;
  /** Said when this rung is reached because the one before did not do it ("timed out; killed it"). */
  note?: string;
}

/** Whether any process of group `pgid` still exists (kill(-pgid, 0): works without /proc). */
export function groupAlive(pgid: number): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether this system shows processes in /proc (not macOS, not a namespace that hides it). */
export const procAvailable = (): boolean => existsSync('/proc/self/stat');

/** Pids whose process group is `pgid` (zombies excluded). */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  // Without /proc the members cannot be listed; the group leader's id stands for "someone is left".
  if (!procAvailable()) return groupAlive(pgid) ? [pgid] : out;
  if (!groupAlive(pgid)) return out;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const f = procStat(Number(e));
    if (f && Number(f[2]) === pgid && f[0] !== 'Z') out.push(Number(e));
  }
  return out;
}

export const gone = (t: StopTarget): boolean => ('pid' in t ? !pidAlive(t.pid) : groupMembers(t.group).length === 0);

/** Wait up to `ms` for the target to be gone; whether it is. */
export async function waitGone(t: StopTarget, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!gone(t)) {
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
  return true;
}

/**
 * Climb `rungs` until the target is gone: signal, wait, next. The notes of the rungs it had to
 * climb to go into `said`. Returns whether the target is gone at the end.
 */
export async function stopLadder(target: StopTarget, rungs: Rung[], said: string[] = []): Promise<boolean> {
  for (const [i, r] of rungs.entries()) {
    if (gone(target)) return true;
    if (i > 0 && r.note) said.push(r.note);
    try {
      process.kill('pid' in target ? target.pid : -target.group, r.signal);
    } catch {}
    if (await waitGone(target, r.waitMs)) return true;
  }
  return gone(target);
}

/** SIGKILL every process left in the group; returns how many there were. */
export async function killGroup(pgid: number): Promise<number> {
  const left = groupMembers(pgid);
  if (left.length) await stopLadder({group: pgid}, [{signal: 'SIGKILL', waitMs: 5000}]);
  return left.length;
}
