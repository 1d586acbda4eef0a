import {Args, Flags} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {generateFlake, generateGithubAction} from '../usecases/generate.js';

export default class Generate extends DevenvCommand {
  static summary = 'Regenerate flake.nix from devenv.toml, or write a CI workflow';
  static description = "devenv regenerates flake.nix by itself while it is unedited; --force overwrites a flake.nix you edited by hand. 'generate github-action' writes .github/workflows/devenv.yml: install Nix, restore the cache, run 'devenv test'.";
  static examples = ['<%= config.bin %> generate', '<%= config.bin %> generate --force', '<%= config.bin %> generate github-action'];
  static enableJsonFlag = true;
  static args = {what: Args.string({description: 'what to generate', options: ['flake', 'github-action'], default: 'flake', ignoreStdin: true})};
  static flags = {force: Flags.boolean({description: 'overwrite a hand-edited file'})};

  async run() {
    const {args, flags} = await this.parse(Generate);
    if (args.what === 'github-action') {
      const r = await generateGithubAction(this.cwd(), {force: flags.force});
      this.log(r.result === 'written' ? `devenv: wrote ${r.file}` : `devenv: ${r.file} is up to date`);
      return r;
    }
    const {root, result} = await generateFlake(this.cwd(), {force: flags.force});
    this.log(result === 'written' ? 'devenv: flake.nix regenerated' : 'devenv: flake.nix is up to date');
    return {root, result};
  }
}
