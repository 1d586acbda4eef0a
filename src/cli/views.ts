// What ps, status and down print, as lines: the oclif commands and the light path (light.ts)
// print the same. No oclif here.
import type {StopResult} from '../usecases/services.js';
import type {Status} from '../usecases/status.js';
import type {WatcherStatus} from '../watch/state.js';

type PsResult = Awaited<ReturnType<typeof import('../usecases/services.js').listServices>>;

/** ps's lines: stdout and (a devenv.toml that does not load, said outside --json) stderr. */
export function psLines(r: PsResult, json = false): {out: string[]; err: string[]} {
  const {services, removed, manifestError, autoStart} = r;
  // Only what still runs can be listed then: say why the rest is missing.
  const err = manifestError && !json ? [`devenv: devenv.toml cannot be read, so only what still runs is listed: ${manifestError.message}${manifestError.hint ? `\n  hint: ${manifestError.hint}` : ''}`] : [];
  const out: string[] = [];
  if (!services.length) out.push(manifestError ? 'nothing of this project is running' : 'no services or processes in this project (add [services.postgres] or [processes.<name>] to devenv.toml)');
  else {
    // A URL column only with a front door ([services.caddy]).
    const urls = services.some((s) => s.url);
    const rows = [
      ['NAME', 'KIND', 'STATE', 'READY', 'PID', 'PORT', 'RESTARTS', 'DATA', ...(urls ? ['URL'] : [])],
      ...services.map((s) => [s.name, s.kind ?? 'service', s.state, s.ready === undefined ? '-' : s.ready ? 'yes' : 'no', s.pid ? String(s.pid) : '-', s.port ? String(s.port) : '-', s.restarts === undefined ? '-' : String(s.restarts), s.dataDir ?? '-', ...(urls ? [s.url ?? '-'] : [])]),
    ];
    const w = rows[0].map((_, i) => Math.max(...rows.map((x) => x[i].length)));
    out.push(...rows.map((x) => x.map((c, i) => (i < x.length - 1 ? c.padEnd(w[i]) : c)).join('  ')));
    for (const s of services) if (s.detail) out.push(`${s.name}: ${s.detail}`);
  }
  for (const x of removed) out.push(`${x.root} (a removed checkout of this repository) still runs: ${x.running.map((s) => `${s.name}${s.pid ? ` (pid ${s.pid})` : ''}`).join(', ')}; 'devenv gc' stops them`);
  if (autoStart) {
    const shells = autoStart.shells.map((s) => `${s.shell} (pid ${s.pid})`).join(', ');
    out.push(`auto-start: ${autoStart.units.join(', ') || 'nothing'} kept up by ${shells || 'no shell (stopping soon)'}; supervisor pid ${autoStart.supervisor}`);
  }
  return {out, err};
}

export const downLine = (r: StopResult): string => [`${r.name}: ${r.stopped ? `stopped${r.pid ? ` (pid ${r.pid})` : ''}` : 'not running'}`, ...r.steps.map((x) => `  ${x}`)].join('\n');

export function statusLines(s: Status): string[] {
  const out: string[] = [];
  out.push(`project:  ${s.root}`);
  if (s.real) out.push(`real path: ${s.real}`);
  const from = s.trustFrom ? ` (inherited from the allow of ${s.trustFrom}, a checkout of the same repository with the same inputs)` : '';
  out.push(`trust:    ${s.trust}${from}${s.trusted ? '' : " (run 'devenv allow' to load it on cd)"}`);
  if (s.trustOlderRule) out.push(`  ${s.trustOlderRule}`);
  if (s.trustChanged?.length) out.push(`changed since allowed: ${s.trustChanged.slice(0, 5).join(', ')}${s.trustChanged.length > 5 ? ` and ${s.trustChanged.length - 5} more` : ''}`);
  const unwatched = s.inputs.count - s.inputs.watchedAtPrompt;
  out.push(`inputs:   ${s.inputs.count} (${s.inputs.files.slice(0, 6).join(', ')}${s.inputs.count > 6 ? ', ...' : ''}): all nix reads${unwatched > 0 ? `; ${unwatched} beyond what the prompt watches (run 'devenv reload' after editing those)` : ''}`);
  const m = s.manifest;
  if (m?.error) out.push(`manifest: does not load: ${m.error}`);
  else if (m && m.files.length > 1) {
    // Merged from several files: each entry with the file and line it comes from.
    out.push(`manifest: ${m.files.join(' + ')} (merged in this order, the later winning)`);
    for (const e of m.entries) out.push(`  ${e.key} = ${JSON.stringify(e.value)}  (${e.file}:${e.line})`);
  }
  for (const f of s.trackedDotenv ?? []) out.push(`warning:  ${f} is a [dotenv] file tracked by git: its values are in every clone (git rm --cached ${f}; add it to .gitignore)`);
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
