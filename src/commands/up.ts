import {Args, Flags} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {UsageError} from '../errors.js';
import {projectServicesAt, runServicesForeground, type StartResult, startServices} from '../usecases/services.js';

export function describeStart(r: StartResult): string {
  const where = r.port ? ` on port ${r.port}` : '';
  const head = r.started
    ? `${r.name}: started (pid ${r.pid})${where}, ready in ${((r.readyMs ?? 0) / 1000).toFixed(2)}s`
    : `${r.name}: already running (pid ${r.pid})${where}`;
  return [head, ...r.steps.map((s) => `  ${s}`)].join('\n');
}

export default class Up extends DevenvCommand {
  static aliases = ['services:up'];
  static summary = "Start the project's services (PostgreSQL)";
  static description =
    "Binaries come from the project's Nix environment; data stays in .devenv/state. In the foreground the logs stream with a 'name | ' prefix and Ctrl-C stops what this run started; with -d it returns once every service is ready. Running it twice starts nothing the second time.";
  static examples = ['<%= config.bin %> up', '<%= config.bin %> up -d', '<%= config.bin %> up -d --json', '<%= config.bin %> up postgres'];
  static strict = false;
  static enableJsonFlag = true;
  static args = {service: Args.string({description: 'service(s) to start (default: all in devenv.toml)', ignoreStdin: true})};
  static flags = {detach: Flags.boolean({char: 'd', description: 'start in the background and return once ready'})};

  async run() {
    const {argv, flags} = await this.parse(Up);
    const {root, services} = await projectServicesAt(this.cwd(), argv as string[]);
    if (!flags.detach) {
      if (this.jsonEnabled()) throw new UsageError('--json needs -d', 'use: devenv up -d --json');
      const code = await runServicesForeground(services, {line: (l) => process.stdout.write(l + '\n'), note: (n) => process.stderr.write(`devenv: ${n}\n`)}, describeStart);
      return this.exit(code);
    }
    const results = await startServices(services, (r) => this.log(describeStart(r)), (s, m) => this.jsonEnabled() || process.stderr.write(`devenv: ${s.name}: ${m}\n`));
    return {root, services: results};
  }
}
