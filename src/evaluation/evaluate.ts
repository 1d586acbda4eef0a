// The evaluation engine every path uses (exec, the hook, the watcher): cache lookup by
// content key, a per-project lock, real `nix print-dev-env`, GC roots, and fallback to the
// last good environment when evaluation fails.
import {createHash} from 'node:crypto';
import {mkdirSync, rmSync} from 'node:fs';
import {join} from 'node:path';
import {CACHE_FORMAT, computeKey, type KeyParts, overrideDigest} from '../cache/key.js';
import {type CacheEntry, readEntry, removeEntry, writeEntry} from '../cache/entries.js';
import {readProjectState, updateProjectState} from '../cache/project-state.js';
import {DevenvError, ExitCode, isTransient, NixFailedError} from '../errors.js';
import {fromPrintDevEnv} from '../env/print-dev-env.js';
import {nixpkgsOverride, overrideArgs, runNix, strictFromEnv} from '../nix/nix.js';
import {diagnoseNixError} from '../nix/nix-error.js';
import {gcrootsDir, projectStateDir} from '../paths.js';
import {oneListing, watchedInputs} from '../project/inputs.js';
import {type Project, projectAt} from '../project/project.js';
import {syncFlake, warnFlakeDrift} from '../project/sync.js';
import {checkTrust} from '../trust/trust.js';
import {daemonIgnores, nixOptionArgs, noSettings, parseNixActivity, projectTeamSettings, untrustedMessage} from '../teams/settings.js';
import type {LastNixRun} from '../cache/project-state.js';
import {runOnFlake} from './flake-run.js';
import {exists, readFileOrNull, StorageError, withLock, writeFileAtomic} from '../util/fs.js';
import {startProgress} from './progress.js';
import {debug} from '../util/debug.js';

export interface EnsureOptions {
  /** Re-evaluate even when the cache is fresh (`devenv reload`). */
  force?: boolean;
  /** Fail instead of serving the last good environment. */
  strict?: boolean;
  /** Show a progress line on a TTY. */
  progress?: boolean;
  /** Print warnings (fallback notices) to stderr. */
  quiet?: boolean;
  /**
   * Only evaluate (and run the shellHook of) content that is trusted: the hook and the watcher.
   * Checked against what is actually evaluated, so an edit after the caller's own check is not run.
   */
  requireTrust?: boolean;
  /** The caller tells the failure itself, every time (reload): no once-per-error notice here. */
  explainsFallback?: boolean;
}

/** The inputs changed between reading and evaluating them: evaluate again. */
class InputsChanged extends Error {}

export interface EnsureResult {
  entry: CacheEntry;
  /** 'hit': cache was fresh; 'evaluated': we (or a concurrent run) just evaluated; 'fallback': last good, evaluation failed. */
  source: 'hit' | 'evaluated' | 'fallback';
  error?: DevenvError;
}


/**
 * GC roots for the flake's inputs (nixpkgs above all: costly to fetch again), shared by every
 * entry with the same flake.lock and override, so a cold evaluation after an edit runs no
 * extra nix call. The project's own source is not rooted: it is local and cheap to re-add.
 * Runs alongside the evaluation; failing to root is not fatal.
 */
async function inputRoots(p: Project): Promise<{dir: string; done: Promise<void>} | undefined> {
  const lock = readFileOrNull(join(p.real, 'flake.lock')) ?? '';
  const override = nixpkgsOverride() ?? '';
  const id = createHash('sha256').update(`${lock}\0${override}\0${overrideDigest(override)}`).digest('hex').slice(0, 32);
  const dir = join(gcrootsDir(), 'inputs', id);
  if (exists(join(dir, 'done'))) return {dir, done: Promise.resolve()};
  const done = (async () => {
    const archived = (await runOnFlake(p, ['flake', 'archive', '--json', ...overrideArgs()], 'nix flake archive', {staged: true})).result;
    const paths: string[] = [];
    const collect = (node: {path?: string; inputs?: Record<string, unknown>}, top: boolean) => {
      if (node.path && !top) paths.push(node.path);
      for (const child of Object.values(node.inputs ?? {})) collect(child as typeof node, false);
    };
    collect(JSON.parse(archived.stdout), true);
    mkdirSync(dir, {recursive: true, mode: 0o700});
    // One nix build roots them all: out-links are input, input-1, input-2, ...
    if (paths.length) await runNix(['build', '--out-link', join(dir, 'input'), ...paths], {what: 'nix build (gc roots)'});
    writeFileAtomic(join(dir, 'done'), paths.join('\n') + '\n');
  })().catch((e) => debug(`rooting inputs failed: ${(e as Error).message}`));
  return {dir, done};
}

