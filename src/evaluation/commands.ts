// Core of reload and update.
import {removeActivations, renderActivations, touchTrustEpoch} from '../activation/render.js';
import {nixpkgsOverride, runNix} from '../nix/nix.js';
import {requireRoot} from '../project/find.js';
import {checkTrust, keepTrustAcross} from '../trust/trust.js';
import {ensureEnvironment} from './evaluate.js';

export async function reloadProject(cwd: string, opts: {strict?: boolean} = {}) {
  const root = requireRoot(cwd);
  const res = await ensureEnvironment(root, {force: true, strict: opts.strict, progress: true});
  if (checkTrust(root).trusted) await renderActivations(root, res.entry);
  else removeActivations(root);
  touchTrustEpoch();
  return {root, source: res.source, key: res.entry.key, durationMs: res.entry.durationMs};
}

export async function updateProject(cwd: string) {
  const root = requireRoot(cwd);
  let note: string | undefined;
  if (nixpkgsOverride()) {
    note = `devenv: DEVENV_NIXPKGS overrides nixpkgs (${nixpkgsOverride()}); flake.lock left as it is`;
  } else {
    await keepTrustAcross(root, () => runNix(['flake', 'update'], {cwd: root, what: 'nix flake update'}));
  }
  const res = await reloadProject(root, {strict: true});
  return {...res, note};
}
