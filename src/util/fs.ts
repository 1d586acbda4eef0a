// Atomic writes and simple cross-process locks, Node built-ins only (used on the hot path).
import {closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync} from 'node:fs';
import {dirname} from 'node:path';
import {pidAlive} from './proc.js';

export function ensureDir(dir: string, mode = 0o700): void {
  mkdirSync(dir, {recursive: true, mode});
}

/** Write to a temp file beside the target, fsync, then rename over: readers see old or new, never half. */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): void {
  ensureDir(dirname(file));
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, {force: true});
    throw e;
  }
}

export function readFileOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** A file's parsed JSON, or undefined when it is missing or not valid JSON. */
export function readJson<T>(file: string): T | undefined {
  const text = readFileOrNull(file);
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** A value memoized in `file` for `digest` (what it was derived from); undefined on a miss. */
export function readMemo<T>(file: string, digest: string): T | undefined {
  const m = readJson<{digest?: string; value?: T}>(file);
  return m?.digest === digest ? m.value : undefined;
}

export function writeMemo(file: string, digest: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify({digest, value}));
}

/** The real path (symlinks resolved), or the path itself when it cannot be resolved. */
export function realPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** realpath, size and mtime of a file: changes when the binary behind `p` is replaced. */
export function fileIdentity(p: string): string | undefined {
  try {
    const real = realpathSync(p);
    const st = statSync(real);
    return `${real}:${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
  }
}

export function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Try once to take a lock file. The file appears with its owner's pid already in it (written
 * to a temp file, then hard-linked into place), so no one can read it half-written and
 * mistake a live lock for a stale one. A lock whose owner died is taken over.
 */
export function tryLock(file: string): (() => void) | null {
  ensureDir(dirname(file));
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2, 8)}`;
  writeFileSync(tmp, String(process.pid), {mode: 0o600});
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(tmp, file);
        return () => {
          try {
            unlinkSync(file);
          } catch {}
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const owner = Number.parseInt(readFileOrNull(file) ?? '', 10);
        if (!Number.isFinite(owner) || owner <= 0 || pidAlive(owner)) return null;
        // The owner is gone: remove its lock and retry once.
        try {
          unlinkSync(file);
        } catch {}
      }
    }
    return null;
  } finally {
    try {
      unlinkSync(tmp);
    } catch {}
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait for a lock, polling; `onWait` is called once if we had to wait. */
export async function withLock<T>(file: string, fn: () => Promise<T>, onWait?: () => void, timeoutMs = 30 * 60_000): Promise<T> {
  const start = Date.now();
  let release = tryLock(file);
  if (!release) onWait?.();
  while (!release) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for lock ${file}`);
    await sleep(50);
    release = tryLock(file);
  }
  try {
    return await fn();
  } finally {
    release();
  }
}
