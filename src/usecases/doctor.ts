// `devenv doctor`: check the setup piece by piece and say what to do next for each problem.
// Every check is independent; a check that cannot run says why instead of failing the rest.
import {readdirSync, readFileSync} from 'node:fs';
import {basename, dirname, join} from 'node:path';
import {readProjectState} from '../cache/project-state.js';
import {ExitCode} from '../errors.js';
import {FEATURES, findNix} from '../nix/nix.js';
import {cacheStatus} from '../cache/status.js';
import {tilde} from '../paths.js';
import {checkTrust} from '../trust/trust.js';
import {exists, readFileOrNull} from '../util/fs.js';
import {pidAlive} from '../util/proc.js';
import {watcherStatus} from '../watch/state.js';
import {diagnoseNixError, summarizeNixError} from '../nix/nix-error.js';
import {flakeDrift} from '../project/sync.js';
import type {Project} from '../project/project.js';
import {inputsOf} from '../project/inputs.js';
import {trackedDotenvFiles} from '../project/dotenv-git.js';
import {daemonIgnores, hasSettings, ignoredPart, nixConfFix, projectTeamSettings} from '../teams/settings.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  /** What to do about it (absent when all is well). */
  next?: string;
}

export interface DoctorReport {
  project: string | null;
  checks: Check[];
  failures: number;
  warnings: number;
  exitCode: number;
}

/** nix and git for a check: bounded in time, never our stdin. */
const run = async (cmd: string, args: string[], opts: {timeoutMs?: number} = {}) => (await import('../util/run.js')).run(cmd, args, {timeoutMs: opts.timeoutMs ?? 20_000});

const lastLines = (s: string, n = 3): string =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('warning:'))
    .slice(-n)
    .join(' | ');

// ---- nix ----------------------------------------------------------------------------------

export function parseNixVersion(text: string): [number, number, number] | null {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

async function nixChecks(): Promise<Check[]> {
  const nix = findNix();
  if (!nix) {
    const skipped = (id: string, title: string): Check => ({id, title, status: 'skip', detail: 'needs nix'});
    return [
      {
        id: 'nix',
        title: 'nix installed',
        status: 'fail',
        detail: 'nix was not found on PATH',
        next: 'install Nix (Debian: apt-get install nix-bin; elsewhere: https://nixos.org/download), then open a new shell',
      },
      skipped('flakes', 'flakes usable'),
      skipped('store', 'nix store / daemon reachable'),
    ];
  }
  const [ver, flakes, store] = await Promise.all([
    run(nix, [...FEATURES, '--version'], {timeoutMs: 10_000}),
    run(nix, [...FEATURES, 'eval', '--expr', 'builtins ? getFlake'], {timeoutMs: 30_000}),
    run(nix, [...FEATURES, 'store', 'ping'], {timeoutMs: 20_000}),
  ]);
  const checks: Check[] = [];
  const v = parseNixVersion(ver.stdout);
  if (ver.exitCode !== 0 || !v) {
    checks.push({id: 'nix', title: 'nix installed', status: 'fail', detail: `${nix} does not run: ${ver.error ?? lastLines(ver.stderr)}`, next: 'reinstall Nix, or fix PATH so a working nix comes first'});
  } else if (v[0] < 2 || (v[0] === 2 && v[1] < 4)) {
    checks.push({id: 'nix', title: 'nix installed', status: 'fail', detail: `${ver.stdout.trim()} at ${nix} is too old: flakes need Nix 2.4 or newer`, next: 'upgrade Nix'});
  } else {
    checks.push({id: 'nix', title: 'nix installed', status: 'ok', detail: `${ver.stdout.trim()} at ${nix}`});
  }
  if (flakes.exitCode === 0 && flakes.stdout.trim() === 'true') {
    checks.push({id: 'flakes', title: 'flakes usable', status: 'ok', detail: "devenv passes --extra-experimental-features 'nix-command flakes' itself"});
  } else {
    checks.push({
      id: 'flakes',
      title: 'flakes usable',
      status: 'fail',
      detail: flakes.exitCode === 0 ? 'nix evaluates, but without flake support' : `nix cannot evaluate: ${flakes.error ?? lastLines(flakes.stderr)}`,
      next: diagnoseNixError(flakes.stderr)?.hint ?? 'upgrade to Nix 2.4 or newer; check that nix.conf does not disable experimental features',
    });
  }
  if (store.exitCode === 0) {
    const url = /Store URL:\s*(\S+)/.exec(store.stdout + store.stderr)?.[1];
    checks.push({id: 'store', title: 'nix store / daemon reachable', status: 'ok', detail: url ? `store ${url}` : 'reachable'});
  } else {
    const daemon = process.env.NIX_REMOTE === 'daemon' || exists('/nix/var/nix/daemon-socket/socket');
    checks.push({
      id: 'store',
      title: 'nix store / daemon reachable',
      status: 'fail',
      detail: `nix store ping failed: ${store.error ?? lastLines(store.stderr)}`,
      next: diagnoseNixError(store.stderr)?.hint ?? (daemon
        ? 'start the daemon (sudo systemctl start nix-daemon) and check that you may use it (allowed-users in nix.conf)'
        : 'check that /nix/store and /nix/var/nix are writable by you, or use the daemon (NIX_REMOTE=daemon)'),
    });
  }
  return checks;
}

// ---- hook ---------------------------------------------------------------------------------

function procStat(pid: number): {ppid: number; comm: string} | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parens: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {ppid: Number(fields[1]), comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))};
  } catch {
    return null;
  }
}

