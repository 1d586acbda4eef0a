// The watcher's pid file, $XDG_STATE_HOME/devenv/watch.json: it is both the one-per-user lock
// (util/fs.ts's lock: it appears whole, a dead owner's is taken over once) and what `status`
// and `doctor` show. Built-ins only.
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {stateDir} from '../paths.js';
import {acquireLock, ensureDir, parseJson, readJson} from '../util/fs.js';
import {pidAlive} from '../util/proc.js';

export interface LastEvaluation {
  root: string;
  at: string;
  durationMs: number;
  outcome: string;
}

export interface WatchFile {
  pid: number;
  since: string;
  projects?: string[];
  lastEvaluation?: LastEvaluation;
}

// Watcher state as seen by `status` and `doctor`.
export interface WatcherStatus {
  running: boolean;
  pid?: number;
  since?: string;
  projects?: string[];
  lastEvaluation?: LastEvaluation;
  /** watch.json names a process that is gone (killed with -9, machine crashed). */
  stale?: boolean;
}

export const watchFile = (): string => join(stateDir(), 'watch.json');

export function readWatchFile(): WatchFile | null {
  const w = readJson<WatchFile>(watchFile());
  return typeof w?.pid === 'number' ? w : null;
}

/** Alive, and (where /proc tells) still a devenv watcher rather than a reused pid. */
export function isWatcherPid(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes('watch');
  } catch {
    return true; // no /proc (macOS): trust kill(0)
  }
}

export function watcherStatus(): WatcherStatus {
  const w = readWatchFile();
  if (!w) return {running: false};
  const running = isWatcherPid(w.pid);
  return {running, pid: w.pid, since: w.since, projects: w.projects, lastEvaluation: w.lastEvaluation, ...(running ? {} : {stale: true})};
}

export type AcquireResult = {ok: true; release: () => void; update: (patch: Partial<WatchFile>) => void} | {ok: false; owner: WatchFile};

/** Take the per-user watcher lock, or report who holds it. A dead owner's file is taken over (util/fs.ts's lock). */
export function acquireWatchLock(): AcquireResult {
  const file = watchFile();
  ensureDir(stateDir());
  let current: WatchFile = {pid: process.pid, since: new Date().toISOString()};
  const json = () => JSON.stringify(current) + '\n';
  const held = acquireLock(file, {content: json(), owner: (t) => parseJson<WatchFile>(t)?.pid, alive: (pid) => pid !== process.pid && isWatcherPid(pid)});
  if (!held) return {ok: false, owner: readWatchFile() ?? {pid: 0, since: ''}};
  const update = (patch: Partial<WatchFile>) => {
    current = {...current, ...patch};
    // Renamed over: the file never disappears while we hold it, so others stay excluded.
    held.update(json());
  };
  return {ok: true, release: held.release, update};
}
