// Where devenv keeps its own files: always the user's XDG dirs, never the project,
// so a cloned repository cannot plant caches, trust records or activation scripts.
import {createHash} from 'node:crypto';
import {homedir, tmpdir} from 'node:os';
import {join} from 'node:path';
import {realPath} from './util/fs.js';
import {xdg} from './util/xdg.js';

export const configDir = (): string => join(xdg('XDG_CONFIG_HOME', '.config'), 'devenv');
export const cacheDir = (): string => join(xdg('XDG_CACHE_HOME', '.cache'), 'devenv');
export const stateDir = (): string => join(xdg('XDG_STATE_HOME', '.local/state'), 'devenv');
export const dataDir = (): string => join(xdg('XDG_DATA_HOME', '.local/share'), 'devenv');

/** Short per-user dir for Unix sockets (paths there are limited to ~107 bytes). */
export function runtimeDir(): string {
  const r = process.env.XDG_RUNTIME_DIR;
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return r && r.startsWith('/') && r.length < 60 ? join(r, 'devenv') : join(tmpdir(), `devenv-${uid}`);
}

export {stampDirs} from './util/xdg.js';

/** Truncated by a shell on each load of a cache entry: its mtime is the entry's last use (for gc). */
export const usedMarker = (key: string): string => join(stateDir(), 'used', key);

export const trustEpochPath = (): string => join(stateDir(), 'trust-epoch');

/**
 * Per-project state, named by a digest of the project's real path: every spelling of a project
 * (symlinks) shares it, and a path of any length fits.
 */
export const projectStateDir = (root: string): string => join(stateDir(), 'projects', projectId(realPath(root)));

/** [services] auto-start: the supervisor's files, and one `<shell>-<pid>` mark per shell inside. */
export const autoStartDir = (root: string): string => join(projectStateDir(root), 'autostart');
export const autoStartShellsDir = (root: string): string => join(autoStartDir(root), 'shells');

/** A project's identity as a file name: sha256 of its real path. */
export const projectId = (real: string): string => createHash('sha256').update(real).digest('hex').slice(0, 32);

/**
 * The shell's index: `roots/<path as the shell sees it>/@devenv@` is a symlink to the state dir,
 * so the prompt finds a rendered activation with no hashing. Only an index: a path too long for
 * it simply goes through node.
 */
export const shellIndexLink = (root: string): string => join(stateDir(), 'roots', root, '@devenv@');

/** "~/x" for paths under $HOME, for messages. */
export function tilde(p: string): string {
  const h = homedir();
  return h && h !== '/' && (p === h || p.startsWith(h + '/')) ? '~' + p.slice(h.length) : p;
}

export const entriesDir = (): string => join(cacheDir(), 'entries');
export const gcrootsDir = (): string => join(stateDir(), 'gcroots');
