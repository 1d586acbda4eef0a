import {Args, Flags} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {editProjectPackages} from '../usecases/packages.js';

export default class Remove extends DevenvCommand {
  static summary = 'Remove packages from devenv.toml and flake.nix';
  static examples = ['<%= config.bin %> remove git', '<%= config.bin %> remove jq'];
  static strict = false;
  static enableJsonFlag = true;
  static args = {package: Args.string({ignoreStdin: true, required: true, description: 'nixpkgs attribute names (dotted paths allowed)'})};
  static flags = {force: Flags.boolean({description: 'regenerate flake.nix even if it was edited by hand'})};

  async run() {
    const {argv, flags} = await this.parse(Remove);
    const res = await editProjectPackages(this.project(), 'remove', argv as string[], {force: flags.force});
    for (const p of res.skipped) {
      const section = res.providedBy?.[p];
      this.logToStderr(section ? `devenv: ${p} is not in the packages list; ${section} in devenv.toml brings it in (remove or change that section to drop it)` : `devenv: ${p} is not in devenv.toml`);
    }
    if (res.changed.length) this.log(`devenv: removed ${res.changed.join(', ')}${res.flake === 'written' ? '; flake.nix updated' : ''}`);
    return res;
  }
}
