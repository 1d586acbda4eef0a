// [services] auto-start's state: the shells inside a project and its supervisor's record. Read
// by `ps` (usecases/services.ts) and written by the supervisor (autostart.ts), which starts
// units through services.ts: kept apart so neither imports the other back.
import {readdirSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {autoStartDir, autoStartShellsDir} from '../paths.js';
import type {Project} from '../project/project.js';
import {readFileOrNull} from '../util/fs.js';

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

export function readSupervisor(p: Project): SupervisorState | undefined {
  const text = readFileOrNull(supervisorFile(p));
  if (text === null) return undefined;
  try {
    const s = JSON.parse(text) as SupervisorState;
    return typeof s.pid === 'number' && alive(s.pid) ? s : undefined;
  } catch {
    // Being written by a supervisor that just claimed it: count it as running.
    return {pid: 0, since: '', started: []};
  }
}

/** Become the supervisor, unless a live one exists. The file is created exclusively: two shells entering at once start one. */
export function claim(p: Project): boolean {
  const file = supervisorFile(p);
  for (let i = 0; i < 2; i++) {
    try {
      writeFileSync(file, JSON.stringify({pid: process.pid, since: new Date().toISOString(), started: []}), {flag: 'wx', mode: 0o600});
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (readSupervisor(p)) return false;
      rmSync(file, {force: true});
    }
  }
  return false;
}

export const save = (p: Project, s: SupervisorState): void => writeFileSync(supervisorFile(p), JSON.stringify(s), {mode: 0o600});

/** What `ps` shows: which shells keep the auto-started units up. */
export function autoStartStatus(p: Project): {supervisor: number; since: string; units: string[]; shells: ShellMark[]} | undefined {
  const s = readSupervisor(p);
  if (!s) return undefined;
  return {supervisor: s.pid, since: s.since, units: s.started, shells: shellsInside(p)};
}

export type AutoStartStatus = NonNullable<ReturnType<typeof autoStartStatus>>;