async function evaluateOnce(p: Project, parts: KeyParts, opts: EnsureOptions, report: {nix?: LastNixRun}): Promise<CacheEntry> {
  const {key, digest} = parts;
  // Teams: the project's caches and builders, only for content that is allowed.
  const team = await projectTeamSettings(p, parts);
  const root = p.root;
  const rootsDir = join(gcrootsDir(), key);
  rmSync(rootsDir, {recursive: true, force: true});
  mkdirSync(rootsDir, {recursive: true, mode: 0o700});
  const roots = [join(rootsDir, 'profile')];
  const start = Date.now();
  // Nix 2.8's daemon ignores an untrusted user's builders without a word (later versions warn):
  // ask it alongside the evaluation, the way doctor does.
  const builderProbe = team.passed && team.settings.builders.length
    ? daemonIgnores({...noSettings(), builders: team.settings.builders}, (args) => runNix(args, {what: 'nix store ping'})).catch((e) => {
        debug(`builders probe failed: ${(e as Error).message}`);
        return undefined;
      })
    : undefined;
  // The inputs are copied (filtered) first; the copy's digest is what nix will read.
  let inputs: Awaited<ReturnType<typeof inputRoots>>;
  const {result: printed, staged} = await runOnFlake(p, ['print-dev-env', '--json', '--profile', join(rootsDir, 'profile'), ...nixOptionArgs(team.passed ? team.settings : undefined), ...overrideArgs()], 'nix print-dev-env', {
    beforeNix: async (s) => {
      if (s && s.digest !== digest) throw new InputsChanged();
      // Rooting the inputs runs alongside the evaluation.
      inputs = await inputRoots(p);
    },
  });
  if (inputs) roots.push(inputs.dir);
  const durationMs = Date.now() - start;
  const act = parseNixActivity(printed.stderr);
  report.nix = {
    built: act.built.length,
    substituted: act.substituted.length,
    from: [...new Set(act.substituted.map((s) => s.from))],
    remote: act.remote.length ? [...new Set(act.remote.map((r) => r.on))] : undefined,
    refused: act.refused.length ? {count: act.refused.length, from: [...new Set(act.refused.map((r) => r.from))]} : undefined,
    ignoredSubstituters: act.ignoredSubstituters.filter((s) => team.settings.substituters.includes(s)),
    ignoredBuilders: team.passed && team.settings.builders.length && ((await builderProbe)?.buildersIgnored || act.ignoredSettings.includes('builders')) ? true : undefined,
    settingsPassed: team.passed,
    notPassedBecause: team.passed ? undefined : team.reason,
  };
  if (!opts.quiet) teamNotices(p, team, report.nix);
  const now = staged ?? computeKey(p);
  if (now.digest !== digest) throw new InputsChanged();
  if (opts.requireTrust && !checkTrust(p.root, digest).trusted) throw new DevenvError(`${p.root} changed since it was allowed; not running its shellHook`, {hint: "run 'devenv allow' to trust the new content"});
  let json: unknown;
  try {
    json = JSON.parse(printed.stdout);
  } catch {
    throw new NixFailedError('nix print-dev-env', 'printed output that is not JSON');
  }
  const spec = fromPrintDevEnv(json as Parameters<typeof fromPrintDevEnv>[0]);
  debug('parsed print-dev-env');
  await inputs?.done;
  debug('rooted inputs');
  const {watched, unwatched} = watchedInputs(now);
  return {format: CACHE_FORMAT, key, createdAt: new Date().toISOString(), durationMs, inputs: watched, ...(unwatched ? {unwatched} : {}), spec, roots};
}

