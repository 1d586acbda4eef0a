// Render the per-shell activation scripts for a trusted project into the user's state dir.
// The shells source them on `cd` without starting node; only trusted content gets here.
import {closeSync, mkdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, utimesSync} from 'node:fs';
import {dirname, join} from 'node:path';
import type {CacheEntry} from '../cache/entries.js';
import {autoStartShellsDir, shellIndexLink, stateDir, tilde, trustEpochPath, usedMarker} from '../paths.js';
import {activationConfig, dotenvNames, setupInputNames} from '../project/dotenv.js';
import {CORE_FILES} from '../project/find.js';
import {setupTargetNames} from '../project/languages.js';
import type {Project} from '../project/project.js';
import {briefNixError} from '../nix/nix-error.js';
import {projectEnvironment} from '../services/environment.js';
import {SHELL_NAMES, shellFor} from '../shells/index.js';
import type {Watched} from '../shells/logic.js';
import type {Activation, ShellName} from '../shells/shell.js';
import {checkTrust, checkTrustOf} from '../trust/trust.js';
import {ensureDir, exists, openNoFollow, writeFileAtomic} from '../util/fs.js';

export const trustEpochFile = trustEpochPath;

/**
 * Create the epoch file if missing, dated in the past: a shell that already took its stamp
 * before this call must not see a trust change (it would run the miss path twice).
 */
export function ensureTrustEpoch(): void {
  const f = trustEpochFile();
  if (exists(f)) return;
  writeFileAtomic(f, '', 0o600);
  utimesSync(f, 0, 0);
}

/** Make every shell re-check its project on the next prompt (after allow, deny, reload). */
export function touchTrustEpoch(): void {
  const f = trustEpochFile();
  if (!exists(f)) writeFileAtomic(f, '', 0o600);
  const now = new Date();
  utimesSync(f, now, now);
}

export const activationPath = (p: Project, shell: ShellName): string => join(p.stateDir, `activate.${shell}`);

export {tilde};

/** "python3 3.11, postgresql 15" from the store paths on the env's PATH. */
export function describeEnv(entry: CacheEntry): string {
  const names: string[] = [];
  for (const p of entry.spec.prepend.PATH ?? []) {
    const m = /^\/nix\/store\/[0-9a-z]{32}-(.+?)\/bin$/.exec(p);
    if (!m) continue;
    const nv = /^(.+?)-(\d[^-]*)$/.exec(m[1]);
    const label = nv ? `${nv[1]} ${nv[2]}` : m[1];
    if (!names.includes(label)) names.push(label);
  }
  return names.slice(0, 6).join(', ') + (names.length > 6 ? ', ...' : '');
}

/** Top-level store paths of the environment's PATH-likes: their absence means a garbage-collected env. */
export function storePathsOf(entry: CacheEntry): string[] {
  const out = new Set<string>();
  for (const entries of Object.values(entry.spec.prepend)) for (const p of entries) {
    const m = /^\/nix\/store\/[0-9a-z]{32}-[^/]+/.exec(p);
    if (m) out.add(m[0]);
  }
  return [...out];
}

/**
 * A reference file per watched file, dated a second before its mtime (whole seconds: older
 * shells compare seconds only), so the shells' builtin `-nt` tests see an mtime that moved
 * backwards (tar, rsync -a, cp -p) as a change.
 */
function mtimeRefs(p: Project, files: string[]): Watched[] {
  const dir = join(p.stateDir, 'mtime');
  ensureDir(dir);
  return files.map((file, i) => {
    const w: Watched = {file};
    try {
      const at = Math.floor(statSync(file).mtimeMs / 1000) - 1;
      const ref = join(dir, `${i}.lo`);
      closeSync(openNoFollow(ref));
      utimesSync(ref, at, at);
      w.lo = ref;
    } catch (e) {
      if (e instanceof Error && 'code' in e && ['EROFS', 'ENOSPC', 'EACCES'].includes(String((e as NodeJS.ErrnoException).code))) return {file};
      throw e;
    }
    return w;
  });
}

const shellsDirFor = (p: Project): string => {
  const dir = autoStartShellsDir(p.stateDir);
  ensureDir(dir);
  return dir;
};

