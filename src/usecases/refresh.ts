// `devenv reload` and `devenv update`, and the hook's background re-evaluation (`__refresh`).
import {spawn} from 'node:child_process';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {activationPath, removeActivations, renderActivations, touchTrustEpoch} from '../activation/render.js';
import type {EnsureResult} from '../evaluation/evaluate.js';
import {projectStateDir} from '../paths.js';
import {exists, tryLock} from '../util/fs.js';
import {nixpkgsOverride} from '../nix/nix.js';
import {openProject} from '../project/project.js';
import {checkTrust, keepTrustAcross} from '../trust/trust.js';

export async function reloadProject(cwd: string, opts: {strict?: boolean} = {}) {
  const {root} = openProject(cwd);
  const start = Date.now();
  const {ensureEnvironment} = await import('../evaluation/evaluate.js');
  const res = await ensureEnvironment(root, {force: true, strict: opts.strict, progress: true});
  // An explicit reload needs no allow, but only a trusted project gets scripts the hook loads.
  const trusted = checkTrust(root).trusted;
  if (trusted) await renderActivations(root, res.entry);
  else removeActivations(root);
  touchTrustEpoch();
  // durationMs: nix print-dev-env alone; elapsedMs: the whole re-evaluation the user waited for.
  return {root, source: res.source, key: res.entry.key, durationMs: res.entry.durationMs, elapsedMs: Date.now() - start, trusted};
}

export async function updateProject(cwd: string) {
  const p = openProject(cwd);
  const root = p.root;
  let note: string | undefined;
  if (nixpkgsOverride()) {
    note = `devenv: DEVENV_NIXPKGS overrides nixpkgs (${nixpkgsOverride()}); flake.lock left as it is`;
  } else {
    const {runOnFlake} = await import('../evaluation/flake-run.js');
    await keepTrustAcross(root, () => runOnFlake(p, ['flake', 'update'], 'nix flake update'));
  }
  const res = await reloadProject(root, {strict: true});
  return {...res, note};
}

/** Start a detached re-evaluation; `__refresh` itself makes sure only one runs per project. */
export function refreshInBackground(root: string): void {
  const bin = fileURLToPath(new URL('../../bin/run.js', import.meta.url));
  const child = spawn(process.execPath, [bin, '__refresh', root], {detached: true, stdio: 'ignore', env: process.env});
  child.unref();
}

/**
 * `__refresh <root>` and the watcher: re-evaluate, then re-render so shells pick it up on their
 * next prompt. `exclusive` (the hook's background run) gives up when another refresh of the
 * project is already running, so several shells entering at once start one evaluation.
 */
export async function refresh(root: string, opts: {exclusive?: boolean} = {}): Promise<EnsureResult | undefined> {
  if (!checkTrust(root).trusted) return undefined;
  const release = opts.exclusive ? tryLock(join(projectStateDir(root), 'refresh.lock')) : () => {};
  if (!release) return undefined;
  try {
    const {ensureEnvironment} = await import('../evaluation/evaluate.js');
    const res = await ensureEnvironment(root, {quiet: true, requireTrust: true});
    // A failed evaluation keeps serving the last good env: re-rendering the same scripts would
    // only make every shell reload it and print "loading" again.
    if (res.source !== 'fallback' || !exists(activationPath(root, 'bash'))) await renderActivations(root, res.entry);
    return res;
  } finally {
    release();
  }
}
