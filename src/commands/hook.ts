import {Args} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {hookText} from '../usecases/templates.js';

export default class Hook extends DevenvCommand {
  static summary = 'Print the shell hook that loads project environments on cd';
  static description = `Add to your shell's startup file:
  bash (~/.bashrc):                 eval "$(devenv hook bash)"
  zsh (~/.zshrc):                   eval "$(devenv hook zsh)"
  fish (~/.config/fish/config.fish): devenv hook fish | source
Nothing loads for a project until you run 'devenv allow' in it.`;
  static examples = ['eval "$(<%= config.bin %> hook bash)"', '<%= config.bin %> hook fish | source'];
  static args = {shell: Args.string({ignoreStdin: true, required: true, options: ['bash', 'zsh', 'fish'], description: 'your shell'})};

  async run() {
    const {args} = await this.parse(Hook);
    process.stdout.write(hookText(args.shell) + '\n');
  }
}
