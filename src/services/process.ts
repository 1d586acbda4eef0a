// Process plumbing for services: is a pid alive and what is it, start a detached process group
// with its output in a file, stop a whole group, follow a log file. /proc refines the answers
// on Linux; without it (macOS, or hidden) kill(pid, 0) and kill(-pgid, 0) decide.
import {spawn} from 'node:child_process';
import {closeSync, openSync, readFileSync, readlinkSync, readSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {ServiceError} from '../errors.js';
import {withLock} from '../util/fs.js';
import {openLogNoFollow} from './marker.js';
import {createServer} from 'node:net';
import {basename} from 'node:path';
import {pidAlive, procStat} from '../util/proc.js';
import {procAvailable, waitGone} from './ladder.js';

export {pidAlive};
export {groupAlive, groupMembers, killGroup, procAvailable, sleep, stopLadder, type Rung} from './ladder.js';

export const procState = (pid: number): string | undefined => procStat(pid)?.[0];
export const procGroup = (pid: number): number | undefined => {
  const f = procStat(pid);
  return f ? Number(f[2]) : undefined;
};

export function procCmdline(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** The process's cwd (PostgreSQL chdirs into its data dir), or undefined if not ours to read. */
export function procCwd(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

export function procComm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function procUid(pid: number): number | undefined {
  try {
    return statSync(`/proc/${pid}`).uid;
  } catch {
    return undefined;
  }
}

/** Whether a live pid runs a given program (by comm, exe name or argv[0]); pids get reused. */
export function isProgram(pid: number, names: string[]): boolean {
  if (!pidAlive(pid)) return false;
  // Nothing to read: the caller confirms with the service's own check (socket, ping).
  if (!procAvailable()) return true;
  const comm = procComm(pid);
  if (comm && names.includes(comm)) return true;
  const argv0 = procCmdline(pid)?.[0];
  if (argv0 && names.some((n) => basename(argv0) === n || argv0.startsWith(`${n}:`))) return true;
  try {
    return names.includes(basename(readlinkSync(`/proc/${pid}/exe`)));
  } catch {
    return false;
  }
}

/** Wait up to `timeoutMs` for `pid` to exit; whether it did. */
export const waitForExit = (pid: number, timeoutMs: number): Promise<boolean> => waitGone({pid}, timeoutMs);

export interface Detached {
  pid: number;
  /** Set once the child exits (while we are still running). */
  exited: () => {code: number | null; signal: NodeJS.Signals | null} | undefined;
}

/**
 * Start a program in its own session and process group (setsid), stdout and stderr appended to
 * `logFile`, not tied to our lifetime.
 */
export function spawnDetached(cmd: string, args: string[], opts: {env: NodeJS.ProcessEnv; cwd: string; logFile: string}): Promise<Detached> {
  const fd = openLogNoFollow(opts.logFile);
  return new Promise((resolve, reject) => {
    let exit: {code: number | null; signal: NodeJS.Signals | null} | undefined;
    const child = spawn(cmd, args, {detached: true, stdio: ['ignore', fd, fd], env: opts.env, cwd: opts.cwd});
    child.once('error', (e) => {
      closeSync(fd);
      reject(e);
    });
    child.once('spawn', () => {
      closeSync(fd);
      child.unref();
      resolve({pid: child.pid!, exited: () => exit});
    });
    child.once('exit', (code, signal) => {
      exit = {code, signal};
    });
  });
}

/** Whether 127.0.0.1:port can be bound right now (nobody else listens there). */
export function portFree(port: number, host = '127.0.0.1'): Promise<{free: boolean; code?: string}> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => resolve({free: false, code: e.code}));
    srv.listen({port, host, exclusive: true}, () => srv.close(() => resolve({free: true})));
  });
}

/** The last `n` lines of a file (from its last 64 KiB, or all of it when `whole`). */
export function tailLines(file: string, n: number, whole = false): string[] {
  try {
    const size = statSync(file).size;
    const len = whole ? size : Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buf, 0, len, size - len);
    } finally {
      closeSync(fd);
    }
    const lines = buf.toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return n > 0 ? lines.slice(-n) : []; // slice(-0) would be every line
  } catch {
    return [];
  }
}

export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Follow a file from byte `from`, calling `onLine` per complete line, until `signal` aborts.
 * Polls (cheap, and works when the file is replaced or truncated).
 */
export async function followFile(file: string, from: number, onLine: (line: string) => void, signal: AbortSignal, intervalMs = 100): Promise<void> {
  let pos = from;
  let partial = '';
  const buf = Buffer.alloc(64 * 1024);
  const drain = () => {
    const size = fileSize(file);
    if (size < pos) pos = 0; // truncated
    if (size === pos) return;
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return;
    }
    try {
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, pos);
        if (n <= 0) break;
        pos += n;
        const text = partial + buf.subarray(0, n).toString('utf8');
        const lines = text.split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) onLine(l);
      }
    } finally {
      closeSync(fd);
    }
  };
  while (!signal.aborted) {
    drain();
    await new Promise<void>((r) => {
      const onAbort = () => {
        clearTimeout(t);
        r();
      };
      const t = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        r();
      }, intervalMs);
      signal.addEventListener('abort', onAbort, {once: true});
    });
  }
  drain();
  if (partial) onLine(partial);
}

// `down` while another `up` holds a unit's lock (waiting for its readiness): instead of waiting
// silently for up to its timeout, down leaves a request next to the lock; the waiting `up`
// sees it, stops what it started and lets go, and down goes on.
const stopRequest = (lockFile: string): string => `${lockFile}.stop`;

/** For withLock's onWait in `stop`: ask the holder to give up. */
function requestStop(lockFile: string): void {
  try {
    writeFileSync(stopRequest(lockFile), `${process.pid}\n`, {mode: 0o600});
  } catch {}
}

function clearStopRequest(lockFile: string): void {
  rmSync(stopRequest(lockFile), {force: true});
}

/** A unit's stop under its lock; an `up` holding the lock (waiting for readiness) is asked to give up. */
export function withStopLock<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
  return withLock(
    lockFile,
    () => {
      clearStopRequest(lockFile);
      return fn();
    },
    () => requestStop(lockFile),
  );
}

/** Why a readiness wait begun at `since` must end now: Ctrl-C of this up, or a later `down`. */
export function interruption(signal: AbortSignal | undefined, lockFile: string, since: number): string | undefined {
  if (signal?.aborted) return String(signal.reason ?? 'interrupted');
  try {
    if (statSync(stopRequest(lockFile)).mtimeMs >= since - 1) return 'devenv down';
  } catch {}
  return undefined;
}

/** A readiness wait ended by Ctrl-C or by a `devenv down` (what it started is stopped). */
export class StartInterrupted extends ServiceError {
  constructor(
    name: string,
    readonly why: string,
  ) {
    super(`${name}: start interrupted by ${why}; stopped what this start had begun`, why === 'devenv down' ? "run 'devenv up' again when you want it" : undefined);
  }
}
