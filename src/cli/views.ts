// What ps, status and down print, as lines: the oclif commands and the light path (light.ts)
// print the same. No oclif here.
import type {ServiceStatus, StopResult} from '../usecases/services.js';
import type {Status} from '../usecases/status.js';
import type {WatcherStatus} from '../watch/state.js';

type Removed = {root: string; running: {name: string; pid?: number}[]};

export function psLines(services: ServiceStatus[], removed: Removed[]): string[] {
  const tail = removed.map((r) => `${r.root} (a removed checkout of this repository) still runs: ${r.running.map((s) => `${s.name}${s.pid ? ` (pid ${s.pid})` : ''}`).join(', ')}; 'devenv gc' stops them`);
  if (!services.length) return ['no services or processes in this project (add [services.postgres] or [processes.<name>] to devenv.toml)', ...tail];
  const rows = [
    ['NAME', 'KIND', 'STATE', 'READY', 'PID', 'PORT', 'RESTARTS', 'DATA'],
    ...services.map((s) => [s.name, s.kind ?? 'service', s.state, s.ready === undefined ? '-' : s.ready ? 'yes' : 'no', s.pid ? String(s.pid) : '-', s.port ? String(s.port) : '-', s.restarts === undefined ? '-' : String(s.restarts), s.dataDir ?? '-']),
  ];
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const out = rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(w[i]) : c)).join('  '));
  for (const s of services) if (s.detail) out.push(`${s.name}: ${s.detail}`);
  return [...out, ...tail];
}

export const downLine = (r: StopResult): string => [`${r.name}: ${r.stopped ? `stopped${r.pid ? ` (pid ${r.pid})` : ''}` : 'not running'}`, ...r.steps.map((x) => `  ${x}`)].join('\n');

export function statusLines(s: Status): string[] {
  const out: string[] = [];
  out.push(`project:  ${s.root}`);
  if (s.real) out.push(`real path: ${s.real}`);
  out.push(`trust:    ${s.trust}${s.trusted ? '' : " (run 'devenv allow' to load it on cd)"}`);
  if (s.trustChanged?.length) out.push(`changed since allowed: ${s.trustChanged.slice(0, 5).join(', ')}${s.trustChanged.length > 5 ? ` and ${s.trustChanged.length - 5} more` : ''}`);
  out.push(`cache:    ${s.cache.state}${s.cache.why ? ` (${s.cache.why})` : ''}`);
  if (s.lastEvaluation) out.push(`last evaluation: ${s.lastEvaluation.at}${s.lastEvaluation.durationMs !== undefined ? ` in ${(s.lastEvaluation.durationMs / 1000).toFixed(1)}s` : ''}`);
  if (s.flakeDrift) out.push(`flake:    ${s.flakeDrift.message}\n  hint: ${s.flakeDrift.hint}`);
  if (s.lastError) out.push(`last error (${s.lastError.at}):\n  ${s.lastError.message.split('\n').join('\n  ')}${s.lastError.hint ? `\n  hint: ${s.lastError.hint}` : ''}`);
  for (const svc of s.services as {name: string; state: string; port?: number; pid?: number}[]) out.push(`service:  ${svc.name} ${svc.state}${svc.port ? ` on port ${svc.port}` : ''}${svc.pid ? ` (pid ${svc.pid})` : ''}`);
  if (s.setup?.running) out.push(`setup:    running: ${s.setup.running.steps} (pid ${s.setup.running.pid}, since ${s.setup.running.since})`);
  if (s.setup?.failed) out.push(`setup:    failed (${s.setup.failed.step}, ${s.setup.failed.at}):\n  ${s.setup.failed.output.split('\n').join('\n  ')}`);
  else if (s.setup?.missing?.length && !s.setup.running) out.push(`setup:    needed: ${s.setup.missing.join(' and ')} ${s.setup.missing.length > 1 ? 'are' : 'is'} gone; set up again at the next entry or 'devenv exec'`);
  else if (s.setup?.lastOk && !s.setup.running) out.push(`setup:    done ${s.setup.lastOk}`);
  if (s.teams) {
    const t = s.teams;
    const c = t.settings;
    const state = t.passed ? 'passed to nix' : `not passed to nix (${t.notPassedBecause ?? 'no settings'})`;
    if (c.substituters.length || c.trustedPublicKeys.length) out.push(`caches:   ${c.substituters.join(', ') || '(keys only)'}; ${state}`);
    if (c.trustedPublicKeys.length) out.push(`keys:     ${c.trustedPublicKeys.join(', ')}`);
    if (c.push) out.push(`push to:  ${c.push}`);
    if (c.builders.length) out.push(`builders: ${c.builders.map((b) => b.split(' ')[0]).join(', ')}${c.buildersUseSubstitutes ? ' (use substitutes)' : ''}; ${state}`);
    const n = t.lastNix;
    if (n) {
      const from = n.from.length ? ` from ${n.from.join(', ')}` : '';
      const remote = n.remote?.length ? ` (on ${n.remote.join(', ')})` : '';
      let line = n.built === 0 && n.substituted === 0 ? 'everything was already in the store' : `built ${n.built}${remote}, substituted ${n.substituted}${from}`;
      if (n.refused) line += `; ${n.refused.count} refused from ${n.refused.from.join(', ')} (signature not trusted)`;
      const ignored = [...n.ignoredSubstituters, ...(n.ignoredBuilders ? ['the builders'] : [])];
      if (ignored.length) line += `; the daemon ignored ${ignored.join(', ')} (not a trusted user: see 'devenv doctor')`;
      out.push(`last nix run: ${line}`);
    }
  }
  const w = s.watcher as WatcherStatus | null;
  const last = w?.lastEvaluation ? `; last evaluation ${w.lastEvaluation.at}: ${w.lastEvaluation.root} ${w.lastEvaluation.outcome} in ${(w.lastEvaluation.durationMs / 1000).toFixed(1)}s` : '';
  out.push(`watcher:  ${w?.running ? `running (pid ${w.pid}, since ${w.since})${last}` : "not running ('devenv watch')"}`);
  return out;
}
