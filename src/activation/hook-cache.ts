// Every new terminal runs `devenv hook <shell>`: the generated text is kept beside the stamps
// (a private directory of ours), so bin/run.js can print it after a few stats, before loading
// anything else. It is used only when that directory still checks out and the key matches.
// This module and what it imports are also built as CommonJS (tsconfig.cjs.json, dist/cjs):
// bin/run.js is CommonJS, because starting Node's ESM loader alone costs a fifth of `node -e 0`.
import {lstatSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {homedir} from 'node:os';
import {join} from 'node:path';
import {stampDirs} from '../util/xdg.js';

const uid = (): number => (typeof process.getuid === 'function' ? process.getuid() : -1);

/** `dir` is a real directory (not a symlink), ours, and private (no group/other bits). */
export function isPrivateDir(dir: string): boolean {
  const st = lstatSync(dir, {throwIfNoEntry: false});
  return !!st && st.isDirectory() && (uid() < 0 || st.uid === uid()) && (st.mode & 0o077) === 0;
}

/**
 * What the text depends on besides the shell: binaries, XDG dirs, and this build of devenv
 * (`dist`, the ESM build's directory, whose hot.js is stamped by every build).
 */
export function hookKey(shell: string, dist: string): string {
  const hot = join(dist, 'hot.js');
  let built = 0;
  try {
    built = statSync(hot).mtimeMs;
  } catch {}
  const e = process.env;
  return JSON.stringify([1, shell, process.execPath, hot, built, e.XDG_RUNTIME_DIR ?? '', e.XDG_STATE_HOME ?? '', homedir()]);
}

export const cacheName = (shell: string): string => `hook.${shell}`;

/** The cached hook text, or undefined (no cache, another key, or a directory that no longer checks out). */
export function cachedHook(shell: string, dist: string): string | undefined {
  return cachedText(cacheName(shell), hookKey(shell, dist));
}

/** The first stamp directory whose every part checks out (private, ours, no symlink). */
function privateDir(): string | undefined {
  for (const [base, ...parts] of stampDirs()) {
    let dir = base;
    let ok = true;
    for (const p of parts) {
      dir = join(dir, p);
      if (!isPrivateDir(dir)) ok = false;
    }
    if (ok) return dir;
  }
  return undefined;
}

/** A text cached under `name` with this `key` on its first line, or undefined. */
export function cachedText(name: string, key: string): string | undefined {
  const dir = privateDir();
  if (!dir) return undefined;
  const file = join(dir, name);
  const st = lstatSync(file, {throwIfNoEntry: false});
  if (!st?.isFile() || (uid() >= 0 && st.uid !== uid())) return undefined;
  const text = readFileSync(file, 'utf8');
  const nl = text.indexOf('\n');
  return text.slice(0, nl) === key ? text.slice(nl + 1) : undefined;
}

/** Keep `text` under `name` for the next run, in the first private stamp directory (made 0700 when missing). */
export function saveText(name: string, key: string, text: string): void {
  const [base, ...parts] = stampDirs()[0];
  try {
    if (lstatSync(base).isDirectory()) mkdirSync(join(base, ...parts), {recursive: true, mode: 0o700});
  } catch {}
  const dir = privateDir(); // checked after: a directory someone else made or planted is not used
  if (dir) writePrivate(dir, name, `${key}\n${text}`);
}

function writePrivate(dir: string, name: string, content: string): boolean {
  const tmp = join(dir, `.${name}.${process.pid}`);
  try {
    writeFileSync(tmp, content, {mode: 0o600, flag: 'wx'});
    renameSync(tmp, join(dir, name));
    return true;
  } catch {
    rmSync(tmp, {force: true});
    return false;
  }
}

/**
 * For bin/devenv (the sh launcher), which started this node because it had no text it could
 * trust: node's cached hook again as launch.<shell>, under a header the launcher checks with
 * builtins only (the package root, node's real path, a key of what it can see itself).
 */
export function saveLaunchText(shell: string, root: string, launcher: string, launcherNode: string): void {
  const dist = join(root, 'dist');
  const key = hookKey(shell, dist);
  const text = cachedHook(shell, dist);
  const dir = privateDir();
  if (text === undefined || !dir) return;
  const e = process.env;
  const header = [root, process.execPath, ['1', shell, launcher, launcherNode, e.XDG_RUNTIME_DIR ?? '', e.XDG_STATE_HOME ?? '', e.HOME ?? ''].join('|')];
  if (header.some((h) => h.includes('\n')) || !launcher || !launcherNode) return;
  const name = `launch.${shell}`;
  // A build between reading the text and writing it: the launcher would trust an old text.
  if (writePrivate(dir, name, `${header.join('\n')}\n${text}`) && hookKey(shell, dist) !== key) rmSync(join(dir, name), {force: true});
}

/** `devenv --help`: oclif's text depends on the build, the node version and the width. */
export function helpKey(dist: string, width: string): string {
  return JSON.stringify([hookKey('help', dist), process.version, width]);
}
