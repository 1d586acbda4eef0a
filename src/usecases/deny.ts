// `devenv deny [dir]`: revoke trust for the project under every spelling of its path.
import {existsSync} from 'node:fs';
import {resolve} from 'node:path';
import {removeActivations, touchTrustEpoch} from '../activation/render.js';
import {DevenvError} from '../errors.js';
import {openProject} from '../project/project.js';
import {deny} from '../trust/trust.js';

export function denyProject(dir: string): {root: string; removed: number; missing?: boolean} {
  const abs = resolve(dir);
  if (!existsSync(abs)) {
    // A project deleted after it was allowed: forget its records (nothing is left to deny).
    const removed = deny(abs, {remember: false});
    if (!removed) throw new DevenvError(`${abs} does not exist`, {hint: "'devenv allowed' lists the projects devenv knows"});
    removeActivations(abs);
    touchTrustEpoch();
    return {root: abs, removed, missing: true};
  }
  const p = openProject(dir);
  const removed = deny(p.root);
  removeActivations(p.root);
  touchTrustEpoch();
  return {root: p.root, removed};
}
