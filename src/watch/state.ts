// The watcher's pid file, $XDG_STATE_HOME/devenv/watch.json: it is both the one-per-user lock
// (created with O_EXCL) and what `status` and `doctor` show. Built-ins only.
import {closeSync, openSync, readFileSync, unlinkSync, writeSync} from 'node:fs';
import {join} from 'node:path';
import {stateDir} from '../paths.js';
import {ensureDir, readJson, writeFileAtomic} from '../util/fs.js';
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

/** Take the per-user watcher lock, or report who holds it. A dead owner's file is taken over. */
export function acquireWatchLock(): AcquireResult {
  const file = watchFile();
  ensureDir(stateDir());
  let current: WatchFile = {pid: process.pid, since: new Date().toISOString()};
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, JSON.stringify(current) + '\n');
      closeSync(fd);
      const update = (patch: Partial<WatchFile>) => {
        current = {...current, ...patch};
        // Rename over: the file never disappears while we hold it, so O_EXCL still excludes others.
        if (readWatchFile()?.pid === process.pid) writeFileAtomic(file, JSON.stringify(current) + '\n');
      };
      const release = () => {
        if (readWatchFile()?.pid !== process.pid) return;
        try {
          unlinkSync(file);
        } catch {}
      };
      return {ok: true, release, update};
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = readWatchFile();
      if (owner && owner.pid !== process.pid && isWatcherPid(owner.pid)) return {ok: false, owner};
      if (!owner) {
        // Being written by a starting watcher right now, or garbage: give a writer a moment.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        const again = readWatchFile();
        if (again && isWatcherPid(again.pid)) return {ok: false, owner: again};
      }
      try {
        unlinkSync(file);
      } catch {}
    }
  }
  const owner = readWatchFile();
  return {ok: false, owner: owner ?? {pid: 0, since: ''}};
}
