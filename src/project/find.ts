// Locate the project root and the local files its evaluation depends on. Built-ins only (hot path).
import {createHash} from 'node:crypto';
import {readdirSync, readFileSync, statSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {NotAProjectError} from '../errors.js';

export const MARKERS = ['devenv.toml', 'flake.nix'];
export const CORE_FILES = ['devenv.toml', 'flake.nix', 'flake.lock'];

const isFile = (p: string): boolean => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

/** A directory holding devenv.toml or flake.nix. */
export const isProjectRoot = (dir: string): boolean => MARKERS.some((m) => isFile(join(dir, m)));

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

export function requireRoot(start: string): string {
  const root = findRoot(start);
  if (!root) throw new NotAProjectError(resolve(start));
  return root;
}

const SKIP = new Set(['.git', 'node_modules', '.devenv', '.direnv', 'target', 'dist', 'build', '.venv', 'venv', '__pycache__']);

/**
 * The local files an evaluation reads: the three core files plus every other .nix file in the
 * project (flakes import them), skipping nested projects and bulky dirs. Bounded so a huge tree stays cheap.
 */
export function inputFiles(root: string, limit = 300): string[] {
  const files = CORE_FILES.map((f) => join(root, f));
  const walk = (dir: string, depth: number) => {
    if (depth > 6 || files.length >= limit) return;
    let entries;
    try {
      entries = readdirSync(dir, {withFileTypes: true});
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (files.length >= limit) return;
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (SKIP.has(e.name) || e.name.startsWith('result')) continue;
        if (isProjectRoot(p)) continue; // nested project
        walk(p, depth + 1);
      } else if (e.isFile() && e.name.endsWith('.nix') && !(dir === root && e.name === 'flake.nix')) {
        files.push(p);
      }
    }
  };
  walk(root, 0);
  return files;
}

/** Per-file sha256 ("absent" for missing files), keyed by name relative to the root. */
export function fileDigests(root: string, files = inputFiles(root)): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of files) {
    let digest: string;
    try {
      digest = createHash('sha256').update(readFileSync(f)).digest('hex');
    } catch {
      digest = 'absent';
    }
    out[f.slice(root.length + 1)] = digest;
  }
  return out;
}

/** One sha256 over per-file digests (names included, absent files count too). */
export function digestOf(perFile: Record<string, string>): string {
  const h = createHash('sha256');
  for (const [name, digest] of Object.entries(perFile)) h.update(`${name}\0${digest}\n`);
  return h.digest('hex');
}

export function contentDigest(root: string, files = inputFiles(root)): string {
  return digestOf(fileDigests(root, files));
}
