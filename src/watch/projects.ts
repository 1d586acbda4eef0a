// Which projects the watcher looks after, and which directories of each it watches.
import {readdirSync} from 'node:fs';
import {dirname, join, relative, resolve, sep} from 'node:path';
import {stateDir} from '../paths.js';
import {CORE_FILES, inputFiles, isProjectRoot as isProject} from '../project/find.js';
import {allowedProjects, trustPrefixes} from '../trust/trust.js';

export {isProject};

const STATE_MARK = '@devenv@';

/** Roots under `prefix` that devenv has evaluated or loaded: their state dir exists. */
export function evaluatedUnder(prefix: string, maxDepth = 12): string[] {
  const base = join(stateDir(), 'roots');
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, {withFileTypes: true});
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      if (e.name === STATE_MARK) out.push(dir.slice(base.length) || '/');
      else if (depth < maxDepth) walk(join(dir, e.name), depth + 1);
    }
  };
  walk(join(base, resolve(prefix)), 0);
  return out;
}

/** Every allowed project that still exists, plus evaluated projects under a trusted prefix. */
export function discoverProjects(): string[] {
  const roots = new Set<string>();
  for (const r of allowedProjects()) if (isProject(r.root)) roots.add(r.root);
  for (const p of trustPrefixes()) {
    if (!p.startsWith('/')) continue;
    for (const r of evaluatedUnder(p)) if (isProject(r)) roots.add(r);
  }
  return [...roots].sort();
}

/** Directories to watch: the root and every directory on the way to an input file. */
export function watchDirs(root: string): string[] {
  const dirs = new Set<string>([root]);
  for (const f of inputFiles(root)) {
    for (let d = dirname(f); d.startsWith(root + sep) && !dirs.has(d); d = dirname(d)) dirs.add(d);
  }
  return [...dirs].sort();
}

const SKIP = new Set(['.git', 'node_modules', '.devenv', '.direnv', 'target', 'dist', 'build', '.venv', 'venv', '__pycache__']);

/** Directories inside a project that never hold inputs (same rule as inputFiles). */
export function skippedDir(root: string, path: string): boolean {
  const rel = relative(root, path);
  if (!rel || rel.startsWith('..')) return false;
  return rel.split(sep).some((s) => SKIP.has(s) || s.startsWith('result'));
}

/** Whether a changed path can change the project's evaluation. */
export function relevantFile(root: string, path: string): boolean {
  if (skippedDir(root, dirname(path))) return false;
  if (dirname(path) === root && CORE_FILES.includes(path.slice(root.length + 1))) return true;
  return path.endsWith('.nix');
}