/** Our ancestors, nearest first (Linux /proc), or null when that cannot be read. */
export function ancestors(pid = process.pid): {pid: number; comm: string}[] | null {
  const self = procStat(pid);
  if (!self) return null;
  const out: {pid: number; comm: string}[] = [];
  for (let p = self.ppid; p > 1 && out.length < 64; ) {
    const st = procStat(p);
    if (!st) break;
    out.push({pid: p, comm: st.comm});
    p = st.ppid;
  }
  return out;
}

/** The hook exports DEVENV_HOOK=<shell>:<pid of the shell>; a value inherited from another shell does not count. */
export function hookCheck(env: NodeJS.ProcessEnv = process.env): Check {
  const title = 'shell hook active in this shell';
  const anc = ancestors();
  // The shell we were started from is the nearest bash/zsh/fish above us (npx and friends add sh layers).
  const shellAbove = anc?.find((a) => ['bash', 'zsh', 'fish'].includes(a.comm));
  const shell = shellAbove?.comm ?? basename(env.SHELL || 'bash');
  const install =
    shell === 'fish'
      ? "add 'devenv hook fish | source' to ~/.config/fish/config.fish"
      : `add 'eval "$(devenv hook ${shell === 'zsh' ? 'zsh' : 'bash'})"' to ~/.${shell === 'zsh' ? 'zsh' : 'bash'}rc`;
  const m = /^(bash|zsh|fish):(\d+)$/.exec(env.DEVENV_HOOK ?? '');
  if (!m) {
    return {id: 'hook', title, status: 'warn', detail: 'no devenv hook in this shell: projects load only through devenv exec/shell', next: `${install}, then open a new shell`};
  }
  const pid = Number(m[2]);
  const active = anc ? (shellAbove ? shellAbove.pid === pid : anc.some((a) => a.pid === pid)) : pidAlive(pid);
  if (!active) {
    return {id: 'hook', title, status: 'warn', detail: `DEVENV_HOOK was inherited from another ${m[1]} (pid ${pid}); this shell did not run the hook`, next: `${install}, then open a new shell`};
  }
  return {id: 'hook', title, status: 'ok', detail: `${m[1]} hook (shell pid ${pid})`};
}


// ---- project checks -----------------------------------------------------------------------

