// `devenv generate`: regenerate flake.nix from devenv.toml, keeping trust (devenv's own write).
import {DevenvError} from '../errors.js';
import {openProject} from '../project/project.js';
import {syncFlake} from '../project/sync.js';
import {keepTrustAcross} from '../trust/trust.js';

export async function generateFlake(cwd: string, opts: {force?: boolean} = {}) {
  const {root} = openProject(cwd);
  const result = await keepTrustAcross(root, () => syncFlake(root, {force: opts.force}));
  if (result === 'user-owned') throw new DevenvError('flake.nix was edited by hand; not overwriting it', {hint: 'pass --force to regenerate it from devenv.toml'});
  if (result === 'no-manifest') throw new DevenvError(`${root} has no devenv.toml to generate from`);
  return {root, result};
}
