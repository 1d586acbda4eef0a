// [services] auto-start's state: the shells inside a project and its supervisor's record. Read
// by `ps` (usecases/services.ts) and written by the supervisor (autostart.ts), which starts
// units through services.ts: kept apart so neither imports the other back.
import {readdirSync, rmSync} from 'node:fs';
import {join} from 'node:path';
import {autoStartDir, autoStartShellsDir} from '../paths.js';
import type {Project} from '../project/project.js';
import {acquireLock, type HeldLock, parseJson, readJson} from '../util/fs.js';

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface ShellMark {
  shell: string;
  pid: number;
}

/** The shells inside now; marks of dead shells are removed. */
export function shellsInside(p: Project): ShellMark[] {
  const dir = autoStartShellsDir(p.stateDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: ShellMark[] = [];
  for (const n of names) {
    const m = /^(bash|zsh|fish)-(\d+)$/.exec(n);
    if (!m) continue;
    const mark = {shell: m[1], pid: Number(m[2])};
    if (alive(mark.pid)) out.push(mark);
    else rmSync(join(dir, n), {force: true});
  }
  return out.sort((a, b) => a.pid - b.pid);
}

export const supervisorFile = (p: Project): string => join(autoStartDir(p.stateDir), 'supervisor.json');

export interface SupervisorState {
  pid: number;
  since: string;
  /** Units this supervisor started (and will stop); ones already running are not its own. */
  started: string[];
}

function readSupervisor(p: Project): SupervisorState | undefined {
  const s = readJson<SupervisorState>(supervisorFile(p));
  // The file appears whole (util/fs.ts's lock): one that does not parse names no supervisor.
  return typeof s?.pid === 'number' && alive(s.pid) ? s : undefined;
}

/**
 * Become the supervisor, unless a live one exists: the supervisor file is the lock (util/fs.ts),
 * so two shells entering at once start one, and a dead supervisor's file is taken over once.
 */
export function claim(p: Project, state: SupervisorState): HeldLock | null {
  return acquireLock(supervisorFile(p), {content: JSON.stringify(state), owner: (t) => parseJson<SupervisorState>(t)?.pid, alive});
}

/** What `ps` shows: which shells keep the auto-started units up. */
export function autoStartStatus(p: Project): {supervisor: number; since: string; units: string[]; shells: ShellMark[]} | undefined {
  const s = readSupervisor(p);
  if (!s) return undefined;
  return {supervisor: s.pid, since: s.since, units: s.started, shells: shellsInside(p)};
}

export type AutoStartStatus = NonNullable<ReturnType<typeof autoStartStatus>>;
