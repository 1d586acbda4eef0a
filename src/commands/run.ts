import {Args, Flags} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {foregroundIo} from '../cli/units.js';
import {runTaskAt} from '../usecases/services.js';

export default class Run extends DevenvCommand {
  static summary = 'Run a task ([tasks.<name>]) after what it needs';
  static description =
    "Starts the services and processes its after = [...] names (they keep running; 'devenv down' stops them) and runs the tasks it depends on first. A task with sources = [...] whose files are unchanged since its last success is skipped (--force runs it anyway). Arguments after -- are passed to the task's command. Exits with the task's exit code.";
  static examples = ['<%= config.bin %> run migrate', '<%= config.bin %> run test -- -k smoke', '<%= config.bin %> run build --force'];
  static strict = false;
  static enableJsonFlag = true;
  static args = {task: Args.string({description: 'the task', required: true, ignoreStdin: true})};
  static flags = {force: Flags.boolean({description: 'run it even when its sources are unchanged'})};

  async run() {
    const {args, argv, flags} = await this.parse(Run);
    // Everything after the task name (oclif drops the `--`) goes to the task.
    const extra = (argv as string[]).slice(1);
    return runTaskAt(this.project(), args.task, extra, foregroundIo(this.jsonEnabled()), flags.force);
  }
}
