import {DevenvCommand} from '../cli/base.js';
import {listServices} from '../usecases/services.js';

export default class Ps extends DevenvCommand {
  static aliases = ['services:ps'];
  static summary = "List the project's services and processes: state, pid, port, restarts, readiness";
  static description =
    "States: running, starting, stopping, stopped, backoff (a process waiting to be restarted), failed (a process that gave up), exited, crashed (a stale pid file; 'devenv up' recovers), deleted (runs, but its state dir was deleted; 'devenv down' still stops it), foreign (something that is not this project's server holds its files).";
  static examples = ['<%= config.bin %> ps', '<%= config.bin %> ps --json'];
  static enableJsonFlag = true;

  async run() {
    await this.parse(Ps);
    const {root, services, removed, manifestError, autoStart} = await listServices(this.cwd());
    // Only what still runs can be listed then: say why the rest is missing.
    if (manifestError && !this.jsonEnabled()) this.logToStderr(`devenv: devenv.toml cannot be read, so only what still runs is listed: ${manifestError.message}${manifestError.hint ? `\n  hint: ${manifestError.hint}` : ''}`);
    if (!services.length) this.log(manifestError ? 'nothing of this project is running' : 'no services or processes in this project (add [services.postgres] or [processes.<name>] to devenv.toml)');
    else {
      // A URL column only with a front door ([services.caddy]).
      const urls = services.some((s) => s.url);
      const rows = [
        ['NAME', 'KIND', 'STATE', 'READY', 'PID', 'PORT', 'RESTARTS', 'DATA', ...(urls ? ['URL'] : [])],
        ...services.map((s) => [s.name, s.kind ?? 'service', s.state, s.ready === undefined ? '-' : s.ready ? 'yes' : 'no', s.pid ? String(s.pid) : '-', s.port ? String(s.port) : '-', s.restarts === undefined ? '-' : String(s.restarts), s.dataDir ?? '-', ...(urls ? [s.url ?? '-'] : [])]),
      ];
      const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
      for (const r of rows) this.log(r.map((c, i) => (i < r.length - 1 ? c.padEnd(w[i]) : c)).join('  '));
      for (const s of services) if (s.detail) this.log(`${s.name}: ${s.detail}`);
    }
    for (const r of removed) this.log(`${r.root} (a removed checkout of this repository) still runs: ${r.running.map((s) => `${s.name}${s.pid ? ` (pid ${s.pid})` : ''}`).join(', ')}; 'devenv gc' stops them`);
    if (autoStart) {
      const shells = autoStart.shells.map((s) => `${s.shell} (pid ${s.pid})`).join(', ');
      this.log(`auto-start: ${autoStart.units.join(', ') || 'nothing'} kept up by ${shells || 'no shell (stopping soon)'}; supervisor pid ${autoStart.supervisor}`);
    }
    return {root, services, removed, ...(manifestError ? {manifestError} : {}), ...(autoStart ? {autoStart} : {})};
  }
}
