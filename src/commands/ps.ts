import {DevenvCommand} from '../cli/base.js';
import {listServices} from '../usecases/services.js';

export default class Ps extends DevenvCommand {
  static aliases = ['services:ps'];
  static summary = "List the project's services: pid, port, state and data dir";
  static description = "States: running, starting, stopping, stopped, crashed (a stale pid file; 'devenv up' recovers), foreign (something that is not this project's server holds its files).";
  static examples = ['<%= config.bin %> ps', '<%= config.bin %> ps --json'];
  static enableJsonFlag = true;

  async run() {
    await this.parse(Ps);
    const {root, services} = await listServices(this.cwd());
    if (!services.length) this.log('no services in this project (add [services.postgres] to devenv.toml)');
    else {
      const rows = [['NAME', 'STATE', 'PID', 'PORT', 'DATA'], ...services.map((s) => [s.name, s.state, s.pid ? String(s.pid) : '-', s.port ? String(s.port) : '-', s.dataDir ?? '-'])];
      const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
      for (const r of rows) this.log(r.map((c, i) => (i < r.length - 1 ? c.padEnd(w[i]) : c)).join('  '));
      for (const s of services) if (s.detail) this.log(`${s.name}: ${s.detail}`);
    }
    return {root, services};
  }
}
