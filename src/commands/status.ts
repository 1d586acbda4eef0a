import {DevenvCommand} from '../cli/base.js';
import {projectStatus} from '../usecases/status.js';
import type {WatcherStatus} from '../watch/state.js';

export default class Status extends DevenvCommand {
  static summary = "Show the project's root, trust, cache freshness, last evaluation, services and watcher";
  static examples = ['<%= config.bin %> status', '<%= config.bin %> status --json'];
  static enableJsonFlag = true;

  async run() {
    await this.parse(Status);
    const s = await projectStatus(this.project());
    this.log(`project:  ${s.root}`);
    if (s.real) this.log(`real path: ${s.real}`);
    const from = s.trustFrom ? ` (inherited from the allow of ${s.trustFrom}, a checkout of the same repository with the same inputs)` : '';
    this.log(`trust:    ${s.trust}${from}${s.trusted ? '' : " (run 'devenv allow' to load it on cd)"}`);
    if (s.trustOlderRule) this.log(`  ${s.trustOlderRule}`);
    if (s.trustChanged?.length) this.log(`changed since allowed: ${s.trustChanged.slice(0, 5).join(', ')}${s.trustChanged.length > 5 ? ` and ${s.trustChanged.length - 5} more` : ''}`);
    const unwatched = s.inputs.count - s.inputs.watchedAtPrompt;
    this.log(`inputs:   ${s.inputs.count} (${s.inputs.files.slice(0, 6).join(', ')}${s.inputs.count > 6 ? ', ...' : ''}): all nix reads${unwatched > 0 ? `; ${unwatched} beyond what the prompt watches (run 'devenv reload' after editing those)` : ''}`);
    const m = s.manifest;
    if (m?.error) this.log(`manifest: does not load: ${m.error}`);
    else if (m && m.files.length > 1) {
      // Merged from several files: each entry with the file and line it comes from.
      this.log(`manifest: ${m.files.join(' + ')} (merged in this order, the later winning)`);
      for (const e of m.entries) this.log(`  ${e.key} = ${JSON.stringify(e.value)}  (${e.file}:${e.line})`);
    }
    for (const f of s.trackedDotenv ?? []) this.log(`warning:  ${f} is a [dotenv] file tracked by git: its values are in every clone (git rm --cached ${f}; add it to .gitignore)`);
    this.log(`cache:    ${s.cache.state}${s.cache.why ? ` (${s.cache.why})` : ''}`);
    if (s.lastEvaluation) this.log(`last evaluation: ${s.lastEvaluation.at}${s.lastEvaluation.durationMs !== undefined ? ` in ${(s.lastEvaluation.durationMs / 1000).toFixed(1)}s` : ''}`);
    if (s.flakeDrift) this.log(`flake:    ${s.flakeDrift.message}\n  hint: ${s.flakeDrift.hint}`);
    if (s.lastError) this.log(`last error (${s.lastError.at}):\n  ${s.lastError.message.split('\n').join('\n  ')}${s.lastError.hint ? `\n  hint: ${s.lastError.hint}` : ''}`);
    for (const svc of s.services as {name: string; state: string; port?: number; pid?: number}[]) this.log(`service:  ${svc.name} ${svc.state}${svc.port ? ` on port ${svc.port}` : ''}${svc.pid ? ` (pid ${svc.pid})` : ''}`);
    if (s.setup?.running) this.log(`setup:    running: ${s.setup.running.steps} (pid ${s.setup.running.pid}, since ${s.setup.running.since})`);
    if (s.setup?.failed) this.log(`setup:    failed (${s.setup.failed.step}, ${s.setup.failed.at}):\n  ${s.setup.failed.output.split('\n').join('\n  ')}`);
    else if (s.setup?.missing?.length && !s.setup.running) this.log(`setup:    needed: ${s.setup.missing.join(' and ')} ${s.setup.missing.length > 1 ? 'are' : 'is'} gone; set up again at the next entry or 'devenv exec'`);
    else if (s.setup?.lastOk && !s.setup.running) this.log(`setup:    done ${s.setup.lastOk}`);
    if (s.teams) {
      const t = s.teams;
      const c = t.settings;
      const state = t.passed ? 'passed to nix' : `not passed to nix (${t.notPassedBecause ?? 'no settings'})`;
      if (c.substituters.length || c.trustedPublicKeys.length) this.log(`caches:   ${c.substituters.join(', ') || '(keys only)'}; ${state}`);
      if (c.trustedPublicKeys.length) this.log(`keys:     ${c.trustedPublicKeys.join(', ')}`);
      if (c.push) this.log(`push to:  ${c.push}`);
      if (c.builders.length) this.log(`builders: ${c.builders.map((b) => b.split(' ')[0]).join(', ')}${c.buildersUseSubstitutes ? ' (use substitutes)' : ''}; ${state}`);
      const n = t.lastNix;
      if (n) {
        const from = n.from.length ? ` from ${n.from.join(', ')}` : '';
        const remote = n.remote?.length ? ` (on ${n.remote.join(', ')})` : '';
        let line = n.built === 0 && n.substituted === 0 ? 'everything was already in the store' : `built ${n.built}${remote}, substituted ${n.substituted}${from}`;
        if (n.refused) line += `; ${n.refused.count} refused from ${n.refused.from.join(', ')} (signature not trusted)`;
        const ignored = [...n.ignoredSubstituters, ...(n.ignoredBuilders ? ['the builders'] : [])];
        if (ignored.length) line += `; the daemon ignored ${ignored.join(', ')} (not a trusted user: see 'devenv doctor')`;
        this.log(`last nix run: ${line}`);
      }
    }
    const w = s.watcher as WatcherStatus | null;
    const last = w?.lastEvaluation ? `; last evaluation ${w.lastEvaluation.at}: ${w.lastEvaluation.root} ${w.lastEvaluation.outcome} in ${(w.lastEvaluation.durationMs / 1000).toFixed(1)}s` : '';
    this.log(`watcher:  ${w?.running ? `running (pid ${w.pid}, since ${w.since})${last}` : "not running ('devenv watch')"}`);
    return s;
  }
}
