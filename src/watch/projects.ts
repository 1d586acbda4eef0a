// Which projects the watcher looks after, and which directories of each it watches.
import {readdirSync, statSync} from 'node:fs';
import {dirname, join, relative, resolve, sep} from 'node:path';
import {stateDir} from '../paths.js';
import {CORE_FILES, isProjectRoot as isProject} from '../project/find.js';
import {inputNames, isInputName, sourceTop, STATE_DIR_NAME} from '../project/inputs.js';
import {projectAt} from '../project/project.js';
import {readJson, realPath} from '../util/fs.js';
import {activePrefixes, allowedProjects} from '../trust/trust.js';

export {isProject};

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** Roots under `prefix` that devenv has evaluated: their state dir records them. */
export function evaluatedUnder(prefix: string): string[] {
  const base = join(stateDir(), 'projects');
  const real = realPath(resolve(prefix));
  let ids: string[];
  try {
    ids = readdirSync(base);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const id of ids) {
    const root = readJson<{root?: string}>(join(base, id, 'state.json'))?.root;
    if (root && (root === real || root.startsWith(real + sep))) out.push(root);
  }
  return out.sort();
}

/** Every allowed project that still exists, plus evaluated projects under a trusted prefix. */
export function discoverProjects(): string[] {
  const roots = new Set<string>();
  for (const r of allowedProjects()) if (isProject(r.root)) roots.add(r.root);
  for (const p of activePrefixes()) for (const r of evaluatedUnder(p)) if (isProject(r)) roots.add(r);
  return [...roots].sort();
}

/** Directories to watch: the root and every directory on the way to an input inside it. */
export function watchDirs(root: string): string[] {
  const p = projectAt(root);
  const top = sourceTop(p);
  const dirs = new Set<string>([root]);
  let names: string[] = [];
  try {
    names = inputNames(p).names;
  } catch {}
  for (const name of names) {
    const rel = relative(p.real, join(top, name));
    if (rel.startsWith('..')) continue;
    // A directory input (a path flake lists them) is watched itself: a file added there is an input.
    const abs = join(root, rel);
    for (let d = isDir(abs) ? abs : dirname(abs); d.startsWith(root + sep) && !dirs.has(d); d = dirname(d)) dirs.add(d);
  }
  return [...dirs].sort();
}

const SKIP = new Set(['.git', STATE_DIR_NAME, 'node_modules']);

/** Directories inside a project whose changes never matter to an evaluation. */
export function skippedDir(root: string, path: string): boolean {
  const rel = relative(root, path);
  if (!rel || rel.startsWith('..')) return false;
  return rel.split(sep).some((s) => SKIP.has(s));
}

/** Whether a changed path can change the project's evaluation: only an input can (inputs.ts). */
export function relevantFile(root: string, path: string): boolean {
  const rel = relative(root, path);
  if (!rel || rel.startsWith('..')) return false;
  if (CORE_FILES.includes(rel)) return true;
  return isInputName(root, rel.split(sep).join('/'));
}
