import {Flags} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {generateFlake} from '../usecases/generate.js';

export default class Generate extends DevenvCommand {
  static summary = 'Regenerate flake.nix from devenv.toml';
  static description = 'devenv does this by itself while flake.nix is unedited; --force overwrites a flake.nix you edited by hand.';
  static examples = ['<%= config.bin %> generate', '<%= config.bin %> generate --force'];
  static enableJsonFlag = true;
  static flags = {force: Flags.boolean({description: 'overwrite a hand-edited flake.nix'})};

  async run() {
    const {flags} = await this.parse(Generate);
    const {root, result} = await generateFlake(this.cwd(), {force: flags.force});
    this.log(result === 'written' ? 'devenv: flake.nix regenerated' : 'devenv: flake.nix is up to date');
    return {root, result};
  }
}