function trustCheck(p: Project): Check {
  const t = checkTrust(p);
  const title = 'project trusted';
  if (t.trusted) return {id: 'trust', title, status: 'ok', detail: t.state === 'prefix' ? 'under a trusted prefix' : t.state === 'worktree' ? 'a worktree of an allowed checkout' : 'allowed'};
  const detail = t.state === 'denied' ? 'denied: it never loads on cd' : t.state === 'changed' ? 'changed since it was allowed: it does not load on cd' : 'not allowed: it does not load on cd';
  return {id: 'trust', title, status: 'warn', detail, next: "review flake.nix and devenv.toml, then run 'devenv allow'"};
}

/** nix-direnv is loaded by the .envrc itself or by direnv's user config (direnvrc, lib/*.sh). */
function nixDirenvLoaded(envrc: string, env: NodeJS.ProcessEnv): boolean {
  const re = /nix[-_]direnv/;
  if (re.test(envrc)) return true;
  const config = join(env.XDG_CONFIG_HOME || join(env.HOME || '/nonexistent', '.config'), 'direnv');
  const files = [join(config, 'direnvrc')];
  try {
    files.push(...readdirSync(join(config, 'lib')).map((f) => join(config, 'lib', f)));
  } catch {}
  return files.some((f) => re.test(f) || re.test(readFileOrNull(f) ?? ''));
}

export function direnvCheck(p: Project, cwd: string, env: NodeJS.ProcessEnv = process.env): Check {
  const {root} = p;
  const title = 'no direnv managing the same directory';
  // direnv uses the nearest .envrc at or above the directory, as far up as /.
  let envrc: string | undefined;
  for (let d = cwd; !envrc; d = dirname(d)) {
    if (exists(join(d, '.envrc'))) envrc = join(d, '.envrc');
    if (d === dirname(d)) break;
  }
  const active = env.DIRENV_DIR ? env.DIRENV_DIR.replace(/^-/, '') : undefined;
  const activeHere = active !== undefined && (root === active || root.startsWith(active + '/') || active.startsWith(root + '/'));
  if (!envrc && !activeHere) return {id: 'direnv', title, status: 'ok', detail: 'no .envrc here'};
  const text = envrc ? (readFileOrNull(envrc) ?? '') : '';
  // `use flake` and `use nix` are direnv's own; nix-direnv is only there when something loads it.
  const usesNix = /^\s*use[ \t]+(flake|nix)\b/m.test(text);
  const who = usesNix && nixDirenvLoaded(text, env) ? 'direnv with nix-direnv' : usesNix ? "direnv ('use flake'/'use nix')" : 'direnv';
  const where = envrc ? tilde(envrc) : `DIRENV_DIR=${env.DIRENV_DIR}`;
  return {
    id: 'direnv',
    title,
    status: 'warn',
    detail: `${who} also manages this directory (${where}${activeHere ? ', loaded in this shell' : ''}): both load an environment and undo each other's changes`,
    next: `use one of them: remove ${envrc ? tilde(envrc) : 'the .envrc'} (or 'direnv deny'), or drop devenv's hook for this tree`,
  };
}

/** Nix reads only the inputs (untracked ones too); what git can leak is a tracked dotenv file. */
export async function gitCheck(p: Project): Promise<Check> {
  const title = 'dotenv files kept out of git';
  if ((await run('git', ['--version'])).error) return {id: 'git', title, status: 'skip', detail: 'git is not installed'};
  if (!p.git) return {id: 'git', title, status: 'ok', detail: 'not in a git repository'};
  const tracked = trackedDotenvFiles(p);
  if (!tracked.length) return {id: 'git', title, status: 'ok', detail: 'no [dotenv] file is tracked by git'};
  return {
    id: 'git',
    title,
    status: 'warn',
    detail: `[dotenv] files tracked by git, so their values are in every clone and commit: ${tracked.join(', ')} (nix never reads them)`,
    next: `git rm --cached ${tracked.join(' ')}, and add ${tracked.length > 1 ? 'them' : 'it'} to .gitignore`,
  };
}

export function driftCheck(p: Project): Check {
  const title = 'flake.nix follows devenv.toml';
  const d = flakeDrift(p);
  if (!d) return {id: 'flake', title, status: 'ok', detail: 'nothing in devenv.toml waits to be applied'};
  return {id: 'flake', title, status: 'warn', detail: d.message, next: d.hint};
}

