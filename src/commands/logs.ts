import {Args, Flags} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {jsonLogs, printLogs} from '../cli/light.js';

export default class Logs extends DevenvCommand {
  static aliases = ['services:logs'];
  static summary = "Show the logs of the project's services, processes and tasks";
  static description = "Each logs to a file under .devenv/state (<service>.log such as postgres.log or nats.log, processes/<name>.log, tasks/<name>.log). With several, lines carry a 'name | ' prefix.";
  static examples = ['<%= config.bin %> logs', '<%= config.bin %> logs -f postgres', '<%= config.bin %> logs -n 20 web', '<%= config.bin %> logs --json -n 50'];
  static enableJsonFlag = true;
  static args = {name: Args.string({description: 'service, process or task to show (default: all)', ignoreStdin: true})};
  static flags = {
    follow: Flags.boolean({char: 'f', description: 'keep printing new lines until interrupted'}),
    lines: Flags.integer({char: 'n', description: 'only the last N lines', min: 0}),
  };

  async run() {
    const {args, flags} = await this.parse(Logs);
    if (this.jsonEnabled()) return jsonLogs(this.project(), args.name, {follow: flags.follow, lines: flags.lines});
    await printLogs(this.project(), args.name, {follow: flags.follow, lines: flags.lines});
  }
}
