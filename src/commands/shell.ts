import {DevenvCommand} from '../cli/base.js';
import {execInEnv} from '../usecases/exec.js';

export default class Shell extends DevenvCommand {
  static summary = "Start an interactive $SHELL in the project's environment";
  static description = 'For people without the hook. Leave it with exit.';
  static examples = ['<%= config.bin %> shell'];

  async run() {
    await this.parse(Shell);
    const shell = process.env.SHELL || 'bash';
    this.exit(await execInEnv(this.project(), {cwd: this.cwd(), argv: [shell]}));
  }
}
