import {Args, Flags} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {UsageError} from '../errors.js';
import {fileSize, followFile, logFilesAt, readLogsAt, tailLines} from '../usecases/services.js';

export default class Logs extends DevenvCommand {
  static aliases = ['services:logs'];
  static summary = "Show the logs of the project's services, processes and tasks";
  static description = "Each logs to a file under .devenv/state (postgres.log, redis.log, mysql.log, processes/<name>.log, tasks/<name>.log). With several, lines carry a 'name | ' prefix.";
  static examples = ['<%= config.bin %> logs', '<%= config.bin %> logs -f postgres', '<%= config.bin %> logs -n 20 web', '<%= config.bin %> logs --json -n 50'];
  static enableJsonFlag = true;
  static args = {name: Args.string({description: 'service, process or task to show (default: all)', ignoreStdin: true})};
  static flags = {
    follow: Flags.boolean({char: 'f', description: 'keep printing new lines until interrupted'}),
    lines: Flags.integer({char: 'n', description: 'only the last N lines', min: 0}),
  };

  async run() {
    const {args, flags} = await this.parse(Logs);
    if (this.jsonEnabled()) {
      if (flags.follow) throw new UsageError('--json cannot follow', 'use: devenv logs --json [-n N] [name]');
      return readLogsAt(this.project(), args.name, flags.lines);
    }
    const logs = await logFilesAt(this.project(), args.name);
    const width = Math.max(...logs.map((s) => s.name.length));
    const prefix = (name: string) => (logs.length > 1 ? `${name.padEnd(width)} | ` : '');
    const out = (l: string) => process.stdout.write(l + '\n');
    const starts = new Map<string, number>();
    for (const s of logs) {
      const size = fileSize(s.logFile);
      starts.set(s.name, size);
      if (!size) {
        if (!flags.follow && args.name) process.stderr.write(`devenv: ${s.name} has no log yet (${s.logFile}); 'devenv up' starts it\n`);
        continue;
      }
      for (const l of tailLines(s.logFile, flags.lines ?? Number.MAX_SAFE_INTEGER, true)) out(prefix(s.name) + l);
    }
    if (!flags.follow) return;
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await Promise.all(logs.map((s) => followFile(s.logFile, starts.get(s.name)!, (l) => out(prefix(s.name) + l), abort.signal)));
  }
}
