import {DevenvCommand} from '../cli/base.js';
import {listServices} from '../usecases/services.js';
import {psLines} from '../cli/views.js';

export default class Ps extends DevenvCommand {
  static aliases = ['services:ps'];
  static summary = "List the project's services and processes: state, pid, port, restarts, readiness";
  static description =
    "States: running, starting, stopping, stopped, backoff (a process waiting to be restarted), failed (a process that gave up), exited, crashed (a stale pid file; 'devenv up' recovers), deleted (runs, but its state dir was deleted; 'devenv down' still stops it), foreign (something that is not this project's server holds its files).";
  static examples = ['<%= config.bin %> ps', '<%= config.bin %> ps --json'];
  static enableJsonFlag = true;

  async run() {
    await this.parse(Ps);
    const r = await listServices(this.cwd());
    const {out, err} = psLines(r, this.jsonEnabled());
    for (const l of err) this.logToStderr(l);
    for (const l of out) this.log(l);
    return r;
  }
}
