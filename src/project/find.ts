// Locate the project root. Built-ins only (hot path).
import {statSync} from 'node:fs';
import {homedir} from 'node:os';
import {dirname, join, resolve} from 'node:path';

export const MARKERS = ['devenv.toml', 'flake.nix'];
// devenv.local.toml: a developer's own overrides (manifest/files.ts), an input like devenv.toml.
export const CORE_FILES = ['devenv.toml', 'flake.nix', 'flake.lock', 'devenv.local.toml'];

const isFile = (p: string): boolean => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

/**
 * A directory holding devenv.toml or flake.nix. $HOME with only a flake.nix is not one: that is
 * a home-manager or NixOS configuration, not a project (it would block every shell under ~).
 */
export function isProjectRoot(dir: string): boolean {
  if (isFile(join(dir, 'devenv.toml'))) return true;
  return isFile(join(dir, 'flake.nix')) && !isHome(dir);
}

function isHome(dir: string): boolean {
  const h = homedir();
  if (!h || h === '/') return false;
  if (resolve(dir) === resolve(h)) return true;
  try {
    const a = statSync(dir);
    const b = statSync(h);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/** Walk up from `start` to the nearest directory holding devenv.toml or flake.nix. */
export function findRoot(start: string): string | null {
  let dir = resolve(start);
  for (;;) {
    if (isProjectRoot(dir)) return dir;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}
