// One handle per project, opened once per command: the root as the user sees it, the real
// path (the identity for trust, cache, state and services), the git checkout it belongs to,
// and how nix is told to read it. Built-ins only (hot path).
import {statSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {NotAProjectError} from '../errors.js';
import {cacheDir, projectId, projectStateDir} from '../paths.js';
import {readFileOrNull, realPath} from '../util/fs.js';
import {findRoot} from './find.js';

export interface GitCheckout {
  /** The work tree's top directory (real path). */
  top: string;
  /** This checkout's git dir (differs from commonDir in a linked worktree). */
  gitDir: string;
  /** The git dir shared by every worktree of the repository. */
  commonDir: string;
}

export interface Project {
  /** As the user sees it (a symlinked path stays symlinked): for messages and $DEVENV_ROOT. */
  root: string;
  /** Symlinks resolved: the identity for trust, cache, state and services. */
  real: string;
  /** sha256 of `real`, naming the state dir. */
  id: string;
  stateDir: string;
  git?: GitCheckout;
  /**
   * How nix is pointed at the flake: `ref` relative to `cwd`. Always the project's private copy
   * of its inputs (see inputs.ts), git or not, never the work tree; `path:.` with the copy as
   * cwd (Nix 2.8 does not decode %-escapes in a flake URL's path).
   */
  flake: {cwd: string; ref: string};
}

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** The git checkout holding `dir` (a real path), found the way nix finds it: the nearest `.git`. */
export function gitCheckout(dir: string): GitCheckout | undefined {
  for (let d = dir; ; d = dirname(d)) {
    const dotgit = join(d, '.git');
    if (isDir(dotgit)) return {top: d, gitDir: dotgit, commonDir: dotgit};
    const text = readFileOrNull(dotgit);
    const m = text && /^gitdir:\s*(.+?)\s*$/m.exec(text);
    if (m) {
      const gitDir = realPath(resolve(d, m[1]));
      const common = readFileOrNull(join(gitDir, 'commondir'));
      return {top: d, gitDir, commonDir: common ? realPath(resolve(gitDir, common.trim())) : gitDir};
    }
    if (dirname(d) === d) return undefined;
  }
}

/** The shared .git dir of the checkout holding `dir`, or undefined. */
export const gitCommonDir = (dir: string): string | undefined => gitCheckout(realPath(dir))?.commonDir;

/** Where a project's filtered copy lives: a plain name nix can read as `path:.`. */
export const stagingDir = (p: {id: string}): string => join(cacheDir(), 'src', p.id);

/** The project whose root is `root` (a directory holding devenv.toml or flake.nix). */
export function projectAt(root: string): Project {
  const abs = resolve(root);
  const real = realPath(abs);
  const id = projectId(real);
  const git = gitCheckout(real);
  const flake = {cwd: stagingDir({id}), ref: 'path:.'};
  return {root: abs, real, id, stateDir: projectStateDir(real), git, flake};
}

/** The project containing `cwd` (walking up), or NotAProjectError. */
export function openProject(cwd: string): Project {
  const root = findRoot(cwd);
  if (!root) throw new NotAProjectError(resolve(cwd));
  return projectAt(root);
}

/** Like openProject, but null outside every project. */
export function findProject(cwd: string): Project | null {
  const root = findRoot(cwd);
  return root ? projectAt(root) : null;
}

/**
 * The directory devenv commands act in: the real cwd, spelled as $PWD when $PWD names the same
 * directory (it keeps the user's symlinked spelling); a stale $PWD (a process started
 * elsewhere) is ignored.
 */
export function currentDir(): string {
  const cwd = process.cwd();
  const pwd = process.env.PWD;
  if (pwd && pwd.startsWith('/') && pwd !== cwd) {
    try {
      const a = statSync(pwd);
      const b = statSync(cwd);
      if (a.ino === b.ino && a.dev === b.dev) return pwd;
    } catch {}
    return cwd;
  }
  return pwd && pwd.startsWith('/') ? pwd : cwd;
}

