import {Args, Flags} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {editProjectPackages} from '../usecases/packages.js';

export default class Add extends DevenvCommand {
  static summary = 'Add nixpkgs packages to devenv.toml and flake.nix';
  static examples = ['<%= config.bin %> add git', '<%= config.bin %> add python311Packages.numpy jq'];
  static strict = false;
  static enableJsonFlag = true;
  static args = {package: Args.string({ignoreStdin: true, required: true, description: 'nixpkgs attribute names (dotted paths allowed)'})};
  static flags = {force: Flags.boolean({description: 'regenerate flake.nix even if it was edited by hand'})};

  async run() {
    const {argv, flags} = await this.parse(Add);
    const res = await editProjectPackages(this.project(), 'add', argv as string[], {force: flags.force});
    for (const p of res.skipped) this.logToStderr(`devenv: ${p} is already in devenv.toml`);
    if (res.changed.length) this.log(`devenv: added ${res.changed.join(', ')}${res.flake === 'written' ? '; flake.nix updated' : ''}`);
    return res;
  }
}
