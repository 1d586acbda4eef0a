// Where devenv keeps its own files: always the user's XDG dirs, never the project,
// so a cloned repository cannot plant caches, trust records or activation scripts.
import {homedir, tmpdir} from 'node:os';
import {join} from 'node:path';

function xdg(varName: string, fallback: string): string {
  const v = process.env[varName];
  return v && v.startsWith('/') ? v : join(homedir(), fallback);
}

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

/**
 * Where shells keep their stamp files: $XDG_RUNTIME_DIR/devenv/shell, else the user's state
 * dir; never a shared /tmp path another user could create first (see ensurePrivateDir).
 */
export function stampDirs(): [base: string, ...parts: string[]][] {
  const r = process.env.XDG_RUNTIME_DIR;
  const state: [string, ...string[]] = [xdg('XDG_STATE_HOME', '.local/state'), 'devenv', 'shell'];
  return r && r.startsWith('/') ? [[r, 'devenv', 'shell'], state] : [state];
}

/** Truncated by a shell on each load of a cache entry: its mtime is the entry's last use (for gc). */
export const usedMarker = (key: string): string => join(stateDir(), 'used', key);

export const trustEpochPath = (): string => join(stateDir(), 'trust-epoch');

/** Per-project state mirrors the project's absolute path, so the shell can find it with no hashing. */
export const projectStateDir = (root: string): string => join(stateDir(), 'roots', root, '@devenv@');

export const entriesDir = (): string => join(cacheDir(), 'entries');
export const gcrootsDir = (): string => join(stateDir(), 'gcroots');
