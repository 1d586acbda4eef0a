// Language setup around the prompt: the hook starts it detached and says so; `__setup` runs it
// and re-renders the activation scripts so shells notice it finished (and show a failure once);
// exec waits for it. See languages/setup.ts.
import type {Project} from '../project/project.js';
import {spawn} from 'node:child_process';
import {appendFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {removeActivations, renderActivations} from '../activation/render.js';
import {type CacheEntry, readEntry} from '../cache/entries.js';
import {projectEnvironment} from '../services/environment.js';
import {computeKey} from '../cache/key.js';
import {readProjectState} from '../cache/project-state.js';
import type {EnvSpec} from '../env/spec.js';
import {describeSteps, markRunning, missingSetup, readSetupState, runningSetup, runSetup, setupLog, setupPlan, takeUnshownFailure} from '../languages/setup.js';
import {tilde} from '../paths.js';
import {checkTrust} from '../trust/trust.js';
import {writeFileAtomic} from '../util/fs.js';

/** Messages for the hook after loading: setup started or running, or a failure not yet shown. */
export function setupOnEntry(p: Project, spec: EnvSpec): string[] {
  const root = p.root;
  const out: string[] = [];
  const failure = takeUnshownFailure(p);
  if (failure) {
    out.push(`devenv: setup failed (${describeSteps([failure.step], p)}); keeping the last good environment:`);
    out.push(...failure.output.split('\n').map((l) => `  ${l}`));
    out.push(`devenv: fix it and save; 'devenv status' shows it again`);
  }
  const running = runningSetup(p);
  const plan = running ? undefined : setupPlan(p, spec);
  const steps = running?.steps ?? plan?.steps ?? [];
  if (!steps.length) return out;
  if (!running) {
    const bin = fileURLToPath(new URL('../../bin/run.js', import.meta.url));
    const child = spawn(process.execPath, [bin, '__setup', p.root], {detached: true, stdio: 'ignore', env: process.env});
    child.unref();
    // Recorded now, not when the child gets to it: status and the next prompt must see it running.
    if (child.pid) markRunning(p, child.pid, steps);
  }
  out.push(`devenv: ${describeSteps(steps, p)} in the background; the shell is usable now ('devenv status' shows progress)`);
  return out;
}

/** `__setup <root>`: run the setup of a trusted project, then make its shells re-check. */
export async function backgroundSetup(p: Project): Promise<void> {
  const root = p.root;
  if (!checkTrust(p).trusted) return;
  // The environment the hook serves: the current one, or the last good one while it re-evaluates.
  let hit = readEntry(computeKey(p).key);
  if (hit.status !== 'hit') {
    const last = readProjectState(p).lastGoodKey;
    if (last) hit = readEntry(last);
  }
  if (hit.status !== 'hit') return;
  const log = setupLog(p);
  writeFileAtomic(log, `devenv setup of ${root} at ${new Date().toISOString()}\n`);
  const env = (await projectEnvironment(p, hit.entry)).toProcessEnv();
  const res = await runSetup(p, hit.entry.spec, env, (b) => appendFileSync(log, b));
  if (!res.ran.length && !res.failed) return;
  // A fresh script is newer than every shell's stamp: their next prompt reloads it (resetting
  // the shell's command hash). After a failure the scripts go instead, so that prompt asks node,
  // which shows the failure once and renders them again.
  if (res.failed) removeActivations(p);
  else await renderActivations(p, hit.entry);
}

/** exec and run: wait for a running setup, or run a needed one in the foreground (output to stderr). */
export async function setupBeforeExec(p: Project, entry: CacheEntry): Promise<void> {
  const {spec} = entry;
  const root = p.root;
  if (!setupPlan(p, spec).steps.length && !runningSetup(p)) return;
  const env = (await projectEnvironment(p, entry)).toProcessEnv();
  const res = await runSetup(p, spec, env, (b) => process.stderr.write(b), () => process.stderr.write(`devenv: waiting for the setup of ${tilde(root)} to finish\n`));
  if (res.failed) {
    takeUnshownFailure(p);
    process.stderr.write(`devenv: setup failed (${describeSteps([res.failed.step], p)}); running with the last good environment\n`);
  }
}

export function setupStatus(p: Project) {
  const st = readSetupState(p);
  const running = runningSetup(p);
  const missing = missingSetup(p);
  return {
    running: running ? {pid: running.pid, since: running.since, steps: describeSteps(running.steps, p)} : undefined,
    failed: st.failed ? {step: describeSteps([st.failed.step], p), at: st.failed.at, output: st.failed.output} : undefined,
    lastOk: st.lastOk,
    /** Made once, deleted since: set up again at the next entry or exec. */
    ...(missing.length ? {missing} : {}),
  };
}
