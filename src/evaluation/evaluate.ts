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
import {gcrootsDir, projectStateDir} from '../paths.js';
import {syncFlake} from '../project/sync.js';
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
}

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
async function inputRoots(root: string): Promise<{dir: string; done: Promise<void>} | undefined> {
  const lock = readFileOrNull(join(root, 'flake.lock')) ?? '';
  const override = nixpkgsOverride() ?? '';
  const id = createHash('sha256').update(`${lock}\0${override}\0${overrideDigest(override)}`).digest('hex').slice(0, 32);
  const dir = join(gcrootsDir(), 'inputs', id);
  if (exists(join(dir, 'done'))) return {dir, done: Promise.resolve()};
  const done = (async () => {
    const archived = await runNix(['flake', 'archive', '--json', ...overrideArgs(), root], {cwd: root, what: 'nix flake archive'});
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

async function evaluateOnce(root: string, {key, files}: KeyParts): Promise<CacheEntry> {
  const rootsDir = join(gcrootsDir(), key);
  rmSync(rootsDir, {recursive: true, force: true});
  mkdirSync(rootsDir, {recursive: true, mode: 0o700});
  const roots = [join(rootsDir, 'profile')];
  const inputs = await inputRoots(root);
  if (inputs) roots.push(inputs.dir);
  const start = Date.now();
  const printed = await runNix(['print-dev-env', '--json', '--profile', join(rootsDir, 'profile'), ...overrideArgs(), root], {cwd: root, what: 'nix print-dev-env'});
  const durationMs = Date.now() - start;
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
  return {format: CACHE_FORMAT, key, createdAt: new Date().toISOString(), durationMs, inputs: files.map((f) => f.slice(root.length + 1)), spec, roots};
}

/**
 * Without a flake.lock, nix writes one during the first evaluation: the inputs would change
 * under it (and the cache would never settle). Lock first, as devenv's own write, so a
 * trusted project stays trusted. Not with DEVENV_NIXPKGS, which never writes the lock.
 */
async function ensureLockFile(root: string): Promise<void> {
  if (nixpkgsOverride() || exists(join(root, 'flake.lock'))) return;
  const {keepTrustAcross} = await import('../trust/trust.js');
  await keepTrustAcross(root, () => runNix(['flake', 'lock', root], {cwd: root, what: 'nix flake lock'}));
}

/** Find or build the environment of the project at `root`. */
export async function ensureEnvironment(root: string, opts: EnsureOptions = {}): Promise<EnsureResult> {
  const strict = opts.strict ?? strictFromEnv();
  let parts = computeKey(root);
  if (!opts.force) {
    const hit = readEntry(parts.key);
    if (hit.status === 'hit') return {entry: hit.entry, source: 'hit'};
    // This exact content already failed: do not run nix again until something changes.
    const st = readProjectState(root);
    if (st.lastError && st.lastKey === parts.key) {
      return fallbackOrThrow(root, new DevenvError(st.lastError, {exitCode: ExitCode.nixFailed, code: 'nix_failed', hint: "fix the error and save, or run 'devenv reload'"}), strict, opts, parts.key);
    }
  }
  debug('cache miss');
  const lockFile = join(projectStateDir(root), 'eval.lock');
  return withLock(lockFile, async () => {
    try {
      await syncFlake(root);
      await ensureLockFile(root);
    } catch (e) {
      return fallbackOrThrow(root, e as DevenvError, strict, opts);
    }
    parts = computeKey(root);
    const existing = readEntry(parts.key);
    if (existing.status === 'hit' && !opts.force) return {entry: existing.entry, source: 'hit' as const};
    if (existing.status === 'corrupt') removeEntry(parts.key);
    const progress = opts.progress ? startProgress(`evaluating ${root}`) : undefined;
    try {
      // Evaluate until the inputs hold still; never store a result whose inputs changed meanwhile.
      // The key holds the content digest, so an unchanged key means unchanged inputs.
      for (let attempt = 0; ; attempt++) {
        const entry = await evaluateOnce(root, parts);
        const after = computeKey(root);
        if (after.key === parts.key) {
          try {
            writeEntry(entry);
            updateProjectState(root, {lastKey: parts.key, lastGoodKey: parts.key, lastEvalAt: entry.createdAt, lastDurationMs: entry.durationMs, lastError: undefined, lastErrorAt: undefined, errorShownFor: undefined, errorRendered: undefined, inputDigests: parts.perFile});
          } catch (e) {
            // A full or read-only cache: this environment works now, it is just not kept.
            if (!(e instanceof StorageError)) throw e;
            process.stderr.write(`devenv: ${e.message} (the environment is not cached)\n`);
          }
          progress?.done(`evaluated in ${(entry.durationMs / 1000).toFixed(1)}s`);
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
  if (!opts.quiet && state.errorShownFor !== shownKey) {
    process.stderr.write(`devenv: evaluation failed; using the last good environment (from ${good.entry.createdAt})\n${err.message}\n  hint: ${err.hint ?? "run 'devenv status'"}\n`);
    try {
      updateProjectState(root, {errorShownFor: shownKey});
    } catch {}
  }
  return {entry: good.entry, source: 'fallback', error: err};
}
