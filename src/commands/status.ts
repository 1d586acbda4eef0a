import {DevenvCommand} from '../cli/base.js';
import {projectStatus} from '../usecases/status.js';
import type {WatcherStatus} from '../watch/state.js';

export default class Status extends DevenvCommand {
  static summary = "Show the project's root, trust, cache freshness, last evaluation, services and watcher";
  static examples = ['<%= config.bin %> status', '<%= config.bin %> status --json'];
  static enableJsonFlag = true;

  async run() {
    await this.parse(Status);
    const s = await projectStatus(this.cwd());
    this.log(`project:  ${s.root}`);
    if (s.real) this.log(`real path: ${s.real}`);
    this.log(`trust:    ${s.trust}${s.trusted ? '' : " (run 'devenv allow' to load it on cd)"}`);
    if (s.trustChanged?.length) this.log(`changed since allowed: ${s.trustChanged.slice(0, 5).join(', ')}${s.trustChanged.length > 5 ? ` and ${s.trustChanged.length - 5} more` : ''}`);
    this.log(`cache:    ${s.cache.state}${s.cache.why ? ` (${s.cache.why})` : ''}`);
    if (s.lastEvaluation) this.log(`last evaluation: ${s.lastEvaluation.at}${s.lastEvaluation.durationMs !== undefined ? ` in ${(s.lastEvaluation.durationMs / 1000).toFixed(1)}s` : ''}`);
    if (s.lastError) this.log(`last error (${s.lastError.at}):\n  ${s.lastError.message.split('\n').join('\n  ')}`);
    for (const svc of s.services as {name: string; state: string; port?: number; pid?: number}[]) this.log(`service:  ${svc.name} ${svc.state}${svc.port ? ` on port ${svc.port}` : ''}${svc.pid ? ` (pid ${svc.pid})` : ''}`);
    const w = s.watcher as WatcherStatus | null;
    const last = w?.lastEvaluation ? `; last evaluation ${w.lastEvaluation.at}: ${w.lastEvaluation.root} ${w.lastEvaluation.outcome} in ${(w.lastEvaluation.durationMs / 1000).toFixed(1)}s` : '';
    this.log(`watcher:  ${w?.running ? `running (pid ${w.pid}, since ${w.since})${last}` : "not running ('devenv watch')"}`);
    return s;
  }
}
