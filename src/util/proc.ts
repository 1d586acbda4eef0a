// Linux /proc facts about a process, Node built-ins only (lock files on the hot path use them).
import {readFileSync} from 'node:fs';
import {uptime} from 'node:os';

/** /proc/<pid>/stat fields after the command name: [state, ppid, pgrp, session, ...]. */
export function procStat(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Whether a process exists and is not a zombie (a zombie is dead for our purposes). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // No /proc (macOS): trust kill(0).
  return procStat(pid)?.[0] !== 'Z';
}

/**
 * Who a recorded pid was: the boot it ran in and its start time. Pids get reused (within a
 * boot, and from zero after a reboot), so a recorded pid is only signalled when it still is
 * that process. Without /proc only the boot can be told (from the uptime), not the start time.
 */
export interface ProcIdentity {
  /** /proc/sys/kernel/random/boot_id, when readable. */
  boot?: string;
  /** The boot's time (s since the epoch), from the uptime: works without /proc. */
  bootAt: number;
  /** /proc/<pid>/stat starttime (clock ticks since boot). */
  start?: string;
}

export function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

const bootAt = (): number => Math.round(Date.now() / 1000 - uptime());

export const procStartTime = (pid: number): string | undefined => procStat(pid)?.[19];

export function identityOf(pid: number): ProcIdentity {
  return {boot: bootId(), bootAt: bootAt(), start: procStartTime(pid)};
}

/** Recorded in this boot (a record without identity, from an older devenv, is not). */
export function sameBoot(id: ProcIdentity | undefined): boolean {
  if (!id) return false;
  const boot = bootId();
  if (id.boot && boot) return id.boot === boot;
  // Seconds of slack for clock adjustments; no machine reboots that fast.
  return Math.abs(id.bootAt - bootAt()) < 30;
}

/** Whether `pid` is alive and still the process `id` recorded. */
export function isSameProcess(pid: number, id: ProcIdentity | undefined): boolean {
  if (!pidAlive(pid) || !sameBoot(id)) return false;
  const now = procStartTime(pid);
  // No start time on one side (no /proc): the boot is all that can be told.
  return !id!.start || !now || id!.start === now;
}
