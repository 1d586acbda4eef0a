import {Args, Flags} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {fileSize, followFile, projectServicesAt, tailLines} from '../usecases/services.js';

export default class Logs extends DevenvCommand {
  static aliases = ['services:logs'];
  static summary = "Show the project's service logs";
  static description = "Each service logs to a file under .devenv/state (PostgreSQL: postgres.log). With several services, lines carry a 'name | ' prefix.";
  static examples = ['<%= config.bin %> logs', '<%= config.bin %> logs -f postgres', '<%= config.bin %> logs -n 20'];
  static args = {service: Args.string({description: 'service to show (default: all)', ignoreStdin: true})};
  static flags = {
    follow: Flags.boolean({char: 'f', description: 'keep printing new lines until interrupted'}),
    lines: Flags.integer({char: 'n', description: 'only the last N lines', min: 0}),
  };

  async run() {
    const {args, flags} = await this.parse(Logs);
    const {services} = await projectServicesAt(this.cwd(), args.service ? [args.service] : [], {running: true});
    const width = Math.max(...services.map((s) => s.name.length));
    const prefix = (name: string) => (services.length > 1 ? `${name.padEnd(width)} | ` : '');
    const out = (l: string) => process.stdout.write(l + '\n');
    const starts = new Map<string, number>();
    for (const s of services) {
      const size = fileSize(s.logFile);
      starts.set(s.name, size);
      if (!size) {
        if (!flags.follow) process.stderr.write(`devenv: ${s.name} has no log yet (${s.logFile}); 'devenv up' starts it\n`);
        continue;
      }
      for (const l of tailLines(s.logFile, flags.lines ?? Number.MAX_SAFE_INTEGER, true)) out(prefix(s.name) + l);
    }
    if (!flags.follow) return;
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await Promise.all(services.map((s) => followFile(s.logFile, starts.get(s.name)!, (l) => out(prefix(s.name) + l), abort.signal)));
  }
}
