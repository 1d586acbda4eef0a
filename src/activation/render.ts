// Render the per-shell activation scripts for a trusted project into the user's state dir.
// The shells source them on `cd` without starting node; only trusted content gets here.
import {mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, utimesSync} from 'node:fs';
import {dirname, join} from 'node:path';
import type {CacheEntry} from '../cache/entries.js';
import {projectStateDir, shellIndexLink, stateDir, tilde} from '../paths.js';
import {dotenvNames, setupInputNames} from '../project/dotenv.js';
import {CORE_FILES} from '../project/find.js';
import {withLanguages} from '../project/languages.js';
import {watchedGitFiles} from '../project/inputs.js';
import {projectAt} from '../project/project.js';
import {projectEnv} from '../services/project-env.js';
import {SHELL_NAMES, shellFor} from '../shells/index.js';
import type {Activation, ShellName} from '../shells/shell.js';
import {checkTrust} from '../trust/trust.js';
import {exists, realPath, writeFileAtomic} from '../util/fs.js';

export const trustEpochFile = (): string => join(stateDir(), 'trust-epoch');

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

export const activationPath = (root: string, shell: ShellName): string => join(projectStateDir(root), `activate.${shell}`);

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

/** What all three shells' activations share: computed once per render. */
async function sharedActivation(root: string, entry: CacheEntry) {
  const spec = withLanguages(entry.spec, root);
  // bash runs the real shellHook; recording its exports first makes them revert too.
  const vars: Record<string, string> = {...spec.vars, ...(spec.hookExports ?? {}), ...(await projectEnv(root))};
  // The dotenv and setup files too: an edit must reach the shell (and be checked against trust).
  const files = [...[...new Set([...CORE_FILES, ...entry.inputs, ...dotenvNames(root), ...setupInputNames(root)])].map((f) => join(root, f)), ...watchedGitFiles(projectAt(root))];
  const present = files.filter(exists);
  const desc = describeEnv(entry);
  return {
    root,
    vars,
    // Client wrappers of the project's services (redis-cli) come first on PATH.
    prepend: vars.DEVENV_SERVICE_BIN ? {...spec.prepend, PATH: [vars.DEVENV_SERVICE_BIN, ...(spec.prepend.PATH ?? [])]} : spec.prepend,
    present,
    absent: files.filter((f) => !present.includes(f)),
    message: `devenv: loading ${tilde(root)}${desc ? ` (${desc})` : ''}`,
  };
}

function activationFor(shared: Awaited<ReturnType<typeof sharedActivation>>, entry: CacheEntry, shell: ShellName): Activation {
  return {
    root: shared.root,
    vars: shared.vars,
    prepend: shared.prepend,
    shellHook: shell === 'bash' ? entry.spec.shellHook : undefined,
    // The script itself: a deny deletes it and a re-render (watcher, refresh) replaces it, and
    // either must reach the shell. The trust epoch is not needed once loaded.
    watchPresent: [...shared.present, activationPath(shared.root, shell)],
    watchAbsent: shared.absent,
    message: shared.message,
  };
}

/**
 * Write activate.{bash,zsh,fish}. Refuses (returns false) unless the content is trusted now;
 * `digest` is the content digest the caller already computed, if any.
 */
export async function renderActivations(root: string, entry: CacheEntry, digest?: string): Promise<boolean> {
  if (!checkTrust(root, digest).trusted) return false;
  const shared = await sharedActivation(root, entry);
  for (const name of SHELL_NAMES) {
    const file = activationPath(root, name);
    writeFileAtomic(file, shellFor(name).activationScript(activationFor(shared, entry, name), file), 0o600);
  }
  linkShellIndex(root);
  return true;
}

/**
 * Point the shell's index (roots/<path>/@devenv@, see paths.ts) at the project's state dir, for
 * the path the shell knows and the real one. A path too long for the index is simply not indexed.
 */
export function linkShellIndex(root: string): void {
  const target = projectStateDir(root);
  for (const r of new Set([root, realPath(root)])) {
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
export function shellActivationPath(root: string, shell: ShellName): string {
  const viaIndex = join(shellIndexLink(root), `activate.${shell}`);
  try {
    if (readlinkSync(shellIndexLink(root)) === projectStateDir(root)) return viaIndex;
  } catch {}
  return activationPath(root, shell);
}

export function removeActivations(root: string): void {
  for (const name of SHELL_NAMES) rmSync(activationPath(root, name), {force: true});
}