/** What all three shells' activations share: computed once per render. */
async function sharedActivation(p: Project, entry: CacheEntry, error?: string) {
  const {root} = p;
  const environment = await projectEnvironment(p, entry);
  const {effects} = environment;
  const {vars, paths} = environment.toActivation();
  // The dotenv and setup files too: an edit must reach the shell (and be checked against trust).
  // Nothing of git: a commit, pull or checkout matters only through the inputs it changes.
  // Inputs beyond the watch limit: an allow (the trust epoch) makes the prompt check them all.
  const files = [...new Set([...CORE_FILES, ...entry.inputs, ...dotenvNames(p), ...setupInputNames(p), ...setupTargetNames(p)])].map((f) => join(root, f));
  if (entry.unwatched) {
    ensureTrustEpoch();
    files.push(trustEpochFile());
  }
  const present = files.filter(exists);
  const desc = describeEnv(entry);
  const notes = [...(effects?.output ?? [])];
  if (entry.unwatched) notes.push(`devenv: ${entry.unwatched} of this project's inputs are past the ${entry.inputs.length} the prompt watches; after editing one of those, run 'devenv reload' (an allow checks them all)`);
  if (error) {
    // The cause, not the warnings nix prints before it (an unwritten lock file) or its stack frames.
    notes.push(...briefNixError(error).map((l) => '  ' + l), "  run 'devenv status' for the whole error; devenv tries again when a file changes");
  }
  return {
    project: p,
    root,
    vars,
    paths,
    watch: mtimeRefs(p, present),
    absent: files.filter((f) => !present.includes(f)),
    storePaths: storePathsOf(entry),
    usedMarker: usedMarker(entry.key),
    notes,
    defs: activationConfig(p).defs,
    autoStart: activationConfig(p).autoStart ? {shellsDir: shellsDirFor(p)} : undefined,
    message: error
      ? `devenv: ${tilde(root)} failed to evaluate; using the last good environment${desc ? ` (${desc})` : ''}`
      : `devenv: loading ${tilde(root)}${desc ? ` (${desc})` : ''}`,
  };
}

type Shared = Awaited<ReturnType<typeof sharedActivation>>;

function activationFor(shared: Shared, shell: ShellName): Activation {
  return {
    root: shared.root,
    vars: shared.vars,
    paths: shared.paths,
    // The script itself: a deny deletes it and a re-render (watcher, refresh) replaces it, and
    // either must reach the shell.
    watch: [...shared.watch, {file: activationPath(shared.project, shell)}],
    watchAbsent: shared.absent,
    storePaths: shared.storePaths,
    usedMarker: shared.usedMarker,
    message: shared.message,
    notes: shared.notes,
    defs: shared.defs,
    autoStart: shared.autoStart,
  };
}

/** The activation script text for one shell, without writing it (for a read-only state dir). */
export async function activationText(p: Project, entry: CacheEntry, shell: ShellName, error?: string): Promise<string> {
  const shared = await sharedActivation(p, entry, error);
  return shellFor(shell).activationScript(activationFor(shared, shell), activationPath(p, shell));
}

/**
 * Write activate.{bash,zsh,fish}. Refuses (returns false) unless the content is trusted now;
 * `digest` is the content digest the caller already computed, if any. `error`: an evaluation
 * error to show on loading (the environment is the last good one).
 */
export async function renderActivations(p: Project, entry: CacheEntry, opts: {digest?: string; error?: string} = {}): Promise<boolean> {
  if (!(opts.digest === undefined ? checkTrust(p) : checkTrustOf(p, opts.digest)).trusted) return false;
  const shared = await sharedActivation(p, entry, opts.error);
  ensureDir(dirname(shared.usedMarker));
  for (const name of SHELL_NAMES) {
    const file = activationPath(p, name);
    writeFileAtomic(file, shellFor(name).activationScript(activationFor(shared, name), file), 0o600);
  }
  linkShellIndex(p);
  return true;
}

/**
 * Point the shell's index (roots/<path>/@devenv@, see paths.ts) at the project's state dir, for
 * the path the shell knows and the real one. A path too long for the index is simply not indexed.
 */
export function linkShellIndex(p: Project): void {
  const target = p.stateDir;
  for (const r of new Set([p.root, p.real])) {
    const link = shellIndexLink(r);
    try {
      if (readlinkSync(link) === target) continue;
    } catch {}
    try {
      mkdirSync(dirname(link), {recursive: true, mode: 0o700});
      const tmp = `${link}.tmp-${process.pid}`;
      rmSync(tmp, {force: true});
      symlinkSync(target, tmp);
      renameSync(tmp, link);
    } catch {}
  }
}

/** The path a shell should source: through its index when that is in place (the prompt compares paths). */
export function shellActivationPath(p: Project, shell: ShellName): string {
  const viaIndex = join(shellIndexLink(p.root), `activate.${shell}`);
  try {
    if (readlinkSync(shellIndexLink(p.root)) === p.stateDir) return viaIndex;
  } catch {}
  return activationPath(p, shell);
}

export function removeActivations(p: Project): void {
  for (const name of SHELL_NAMES) rmSync(activationPath(p, name), {force: true});
}
