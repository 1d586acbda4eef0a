// Every new terminal runs `devenv hook <shell>`: the generated text is kept beside the stamps
// (a private directory of ours), so bin/run.js can print it after a few stats, before loading
// anything else. It is used only when that directory still checks out and the key matches.
// This module and what it imports are also built as CommonJS (tsconfig.cjs.json, dist/cjs):
// bin/run.js is CommonJS, because starting Node's ESM loader alone costs a fifth of `node -e 0`.
import {lstatSync, readFileSync, statSync} from 'node:fs';
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
  const key = hookKey(shell, dist);
  for (const [base, ...parts] of stampDirs()) {
    let dir = base;
    let ok = true;
    for (const p of parts) {
      dir = join(dir, p);
      if (!isPrivateDir(dir)) ok = false;
    }
    if (!ok) continue;
    const file = join(dir, cacheName(shell));
    const st = lstatSync(file, {throwIfNoEntry: false});
    if (!st?.isFile() || (uid() >= 0 && st.uid !== uid())) return undefined;
    const text = readFileSync(file, 'utf8');
    const nl = text.indexOf('\n');
    return text.slice(0, nl) === key ? text.slice(nl + 1) : undefined;
  }
  return undefined;
}
