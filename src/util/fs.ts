// Atomic writes and simple cross-process locks, Node built-ins only (used on the hot path).
import {chmodSync, closeSync, constants, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync} from 'node:fs';
import {dirname} from 'node:path';
import {DevenvError} from '../errors.js';
import {pidAlive} from './proc.js';

/** A write that failed because of the disk or permissions, not a bug: one clear line, no stack. */
export class StorageError extends DevenvError {
  constructor(file: string, e: NodeJS.ErrnoException) {
    const why = e.code === 'EROFS' ? 'read-only file system' : e.code === 'ENOSPC' || e.code === 'EDQUOT' ? 'no space left' : e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.code ?? e.message;
    super(`cannot write ${file}: ${why}`, {hint: `free space in (or make writable) ${dirname(file)}; devenv keeps working, without caching`, code: 'storage'});
  }
}

const isStorageFault = (e: unknown): e is NodeJS.ErrnoException => ['EROFS', 'ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'ENOTDIR'].includes((e as NodeJS.ErrnoException)?.code ?? '');

/**
 * Create `base`/`parts...` (each part mode 0700) and check every part is a real directory,
 * ours, and (the last) private: a directory another local user planted, or a symlink to
 * one, is refused, never written into. Returns the directory.
 */
export function ensurePrivateDir(base: string, ...parts: string[]): string {
  mkdirSync(base, {recursive: true, mode: 0o700});
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  let dir = base;
  for (const part of parts) {
    dir = `${dir}/${part}`;
    try {
      mkdirSync(dir, {mode: 0o700});
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const st = lstatSync(dir);
    if (st.isSymbolicLink() || !st.isDirectory()) throw new DevenvError(`refusing to use ${dir}: it is a symlink or not a directory`, {hint: 'remove it; devenv creates it itself', code: 'unsafe_dir'});
    if (uid >= 0 && st.uid !== uid) throw new DevenvError(`refusing to use ${dir}: it belongs to uid ${st.uid}, not to you`, {hint: 'another user created it; remove it (or set XDG_RUNTIME_DIR)', code: 'unsafe_dir'});
    if (st.mode & 0o077) chmodSync(dir, 0o700);
  }
  return dir;
}

/** Open for writing without following a symlink at `file` (O_NOFOLLOW) and without truncating through one. */
export function openNoFollow(file: string, mode = 0o600): number {
  return openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, mode);
}

export function ensureDir(dir: string, mode = 0o700): void {
  mkdirSync(dir, {recursive: true, mode});
}

/** Write to a temp file beside the target, fsync, then rename over: readers see old or new, never half. */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    ensureDir(dirname(file));
    // O_EXCL: never write through something planted at the temp name.
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    // A full or read-only disk leaves no .tmp litter behind.
    rmSync(tmp, {force: true});
    if (isStorageFault(e)) throw new StorageError(file, e);
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

/** Parsed JSON, or undefined when the text is not valid JSON. */
export function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** A file's parsed JSON, or undefined when it is missing or not valid JSON. */
export function readJson<T>(file: string): T | undefined {
  const text = readFileOrNull(file);
  return text === null ? undefined : parseJson<T>(text);
}

/** A value memoized in `file` for `digest` (what it was derived from); undefined on a miss. */
export function readMemo<T>(file: string, digest: string): T | undefined {
  const m = readJson<{digest?: string; value?: T}>(file);
  return m?.digest === digest ? m.value : undefined;
}

/** Best effort: a memo that cannot be written (read-only or full disk) is recomputed next time. */
export function writeMemo(file: string, digest: string, value: unknown): void {
  try {
    writeFileAtomic(file, JSON.stringify({digest, value}));
  } catch (e) {
    if (!(e instanceof StorageError)) throw e;
  }
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

/** What a lock file holds and how its owner is told to be alive. */
export interface LockOptions {
  /** The lock file's content (default: our pid); it must let `owner` find our pid. */
  content?: string;
  /** The owner's pid from the file's text (default: the text is the pid). */
  owner?: (text: string) => number | undefined;
  /** Whether that owner still holds it (default: its pid is alive). */
  alive?: (pid: number) => boolean;
}

/** A lock held: `update` replaces its content (atomically, it never disappears), `release` removes it. */
export interface HeldLock {
  release(): void;
  update(content: string): void;
}

const pidOf = (text: string): number | undefined => {
  const n = Number.parseInt(text, 10);
  return Number.isFinite(n) && n > 0 ? n : undefined;
};

/** The temp file beside `file` holding `content`, created exclusively (never through a planted one). */
function tempWith(file: string, content: string): string {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2, 8)}`;
  writeFileSync(tmp, content, {mode: 0o600, flag: 'wx'});
  return tmp;
}

/**
 * The one lock primitive: try once to take `file`. The file appears with its owner's content
 * already in it (written to a temp file, then hard-linked into place), so no one can read it
 * half-written and mistake a live lock for a stale one. A lock whose owner died is taken over
 * (takeOver). Returns null when someone alive holds it.
 */
export function acquireLock(file: string, opts: LockOptions = {}): HeldLock | null {
  ensureDir(dirname(file));
  const tmp = tempWith(file, opts.content ?? String(process.pid));
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(tmp, file);
        let ino = statSync(file).ino;
        const ours = (): boolean => {
          try {
            return statSync(file).ino === ino;
          } catch {
            return false;
          }
        };
        return {
          // Only our own lock: never a file that replaced it.
          release: () => {
            if (ours()) rmSync(file, {force: true});
          },
          update: (content: string) => {
            if (!ours()) return;
            const next = tempWith(file, content);
            ino = statSync(next).ino;
            renameSync(next, file);
          },
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        if (!takeOver(file, tmp, opts)) return null;
      }
    }
    return null;
  } finally {
    rmSync(tmp, {force: true});
  }
}

/** acquireLock with our pid as content: a function that releases it, or null. */
export function tryLock(file: string): (() => void) | null {
  return acquireLock(file)?.release ?? null;
}

/**
 * Remove a stale lock (its owner is dead) so the caller can link its own. Removing by name is not
 * enough: two processes that both saw the same stale lock would each remove one, the second
 * removing the lock the first just took. So a takeover is itself exclusive, per stale lock (named
 * by its inode and dead owner), and what is removed is checked to be that very file (renamed
 * aside first, its inode compared; a live lock moved by mistake is put back). A lock whose
 * content names no owner (garbage: it is never seen half-written) counts as stale.
 */
function takeOver(file: string, tmp: string, opts: LockOptions): boolean {
  const ownerOf = opts.owner ?? pidOf;
  const alive = opts.alive ?? pidAlive;
  let ino: number;
  let text: string;
  try {
    ino = statSync(file).ino;
    text = readFileSync(file, 'utf8');
  } catch {
    return true; // gone meanwhile: just try again
  }
  const owner = ownerOf(text) ?? 0;
  if (owner > 0 && alive(owner)) return false;
  const guard = `${file}.takeover-${ino}-${owner}`;
  // The guard names us by pid alone, whatever the lock holds, complete from its first moment.
  const mine = opts.content === undefined ? tmp : tempWith(file, String(process.pid));
  try {
    linkSync(mine, guard);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    // Someone else is taking it over, unless that someone died doing so.
    const other = pidOf(readFileOrNull(guard) ?? '');
    if (other === undefined || !pidAlive(other)) rmSync(guard, {force: true});
    return false;
  } finally {
    if (mine !== tmp) rmSync(mine, {force: true});
  }
  try {
    // Holding the guard: the stale lock is still in place only if no other takeover removed it.
    try {
      if (statSync(file).ino !== ino || readFileSync(file, 'utf8') !== text) return true;
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
  let release: (() => void) | null;
  try {
    release = tryLock(file);
  } catch (e) {
    // No room (or no right) to write a lock file: work on without one rather than not at all,
    // as every other write of a full or read-only state dir does.
    if (!isStorageFault(e)) throw e;
    return fn();
  }
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
