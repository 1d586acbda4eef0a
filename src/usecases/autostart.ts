// [services] auto-start: services that follow the shell. A shell entering an allowed project
// marks itself (autostart/shells/<shell>-<pid>, written by the activation with a builtin) and
// starts `devenv __autostart <root>` detached. The first such process becomes the project's
// supervisor: it starts the auto-start units, then watches the marks; once no marked shell is
// alive (liveness by pid: one killed without leaving counts as gone) for GRACE_MS, it stops
// what it started and exits. A shell that leaves removes its mark.
import {appendFileSync} from 'node:fs';
import {join} from 'node:path';
import {autoStartDir, autoStartShellsDir} from '../paths.js';
import {autoStartNames} from '../project/dotenv.js';
import type {Project} from '../project/project.js';
import {ensureDir} from '../util/fs.js';
import {claim, shellsInside, type SupervisorState} from './autostart-state.js';

/** A re-render (unload, then source) removes a mark and writes it again: not a leave. */
const GRACE_MS = 2000;
const POLL_MS = 400;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export {autoStartStatus, shellsInside, type ShellMark} from './autostart-state.js';

/** `devenv __autostart <root>`: the detached process a shell starts on entry. */
export async function autoStart(p: Project): Promise<void> {
  ensureDir(autoStartShellsDir(p.stateDir));
  const log = (line: string) => {
    try {
      appendFileSync(join(autoStartDir(p.stateDir), 'supervisor.log'), `${new Date().toISOString()} [${process.pid}] ${line}\n`);
    } catch {}
  };
  const {checkTrust} = await import('../trust/trust.js');
  if (!checkTrust(p).trusted) return log('not allowed: nothing started');
  const state: SupervisorState = {pid: process.pid, since: new Date().toISOString(), started: []};
  const held = claim(p, state);
  if (!held) return;
  const save = () => held.update(JSON.stringify(state));
  const {manifestOrEmpty} = await import('../project/manifest.js');
  const {downAt, upDetached} = await import('./services.js');
  try {
    // Until no shell is inside, even after stopping (a shell may enter while we stop).
    while (shellsInside(p).length) {
      // Read again each round (memoised per content): an edit while shells are inside counts.
      const names = autoStartNames(manifestOrEmpty(p) as {services?: unknown; processes?: unknown});
      if (!names.length) return log('no unit has auto-start');
      const io = {line: () => {}, note: (l: string) => log(l), colour: false};
      try {
        const up = await upDetached(p, names, io);
        state.started = [...new Set([...state.started, ...up.services.filter((s) => s.started).map((s) => s.name)])];
        save();
        log(`started ${state.started.join(', ') || 'nothing (already running)'}`);
      } catch (e) {
        log(`could not start: ${(e as Error).message}`);
      }
      let emptySince: number | undefined;
      for (;;) {
        await sleep(POLL_MS);
        if (shellsInside(p).length) emptySince = undefined;
        else if (emptySince === undefined) emptySince = Date.now();
        else if (Date.now() - emptySince >= GRACE_MS) break;
      }
      if (state.started.length) {
        const r = await downAt(p, state.started, () => {});
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
  if (shellsInside(p).length) await autoStart(p);
}