/** Say once per project state why the project's caches did not help: not allowed, not trusted by the daemon, refused signatures. */
function teamNotices(p: Project, team: Awaited<ReturnType<typeof projectTeamSettings>>, run: LastNixRun): void {
  const s = team.settings;
  const has = s.substituters.length || s.builders.length;
  if (!has) return;
  const notes: string[] = [];
  if (!team.passed && team.reason) notes.push(`devenv: this project's [cache]/[nix] settings were not passed to nix: ${team.reason} (run 'devenv allow' after reviewing devenv.toml)`);
  if (run.ignoredSubstituters.length || run.ignoredBuilders) notes.push(`devenv: ${untrustedMessage(s, userName(), {substituters: run.ignoredSubstituters, builders: !!run.ignoredBuilders})}`);
  if (run.refused) notes.push(`devenv: ${run.refused.count} path(s) in ${run.refused.from.join(', ')} were refused: not signed by a key in [cache] trusted-public-keys (or the daemon's); nix built them here instead`);
  const text = notes.join('\n');
  if (!text) return;
  const st = readProjectState(p.root);
  if (st.teamNoticeShown === text) return;
  process.stderr.write(text + '\n');
  updateProjectState(p.root, {teamNoticeShown: text});
}

const userName = (): string => process.env.USER || process.env.LOGNAME || String(process.getuid?.() ?? 'you');

/**
 * Lock before evaluating, as devenv's own write, so a trusted project stays trusted: without
 * a flake.lock, or with one that locks an input from another URL than flake.nix now names
 * (a changed [nixpkgs] url), nix would write flake.lock itself during the evaluation (and the
 * inputs would change under it). Not with DEVENV_NIXPKGS, which never writes the lock.
 * A URL form devenv cannot compare costs one `nix flake lock` per pair of input URLs and flake.lock.
 */
async function ensureLockFile(p: Project): Promise<void> {
  if (nixpkgsOverride()) return;
  const lockFile = join(p.real, 'flake.lock');
  const flakeText = readFileOrNull(join(p.real, 'flake.nix')) ?? '';
  const lockText = readFileOrNull(lockFile);
  const {inputUrls, lockState} = await import('../flake/lock.js');
  // Keyed on the input URLs (the whole flake.nix when it names none devenv can read), so an
  // edit of the package list does not ask nix again.
  const urls = inputUrls(flakeText);
  const inputs = Object.keys(urls).length ? JSON.stringify(urls) : flakeText;
  const pair = (lock: string | null) => createHash('sha256').update(`${inputs}\0${lock}`).digest('hex');
  if (lockText !== null) {
    const state = lockState(flakeText, lockText);
    if (state === 'current') return;
    if (state === 'unknown' && readProjectState(p.root).lockCheckedFor === pair(lockText)) return;
  }
  const {keepTrustAcross} = await import('../trust/trust.js');
  await keepTrustAcross(p.root, () => runOnFlake(p, ['flake', 'lock'], 'nix flake lock'));
  updateProjectState(p.root, {lockCheckedFor: pair(readFileOrNull(lockFile))});
}

/** Find or build the environment of the project at `root`. */
export function ensureEnvironment(root: string, opts: EnsureOptions = {}): Promise<EnsureResult> {
  return oneListing(() => ensureEnvironmentOnce(root, opts));
}

