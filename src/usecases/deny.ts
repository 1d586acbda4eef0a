// `devenv deny [dir]`: revoke trust for the project under every spelling of its path.
import {removeActivations, touchTrustEpoch} from '../activation/render.js';
import {openProject} from '../project/project.js';
import {deny} from '../trust/trust.js';

export function denyProject(dir: string): {root: string; removed: number} {
  const p = openProject(dir);
  const removed = deny(p.root);
  removeActivations(p.root);
  touchTrustEpoch();
  return {root: p.root, removed};
}
