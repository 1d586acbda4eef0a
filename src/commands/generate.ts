import {Flags} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {DevenvError} from '../errors.js';
import {requireRoot} from '../project/find.js';
import {syncFlake} from '../project/sync.js';
import {keepTrustAcross} from '../trust/trust.js';

export default class Generate extends DevenvCommand {
  static summary = 'Regenerate flake.nix from devenv.toml';
  static description = 'devenv does this by itself while flake.nix is unedited; --force overwrites a flake.nix you edited by hand.';
  static examples = ['<%= config.bin %> generate', '<%= config.bin %> generate --force'];
  static enableJsonFlag = true;
  static flags = {force: Flags.boolean({description: 'overwrite a hand-edited flake.nix'})};

  async run() {
    const {flags} = await this.parse(Generate);
    const root = requireRoot(this.cwd());
    const result = await keepTrustAcross(root, () => syncFlake(root, {force: flags.force}));
    if (result === 'user-owned') throw new DevenvError('flake.nix was edited by hand; not overwriting it', {hint: 'pass --force to regenerate it from devenv.toml'});
    if (result === 'no-manifest') throw new DevenvError(`${root} has no devenv.toml to generate from`);
    this.log(result === 'written' ? 'devenv: flake.nix regenerated' : 'devenv: flake.nix is up to date');
    return {root, result};
  }
}
