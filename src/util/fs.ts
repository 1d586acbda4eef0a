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
 * mistake a live lock for a stale one. A lock whose owner died is taken over (takeOver).
 */
export function tryLock(file: string): (() => void) | null {
  ensureDir(dirname(file));
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2, 8)}`;
  writeFileSync(tmp, String(process.pid), {mode: 0o600});
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(tmp, file);
        const ino = statSync(file).ino;
        return () => {
          // Only our own lock: never a file that replaced it.
          try {
            if (statSync(file).ino === ino) unlinkSync(file);
          } catch {}
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        if (!takeOver(file, tmp)) return null;
      }
    }
    return null;
  } finally {
    try {
      unlinkSync(tmp);
    } catch {}
  }
}

/**
 * Remove a stale lock (its owner is dead) so the caller can link its own. Removing by name is not
 * enough: two processes that both saw the same stale lock would each remove one, the second
 * removing the lock the first just took. So a takeover is itself exclusive, per stale lock (named
 * by its inode and dead owner), and what is removed is checked to be that very file (renamed
 * aside first, its inode compared; a live lock moved by mistake is put back).
 */
function takeOver(file: string, tmp: string): boolean {
  let ino: number;
  let owner: number;
  try {
    ino = statSync(file).ino;
    owner = Number.parseInt(readFileSync(file, 'utf8'), 10);
  } catch {
    return true; // gone meanwhile: just try again
  }
  if (!Number.isFinite(owner) || owner <= 0 || pidAlive(owner)) return false;
  const guard = `${file}.takeover-${ino}-${owner}`;
  try {
    linkSync(tmp, guard);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    // Someone else is taking it over, unless that someone died doing so.
    const other = Number.parseInt(readFileOrNull(guard) ?? '', 10);
    if (Number.isFinite(other) && other > 0 && !pidAlive(other)) rmSync(guard, {force: true});
    return false;
  }
  try {
    // Holding the guard: the stale lock is still in place only if no other takeover removed it.
    try {
      if (statSync(file).ino !== ino || Number.parseInt(readFileSync(file, 'utf8'), 10) !== owner) return true;
    } catch {
      return true;
    }
    const grave = `${file}.stale-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    try {
      renameSync(file, grave);
    } catch {
      return true;
    }
    if (statSync(grave).ino === ino) {
      unlinkSync(grave);
      return true;
    }
    // Not the stale lock (it was replaced meanwhile): put it back where its owner expects it.
    try {
      linkSync(grave, file);
    } catch {}
    unlinkSync(grave);
    return false;
  } finally {
    try {
      unlinkSync(guard);
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
