// Linux /proc facts about a process, Node built-ins only (lock files on the hot path use them).
import {readFileSync} from 'node:fs';

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
