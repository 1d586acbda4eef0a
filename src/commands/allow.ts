import {Args, Flags} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {allowPrefix, allowProject} from '../usecases/allow.js';

export default class Allow extends DevenvCommand {
  static aliases = ['trust:allow'];
  static summary = "Trust a project's current flake.nix, flake.lock and devenv.toml";
  static description = 'Trust is bound to the absolute path and the content: any later edit, pull or copy elsewhere blocks automatic loading until you allow again. --prefix trusts every project under a directory of your own, whatever its content.';
  static examples = ['<%= config.bin %> allow', '<%= config.bin %> allow ~/src/app', '<%= config.bin %> allow --prefix ~/src'];
  static enableJsonFlag = true;
  static args = {dir: Args.string({ignoreStdin: true, description: 'project directory (default: the current one)'})};
  static flags = {prefix: Flags.string({description: 'trust every project under this directory (written to ~/.config/devenv/config.toml)'})};

  async run() {
    const {args, flags} = await this.parse(Allow);
    if (flags.prefix) {
      const prefixes = allowPrefix(flags.prefix);
      this.log(`devenv: trusting every project under ${prefixes[prefixes.length - 1]}`);
      return {prefixes};
    }
    const rec = await allowProject(this.project(args.dir));
    this.log(`devenv: allowed ${rec.root}`);
    return rec;
  }
}
