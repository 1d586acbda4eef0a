// `devenv deny [dir]`: revoke trust for the project under every spelling of its path.
import {resolve} from 'node:path';
import {removeActivations, touchTrustEpoch} from '../activation/render.js';
import {DevenvError} from '../errors.js';
import {knownProject, type Project} from '../project/project.js';
import {deny} from '../trust/trust.js';

/** A project deleted after it was allowed (`devenv deny <path>`): forget its records (nothing is left to deny). */
export function forgetDeleted(dir: string): {root: string; removed: number; missing: true} {
  const abs = resolve(dir);
  const gone = knownProject(abs);
  const removed = deny(gone, {remember: false});
  if (!removed) throw new DevenvError(`${abs} does not exist`, {hint: "'devenv allowed' lists the projects devenv knows"});
  removeActivations(gone);
  touchTrustEpoch();
  return {root: abs, removed, missing: true};
}

export function denyProject(p: Project): {root: string; removed: number; missing?: boolean} {
  const removed = deny(p);
  removeActivations(p);
  touchTrustEpoch();
  return {root: p.root, removed};
}