function cacheChecks(p: Project): Check[] {
  const st = readProjectState(p);
  const out: Check[] = [];
  let c;
  try {
    c = cacheStatus(p);
  } catch (e) {
    return [{id: 'cache', title: 'environment cache fresh', status: 'warn', detail: `cannot compute the cache key: ${(e as Error).message}`}];
  }
  const title = 'environment cache fresh';
  if (c.state === 'fresh') out.push({id: 'cache', title, status: 'ok', detail: st.lastEvalAt ? `fresh (evaluated ${st.lastEvalAt})` : 'fresh'});
  else if (c.state === 'missing') out.push({id: 'cache', title, status: 'warn', detail: `no environment yet: ${c.why ?? 'never evaluated'}`, next: "run 'devenv reload' (or cd in with the hook)"});
  else out.push({id: 'cache', title, status: 'warn', detail: `stale: ${c.why}`, next: "run 'devenv reload', or keep 'devenv watch' running to re-evaluate after edits"});
  if (st.lastError) {
    out.push({
      id: 'evaluation',
      title: 'last evaluation succeeded',
      status: 'fail',
      detail: `the last evaluation${st.lastErrorAt ? ` (${st.lastErrorAt})` : ''} failed: ${summarizeNixError(st.lastError)}`,
      next: `${diagnoseNixError(st.lastError)?.hint ?? "fix the error, then run 'devenv reload'"}${st.lastGoodKey ? ' (until then the last good environment is used)' : ''}`,
    });
  } else {
    out.push({id: 'evaluation', title: 'last evaluation succeeded', status: 'ok', detail: st.lastEvalAt ? `yes (${st.lastEvalAt})` : 'no evaluation yet'});
  }
  return out;
}

export function watcherCheck(): Check {
  const w = watcherStatus();
  const title = 'background watcher';
  if (w.running) {
    const last = w.lastEvaluation ? `; last evaluation ${w.lastEvaluation.at}: ${tilde(w.lastEvaluation.root)} ${w.lastEvaluation.outcome} in ${(w.lastEvaluation.durationMs / 1000).toFixed(1)}s` : '';
    return {id: 'watcher', title, status: 'ok', detail: `running (pid ${w.pid}, since ${w.since})${last}`};
  }
  if (w.stale) return {id: 'watcher', title, status: 'warn', detail: `not running: it stopped without cleaning up (pid ${w.pid} is gone)`, next: "start it again with 'devenv watch' (or its service: 'devenv watch --print-service')"};
  return {id: 'watcher', title, status: 'ok', detail: "not running (optional: 'devenv watch' re-evaluates after edits so cd never waits)"};
}

async function postgresCheck(p: Project): Promise<Check | null> {
  const title = 'postgres port free';
  let layout;
  try {
    const {postgresLayout} = await import('../services/registry.js');
    layout = await postgresLayout(p);
  } catch (e) {
    return {id: 'postgres', title, status: 'warn', detail: `cannot read [services.postgres]: ${lastLines((e as Error).message, 1)}`, next: 'fix devenv.toml'};
  }
  if (!layout) return null;
  const {portFree} = await import('../services/process.js');
  const {portTakenHint} = await import('../services/ports.js');
  const {parsePidFile} = await import('../services/postgres-files.js');
  const port = await portFree(layout.port);
  if (port.free) return {id: 'postgres', title, status: 'ok', detail: `port ${layout.port} is free`};
  if (port.code !== 'EADDRINUSE') return {id: 'postgres', title, status: 'warn', detail: `cannot test port ${layout.port}: ${port.code}`};
  // In use: fine if it is this project's own server (postmaster.pid names the port and a live pid).
  const pm = parsePidFile(readFileOrNull(join(layout.dataDir, 'postmaster.pid')) ?? '');
  const pid = pm?.pid ?? 0;
  if (pm && pm.port === layout.port && pidAlive(pid)) {
    return {id: 'postgres', title, status: 'ok', detail: `this project's postgres runs on port ${layout.port} (pid ${pid})`};
  }
  return {
    id: 'postgres',
    title,
    status: 'fail',
    detail: `port ${layout.port} (this project's postgres port) is used by another program`,
    next: portTakenHint(layout.port),
  };
}

