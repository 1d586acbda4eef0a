import {existsSync} from 'node:fs';
import {resolve} from 'node:path';
import {Args, Flags} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {UsageError} from '../errors.js';
import {type StartResult, type TaskResult, upDetached, upForeground} from '../usecases/services.js';
import {describeStart, describeTask, noteWriter, wantColour} from '../cli/units.js';

/** --seed-from as typed: "main", or a path from where it was typed that must exist (a usage error before anything starts). */
function seedFromFlag(v: string, cwd: string): string {
  if (v === 'main') return v;
  const abs = resolve(cwd, v);
  if (!existsSync(abs)) throw new UsageError(`--seed-from ${v}: ${abs} does not exist`, 'give the path of another checkout of this project (e.g. --seed-from ../main)');
  return abs;
}

export default class Up extends DevenvCommand {
  static aliases = ['services:up'];
  static summary = "Start the project's services, processes and the tasks they need";
  static description =
    "Services ([services.*]), processes ([processes.*]) and tasks ([tasks.*]) start in dependency order: each after what its after = [...] names is ready (or, for a task, done). Binaries come from the project's Nix environment; data stays in .devenv/state; ports are this checkout's own. In the foreground the logs stream with a coloured 'name | ' prefix and Ctrl-C stops what this run started, in reverse order; with -d it returns once everything is ready. Running it twice starts nothing the second time.";
  static examples = ['<%= config.bin %> up', '<%= config.bin %> up -d', '<%= config.bin %> up -d --json', '<%= config.bin %> up web', '<%= config.bin %> up -d --seed-from ../main'];
  static strict = false;
  static enableJsonFlag = true;
  static args = {name: Args.string({description: 'services or processes to start, with what they need (default: all)', ignoreStdin: true})};
  static flags = {
    detach: Flags.boolean({char: 'd', description: 'start in the background and return once ready'}),
    'seed-from': Flags.string({description: "on a database's first start in this checkout, copy its content from the checkout at this path"}),
  };

  async run() {
    const {argv, flags} = await this.parse(Up);
    const names = argv as string[];
    const note = noteWriter(this.jsonEnabled());
    const opts = flags['seed-from'] ? {seedFrom: seedFromFlag(flags['seed-from'], this.cwd())} : {};
    if (!flags.detach) {
      if (this.jsonEnabled()) throw new UsageError('--json needs -d', 'use: devenv up -d --json');
      const io = {line: (l: string) => process.stdout.write(l + '\n'), note, task: (r: TaskResult) => note(describeTask(r)), colour: wantColour()};
      const code = await upForeground(this.cwd(), names, io, describeStart, opts);
      return this.exit(code);
    }
    const io = {
      // Task output goes to stderr with -d: stdout is for the summary (and --json).
      line: (l: string) => this.jsonEnabled() || process.stderr.write(l + '\n'),
      note,
      started: (r: StartResult) => this.jsonEnabled() || this.log(describeStart(r)),
      task: (r: TaskResult) => this.jsonEnabled() || this.log(describeTask(r)),
      colour: false,
    };
    return upDetached(this.cwd(), names, io, opts);
  }
}
