import {Args, Flags} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {runWatch} from '../usecases/watch.js';

export default class Watch extends DevenvCommand {
  static summary = 'Re-evaluate allowed projects in the background after every edit';
  static description = `Watches flake.nix, flake.lock, devenv.toml and the project's other .nix files, and re-evaluates
after a short quiet period, so the next cd, prompt or 'devenv exec' finds a fresh cache and runs no nix.
Without arguments it watches every allowed project (and those under trusted prefixes that devenv
has evaluated), and picks up projects allowed while it runs. Only trusted content is evaluated:
a project trusted by its content waits for 'devenv allow' after an edit. One watcher per user.
--print-service prints a systemd user unit (or, with 'launchd', a launchd agent) that runs it at login.`;
  static examples = [
    '<%= config.bin %> watch',
    '<%= config.bin %> watch ~/src/app ~/src/api',
    '<%= config.bin %> watch --print-service > ~/.config/systemd/user/devenv-watch.service',
    '<%= config.bin %> watch --print-service launchd > ~/Library/LaunchAgents/org.devenv.watch.plist',
  ];
  static strict = false;
  static args = {dir: Args.string({ignoreStdin: true, description: "project directories (default: every allowed project); with --print-service: 'systemd' or 'launchd' first"})};
  static flags = {
    'print-service': Flags.boolean({description: 'print a systemd user unit (default) or launchd plist that runs the watcher at login, then exit'}),
    debounce: Flags.integer({description: 'quiet period in milliseconds before re-evaluating', default: 300, min: 0, max: 60_000}),
  };

  async run() {
    const {argv, flags} = await this.parse(Watch);
    const code = await runWatch({
      dirs: argv as string[],
      cwd: this.cwd(),
      printService: flags['print-service'],
      quietMs: flags.debounce,
      out: (s) => process.stdout.write(s),
    });
    if (code) this.exit(code);
  }
}
