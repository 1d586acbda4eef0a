// [services] auto-start: services that follow the shell. A shell entering an allowed project
// marks itself (autostart/shells/<shell>-<pid>, written by the activation with a builtin) and
// starts `devenv __autostart <root>` detached. The first such process becomes the project's
// supervisor: it starts the auto-start units, then watches the marks; once no marked shell is
// alive (liveness by pid: one killed without leaving counts as gone) for GRACE_MS, it stops
// what it started and exits. A shell that leaves removes its mark.
import {appendFileSync, readdirSync, rmSync} from 'node:fs';
import {join} from 'node:path';
import {autoStartDir, autoStartShellsDir} from '../paths.js';
import {autoStartNames} from '../project/dotenv.js';
import {openProject} from '../project/project.js';
import {acquireLock, ensureDir, type HeldLock, parseJson, readFileOrNull, readJson} from '../util/fs.js';

/** A re-render (unload, then source) removes a mark and writes it again: not a leave. */
const GRACE_MS = 2000;
const POLL_MS = 400;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
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
export function shellsInside(root: string): ShellMark[] {
  const dir = autoStartShellsDir(root);
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

const supervisorFile = (root: string): string => join(autoStartDir(root), 'supervisor.json');

interface SupervisorState {
  pid: number;
  since: string;
  /** Units this supervisor started (and will stop); ones already running are not its own. */
  started: string[];
}

function readSupervisor(root: string): SupervisorState | undefined {
  const s = readJson<SupervisorState>(supervisorFile(root));
  // The file appears whole (util/fs.ts's lock): one that does not parse names no supervisor.
  return typeof s?.pid === 'number' && alive(s.pid) ? s : undefined;
}

/**
 * Become the supervisor, unless a live one exists: the supervisor file is the lock (util/fs.ts),
 * so two shells entering at once start one, and a dead supervisor's file is taken over once.
 */
function claim(root: string, state: SupervisorState): HeldLock | null {
  return acquireLock(supervisorFile(root), {content: JSON.stringify(state), owner: (t) => parseJson<SupervisorState>(t)?.pid, alive});
}

/** What `ps` shows: which shells keep the auto-started units up. */
export function autoStartStatus(root: string): {supervisor: number; since: string; units: string[]; shells: ShellMark[]} | undefined {
  const s = readSupervisor(root);
  if (!s) return undefined;
  return {supervisor: s.pid, since: s.since, units: s.started, shells: shellsInside(root)};
}

/** `devenv __autostart <root>`: the detached process a shell starts on entry. */
export async function autoStart(rootArg: string): Promise<void> {
  const {root} = openProject(rootArg);
  ensureDir(autoStartShellsDir(root));
  const log = (line: string) => {
    try {
      appendFileSync(join(autoStartDir(root), 'supervisor.log'), `${new Date().toISOString()} [${process.pid}] ${line}\n`);
    } catch {}
  };
  const {checkTrust} = await import('../trust/trust.js');
  if (!checkTrust(root).trusted) return log('not allowed: nothing started');
  const state: SupervisorState = {pid: process.pid, since: new Date().toISOString(), started: []};
  const held = claim(root, state);
  if (!held) return;
  const save = () => held.update(JSON.stringify(state));
  const {parseManifest} = await import('../manifest/parse.js');
  const {downAt, upDetached} = await import('./services.js');
  try {
    // Until no shell is inside, even after stopping (a shell may enter while we stop).
    while (shellsInside(root).length) {
      const text = readFileOrNull(join(root, 'devenv.toml')) ?? '';
      const names = autoStartNames(parseManifest(text) as {services?: unknown; processes?: unknown});
      if (!names.length) return log('no unit has auto-start');
      const io = {line: () => {}, note: (l: string) => log(l), colour: false};
      try {
        const up = await upDetached(root, names, io);
        state.started = [...new Set([...state.started, ...up.services.filter((s) => s.started).map((s) => s.name)])];
        save();
        log(`started ${state.started.join(', ') || 'nothing (already running)'}`);
      } catch (e) {
        log(`could not start: ${(e as Error).message}`);
      }
      let emptySince: number | undefined;
      for (;;) {
        await sleep(POLL_MS);
        if (shellsInside(root).length) emptySince = undefined;
        else if (emptySince === undefined) emptySince = Date.now();
        else if (Date.now() - emptySince >= GRACE_MS) break;
      }
      if (state.started.length) {
        const r = await downAt(root, state.started, () => {});
        log(`no shell inside: stopped ${r.services.filter((s) => s.stopped).map((s) => s.name).join(', ') || 'nothing'}${r.errors.length ? `; errors: ${r.errors.join('; ')}` : ''}`);
      }
      state.started = [];
      save();
    }
  } catch (e) {
    log(`failed: ${(e as Error).message}`);
  } finally {
    held.release();
  }
  // A shell that entered between our last look and the release found us running: take over again.
  if (shellsInside(root).length) await autoStart(root);
}