// ---- teams: the project's caches and builders ---------------------------------------------

async function teamsCheck(p: Project): Promise<Check | null> {
  const title = "project's binary caches and builders usable";
  const team = await projectTeamSettings(p, inputsOf(p));
  const s = team.settings;
  if (!hasSettings(s)) return null;
  if (!team.passed) return {id: 'teams', title, status: 'warn', detail: `[cache]/[nix] are not passed to nix: ${team.reason}`, next: "review devenv.toml, then run 'devenv allow'"};
  const nix = findNix();
  if (!nix) return {id: 'teams', title, status: 'skip', detail: 'needs nix'};
  const res = await daemonIgnores(s, async (args) => run(nix, [...FEATURES, ...args], {timeoutMs: 20_000}));
  if (!res.ignored.length && !res.buildersIgnored) return {id: 'teams', title, status: 'ok', detail: `passed to nix: ${[...s.substituters, ...s.builders.map((b) => `builder ${b.split(' ')[0]}`)].join(', ') || 'keys only'}`};
  const user = process.env.USER || process.env.LOGNAME || 'you';
  const fix = nixConfFix(ignoredPart(s, {substituters: res.ignored, builders: res.buildersIgnored}), user);
  return {
    id: 'teams',
    title,
    status: 'fail',
    detail: `the nix daemon ignores ${[...res.ignored, ...(res.buildersIgnored ? ['the builders'] : [])].join(', ')}: ${user} is not a trusted user, so nix builds everything itself`,
    next: `add to /etc/nix/nix.conf, then restart the daemon (sudo systemctl restart nix-daemon):\n${fix.map((l) => `            ${l}`).join('\n')}\n        or make ${user} trusted (root-equivalent for the store): trusted-users = root ${user}`,
  };
}

// ---- report -------------------------------------------------------------------------------

/** `p`: the project around `cwd`, or null outside every project (the machine checks still run). */
export async function runDoctor(p: Project | null, cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<DoctorReport> {
  const root = p?.root ?? null;
  const checks: Check[] = [...(await nixChecks()), hookCheck(env)];
  if (p) {
    checks.push(trustCheck(p), direnvCheck(p, cwd, env), await gitCheck(p), driftCheck(p), ...cacheChecks(p));
    const teams = await teamsCheck(p).catch((e) => ({id: 'teams', title: "project's binary caches and builders usable", status: 'warn' as const, detail: `cannot check: ${(e as Error).message.split('\n')[0]}`}));
    if (teams) checks.push(teams);
    const pg = await postgresCheck(p);
    if (pg) checks.push(pg);
  }
  checks.push(watcherCheck());
  const failures = checks.filter((c) => c.status === 'fail').length;
  const warnings = checks.filter((c) => c.status === 'warn').length;
  const nixMissing = checks.some((c) => c.id === 'nix' && c.status === 'fail' && !findNix());
  return {project: root, checks, failures, warnings, exitCode: nixMissing ? ExitCode.nixMissing : failures ? 1 : 0};
}

export function formatReport(r: DoctorReport): string {
  const label: Record<CheckStatus, string> = {ok: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip'};
  const lines = [r.project ? `devenv doctor: ${tilde(r.project)}` : 'devenv doctor (not in a project: project checks skipped)'];
  for (const c of r.checks) {
    lines.push(`  ${label[c.status]}  ${c.title}: ${c.detail}`);
    if (c.next && c.status !== 'ok') lines.push(`        next: ${c.next}`);
  }
  const summary = r.failures || r.warnings ? `${r.failures} problem${r.failures === 1 ? '' : 's'}, ${r.warnings} warning${r.warnings === 1 ? '' : 's'}` : 'everything looks fine';
  lines.push(summary);
  return lines.join('\n');
}