async function ensureEnvironmentOnce(root: string, opts: EnsureOptions): Promise<EnsureResult> {
  const strict = opts.strict ?? strictFromEnv();
  if (!opts.quiet) warnFlakeDrift(root);
  const p = projectAt(root);
  let parts = computeKey(p);
  if (!opts.force) {
    const hit = readEntry(parts.key);
    if (hit.status === 'hit') return {entry: hit.entry, source: 'hit'};
    // This exact content already failed: do not run nix again until something changes. Not for
    // the failures the nix error table names: they depend on git's index or the machine (an
    // untracked file, the daemon), so 'git add flake.nix' must work without another edit.
    const st = readProjectState(root);
    if (st.lastError && st.lastKey === parts.key && !diagnoseNixError(st.lastError)) {
      return fallbackOrThrow(root, new DevenvError(st.lastError, {exitCode: ExitCode.nixFailed, code: 'nix_failed', hint: "fix the error and save, or run 'devenv reload'"}), strict, opts, parts.key);
    }
  }
  debug('cache miss');
  const lockFile = join(projectStateDir(root), 'eval.lock');
  return withLock(lockFile, async () => {
    try {
      await syncFlake(root);
      await ensureLockFile(p);
    } catch (e) {
      return fallbackOrThrow(root, e as DevenvError, strict, opts);
    }
    parts = computeKey(p);
    const existing = readEntry(parts.key);
    if (existing.status === 'hit' && !opts.force) return {entry: existing.entry, source: 'hit' as const};
    if (existing.status === 'corrupt') removeEntry(parts.key);
    const progress = opts.progress ? startProgress(`evaluating ${root}`) : undefined;
    try {
      // Evaluate until the inputs hold still; never store a result whose inputs changed meanwhile.
      // The key holds the content digest, so an unchanged key means unchanged inputs.
      for (let attempt = 0; ; attempt++) {
        let entry: CacheEntry | undefined;
        const report: {nix?: LastNixRun} = {};
        try {
          entry = await evaluateOnce(p, parts, opts, report);
        } catch (e) {
          if (!(e instanceof InputsChanged)) throw e;
        }
        const after = computeKey(p);
        if (entry && after.key === parts.key) {
          try {
            writeEntry(entry);
            updateProjectState(root, {lastKey: parts.key, lastGoodKey: parts.key, lastEvalAt: entry.createdAt, lastDurationMs: entry.durationMs, lastError: undefined, lastErrorAt: undefined, errorShownFor: undefined, errorRendered: undefined, inputDigests: parts.perFile, lastNix: report.nix});
          } catch (e) {
            // A full or read-only cache: this environment works now, it is just not kept.
            if (!(e instanceof StorageError)) throw e;
            process.stderr.write(`devenv: ${e.message} (the environment is not cached)\n`);
          }
          progress?.done('done');
          return {entry, source: 'evaluated' as const};
        }
        if (attempt >= 2) throw new DevenvError('the project kept changing while it was evaluated; not caching the result', {hint: "run 'devenv reload' once the files are saved"});
        parts = after;
      }
    } catch (e) {
      progress?.done('failed');
      return fallbackOrThrow(root, e as DevenvError, strict, opts, parts.key);
    }
  }, () => {
    if (opts.progress && process.stderr.isTTY) process.stderr.write('devenv: waiting for another evaluation of this project\n');
  });
}

function fallbackOrThrow(root: string, err: DevenvError, strict: boolean, opts: EnsureOptions, key?: string): EnsureResult {
  if (!(err instanceof DevenvError)) throw err;
  const state = readProjectState(root);
  // An interrupted or killed nix says nothing about the content: not recorded, so retried.
  if (!isTransient(err) && !(state.lastKey === key && state.lastError === err.message)) {
    try {
      updateProjectState(root, {lastKey: key, lastError: err.message, lastErrorAt: new Date().toISOString()});
    } catch {}
  }
  const good = state.lastGoodKey ? readEntry(state.lastGoodKey) : undefined;
  if (strict || !good || good.status !== 'hit') throw err;
  // Once per distinct error: a different error for the same content (or the manifest) shows too.
  const shownKey = `${key ?? 'manifest'}:${createHash('sha256').update(err.message).digest('hex').slice(0, 16)}`;
  if (!opts.quiet && !opts.explainsFallback && state.errorShownFor !== shownKey) {
    process.stderr.write(`devenv: evaluation failed; using the last good environment (from ${good.entry.createdAt})\n${err.message}\n  hint: ${err.hint ?? "run 'devenv status'"}\n`);
    try {
      updateProjectState(root, {errorShownFor: shownKey});
    } catch {}
  }
  return {entry: good.entry, source: 'fallback', error: err};
}
