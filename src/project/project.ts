// One handle per project, opened once per command at the adapter (command base, hot path, mcp)
// and passed down: the root as the user sees it, the real path (the identity for trust, cache,
// state and services), the git checkout it belongs to, how nix is told to read it, its layout
// and which instance of its services (dev or a `devenv test` throwaway) commands act on. What is
// read of it (inputs, manifest) is memoised on the handle (project/memo.ts). Built-ins only (hot path).
import {createHash} from 'node:crypto';
import {statSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {NotAProjectError} from '../errors.js';
import {cacheDir, projectId, runtimeDir, stateDir} from '../paths.js';
import {readFileOrNull, realPath} from '../util/fs.js';
import {findRoot, isProjectRoot} from './find.js';

export interface GitCheckout {
  /** The work tree's top directory (real path). */
  top: string;
  /** This checkout's git dir (differs from commonDir in a linked worktree). */
  gitDir: string;
  /** The git dir shared by every worktree of the repository. */
  commonDir: string;
}

/** Which copy of a project's services commands act on. */
export interface Instance {
  /** '' for the developer's own; otherwise a unique tag (ports and sockets are keyed by it). */
  tag: string;
  /** Where service data and logs live; default <root>/.devenv/state. */
  stateBase?: string;
}

/** Where a project's files live, for its instance. */
export interface Layout {
  /** Service data and logs: <root>/.devenv/state, or the test instance's temp dir. */
  serviceState: string;
  /** The process supervisor's files (per instance). */
  runDir: string;
  /** The key ports are recorded under: the real path, plus the instance's tag. */
  portKey: string;
  /** A short socket dir per service (Unix socket paths stop at ~107 bytes). */
  socketDir(service: string): string;
  /** A per-instance name inside the state dir: `name` for dev, `name-<tag>` (before any extension) for a test instance. */
  own(name: string): string;
}

/** Memo slots, filled by project/memo.ts (typed there). */
export type ProjectMemo = Record<string, unknown>;

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
  instance: Instance;
  layout: Layout;
  /** What has been read of the project (inputs, manifest): see project/memo.ts. */
  memo: ProjectMemo;
}

/** The instance this process acts on: a keeper or a task started by `devenv test` inherits it. */
export const envInstance = (): Instance => ({tag: process.env.DEVENV_INSTANCE_TAG ?? '', stateBase: process.env.DEVENV_INSTANCE_STATE || undefined});

/** The env a child devenv needs to act on the same instance (keepers, `devenv run` inside `test`). */
export const instanceEnv = (i: Instance): Record<string, string> => (i.tag ? {DEVENV_INSTANCE_TAG: i.tag, DEVENV_INSTANCE_STATE: i.stateBase ?? ''} : {});

/** The socket dir of a checkout's developer instance (its real path), e.g. a seed source. */
export const devSocketDir = (real: string, service: string): string =>
  join(runtimeDir(), `${service === 'postgres' ? 'pg' : service}-${createHash('sha256').update(real).digest('hex').slice(0, 12)}`);

function layoutOf(root: string, real: string, state: string, i: Instance): Layout {
  const portKey = i.tag ? `${real}#${i.tag}` : real;
  const own = (name: string): string => {
    if (!i.tag) return name;
    const dot = name.indexOf('.');
    return dot < 0 ? `${name}-${i.tag}` : `${name.slice(0, dot)}-${i.tag}${name.slice(dot)}`;
  };
  return {
    serviceState: i.stateBase ?? join(root, '.devenv', 'state'),
    runDir: join(state, own('processes')),
    portKey,
    socketDir: (service) => (i.tag ? join(runtimeDir(), `${service === 'postgres' ? 'pg' : service}-${createHash('sha256').update(portKey).digest('hex').slice(0, 12)}`) : devSocketDir(real, service)),
    own,
  };
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

/** The project whose root is `dir` (a directory holding devenv.toml or flake.nix): only openers call it. */
export function projectAt(dir: string, instance: Instance = envInstance()): Project {
  const abs = resolve(dir);
  const real = realPath(abs);
  const id = projectId(real);
  const git = gitCheckout(real);
  const flake = {cwd: stagingDir({id}), ref: 'path:.'};
  const state = join(stateDir(), 'projects', id);
  return {root: abs, real, id, stateDir: state, git, flake, instance, layout: layoutOf(abs, real, state, instance), memo: {}};
}

/** The project containing `dir` (walking up), or NotAProjectError. */
export function openProject(dir: string): Project {
  const root = findRoot(dir);
  if (!root) throw new NotAProjectError(resolve(dir));
  return projectAt(root);
}

/** Like openProject, but null outside every project. */
export function findProject(dir: string): Project | null {
  const root = findRoot(dir);
  return root ? projectAt(root) : null;
}

/** The project whose root is exactly `dir` (a member of a monorepo, a watched root), or null when it is none. */
export function projectIfRoot(dir: string): Project | null {
  return isProjectRoot(resolve(dir)) ? projectAt(dir) : null;
}

/** A project known by its recorded path (a trust record, a watched root), whether or not it still holds a manifest. */
export const knownProject = (dir: string): Project => projectAt(dir);

/** A monorepo member (or another project `p` names): a project of its own, acting on `p`'s instance. */
export const memberOf = (p: Project, dir: string): Project => projectAt(dir, p.instance);

/** The same project acting on another instance of its services (`devenv test`): a handle of its own. */
export const withInstance = (p: Project, instance: Instance): Project => projectAt(p.root, instance);

/** The handle again, with nothing memoised: for a long-lived process after the project's files changed. */
export const reopen = (p: Project): Project => projectAt(p.root, p.instance);

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

