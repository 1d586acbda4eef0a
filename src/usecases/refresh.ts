// `devenv reload` and `devenv update`, and the hook's background re-evaluation (`__refresh`).
import {spawn} from 'node:child_process';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {NixFailedError} from '../errors.js';
import {activationPath, removeActivations, renderActivations, touchTrustEpoch} from '../activation/render.js';
import {readProjectState, updateProjectState} from '../cache/project-state.js';
import {isTransient} from '../errors.js';
import type {EnsureResult} from '../evaluation/evaluate.js';
import {exists, tryLock} from '../util/fs.js';
import {nixpkgsOverride} from '../nix/nix.js';
import {type Project, reopen} from '../project/project.js';
import {checkTrust, keepTrustAcross} from '../trust/trust.js';

export async function reloadProject(p: Project, opts: {strict?: boolean} = {}) {
  const {root} = p;
  const start = Date.now();
  const {ensureEnvironment} = await import('../evaluation/evaluate.js');
  const res = await ensureEnvironment(p, {force: true, strict: opts.strict, progress: true, explainsFallback: true});
  // An explicit reload needs no allow, but only a trusted project gets scripts the hook loads.
  const trusted = checkTrust(p).trusted;
  if (trusted) await renderActivations(p, res.entry);
  else removeActivations(p);
  touchTrustEpoch();
  // durationMs: nix print-dev-env alone; elapsedMs: the whole re-evaluation the user waited for.
  // A failure is told with its cause every time, as status tells it (the hook says it once).
  const failed = res.error ? {message: res.error.message, hint: res.error.hint, error: res.error.code, since: res.entry.createdAt} : undefined;
  return {root, source: res.source, key: res.entry.key, durationMs: res.entry.durationMs, elapsedMs: Date.now() - start, trusted, failed};
}

export async function updateProject(p: Project) {
  let note: string | undefined;
  if (nixpkgsOverride()) {
    note = `devenv: DEVENV_NIXPKGS overrides nixpkgs (${nixpkgsOverride()}); flake.lock left as it is`;
  } else {
    const {runOnFlake} = await import('../evaluation/flake-run.js');
    // Nix 2.19 and later read `flake update`'s arguments as input names and take the flake
    // with --flake ('path:.' was "invalid flake input"); Nix before 2.19 knows no --flake.
    const update = () =>
      runOnFlake(p, ['flake', 'update'], 'nix flake update', {refFlag: '--flake'}).catch((e: unknown) => {
        if (e instanceof NixFailedError && /unrecogni[sz]ed flag '--flake'/.test(e.stderr)) return runOnFlake(p, ['flake', 'update'], 'nix flake update');
        throw e;
      });
    await keepTrustAcross(p, update);
  }
  const res = await reloadProject(reopen(p), {strict: true});
  return {...res, note};
}

/** Start a detached re-evaluation; `__refresh` itself makes sure only one runs per project. */
export function refreshInBackground(p: Project): void {
  const bin = fileURLToPath(new URL('../../bin/run.js', import.meta.url));
  const child = spawn(process.execPath, [bin, '__refresh', p.root], {detached: true, stdio: 'ignore', env: process.env});
  child.unref();
}

/**
 * `__refresh <root>` and the watcher: re-evaluate, then re-render so shells pick it up on their
 * next prompt. `exclusive` (the hook's background run) gives up when another refresh of the
 * project is already running, so several shells entering at once start one evaluation.
 */
export async function refresh(p: Project, opts: {exclusive?: boolean} = {}): Promise<EnsureResult | undefined> {
  if (!checkTrust(p).trusted) return undefined;
  const release = opts.exclusive ? tryLock(join(p.stateDir, 'refresh.lock')) : () => {};
  if (!release) return undefined;
  try {
    const {ensureEnvironment} = await import('../evaluation/evaluate.js');
    const res = await ensureEnvironment(p, {quiet: true, requireTrust: true});
    if (res.source !== 'fallback') {
      await renderActivations(p, res.entry);
      return res;
    }
    // A failed evaluation keeps the last good env. Every shell must see the error once: render
    // the same env with the error, once per distinct error (the shells reload it and print it).
    // An interrupted nix says nothing about the content: nothing to show, the next run retries.
    if (isTransient(res.error)) return res;
    const msg = res.error?.message ?? 'evaluation failed';
    if (readProjectState(p).errorRendered !== msg || !exists(activationPath(p, 'bash'))) {
      await renderActivations(p, res.entry, {error: msg});
      updateProjectState(p, {errorRendered: msg});
    }
    return res;
  } finally {
    release();
  }
}
