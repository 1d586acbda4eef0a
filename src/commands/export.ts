import {Args, Flags} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {EXPORT_FORMATS, formatVariables, projectVariables} from '../usecases/export.js';

export default class Export extends DevenvCommand {
  static summary = "Print the project's environment as json, dotenv, GitHub Actions or shell code";
  static description = 'For editors, CI and scripts. Like exec, it is an explicit act and needs no allow.';
  static examples = ['<%= config.bin %> export json', '<%= config.bin %> export gha >> "$GITHUB_ENV"', 'eval "$(<%= config.bin %> export bash)"'];
  static args = {format: Args.string({ignoreStdin: true, required: true, options: [...EXPORT_FORMATS], description: 'output format'})};
  static flags = {trusted: Flags.boolean({description: "print nothing and fail unless devenv trusts the project (for .envrc, see 'devenv generate envrc')"})};

  async run() {
    const {args, flags} = await this.parse(Export);
    process.stdout.write(formatVariables(await projectVariables(this.project(), {requireTrust: flags.trusted}), args.format));
  }
}
