import {Flags} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {execInEnv} from '../usecases/exec.js';

export default class Exec extends DevenvCommand {
  static summary = "Run a command in the project's environment";
  static description = 'Works from anywhere inside the project and needs no allow (it is your own act). Exit code and signals pass through. A warm cache runs no nix.';
  static examples = ['<%= config.bin %> exec -- python3 --version', '<%= config.bin %> exec --strict -- make test'];
  static usage = 'exec [--strict] -- <command> [args...]';
  static strict = false;
  static flags = {strict: Flags.boolean({description: 'fail if evaluation fails instead of using the last good environment (or DEVENV_STRICT=1)'})};

  async run() {
    const {argv, flags} = await this.parse(Exec);
    const code = await execInEnv(this.project(), {cwd: this.cwd(), argv: argv as string[], strict: flags.strict});
    this.exit(code);
  }
}
