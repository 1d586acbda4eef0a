// Every call to the `nix` binary goes through here: the experimental-features flag,
// the offline nixpkgs override and error mapping live in one place.
import {spawnSync} from 'node:child_process';
import {statSync} from 'node:fs';
import {delimiter, join} from 'node:path';
import {NixFailedError, NixMissingError} from '../errors.js';
import {cacheDir} from '../paths.js';
import {diagnoseNixError} from './nix-error.js';
import {fileIdentity, readJson, writeFileAtomic} from '../util/fs.js';
import {debug} from '../util/debug.js';

export const FEATURES = ['--extra-experimental-features', 'nix-command flakes'];

/** `DEVENV_NIXPKGS=<flake ref>` replaces the project's nixpkgs input (offline tests, pinned mirrors). */
export function nixpkgsOverride(): string | undefined {
  const v = process.env.DEVENV_NIXPKGS;
  return v && v.trim() ? v.trim() : undefined;
}

/** `DEVENV_STRICT=1` (or true): a failed evaluation is an error, not a fallback to the last good env. */
export const strictFromEnv = (): boolean => process.env.DEVENV_STRICT === '1' || process.env.DEVENV_STRICT === 'true';

export function overrideArgs(): string[] {
  const o = nixpkgsOverride();
  return o ? ['--override-input', 'nixpkgs', o, '--no-write-lock-file'] : [];
}

/** Absolute path of the nix binary on PATH, or null. Built-ins only. */
export function findNix(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, 'nix');
    try {
      if (statSync(p).isFile()) return p;
    } catch {}
  }
  return null;
}

export function currentSystem(): string {
  const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;
  return `${arch}-${process.platform === 'darwin' ? 'darwin' : 'linux'}`;
}

export interface NixResult {
  stdout: string;
  stderr: string;
}

// nix children of this process. Nix only notices SIGINT between evaluation steps, and a
// long pure evaluation can take many seconds to get there; when the user interrupts
// devenv, its nix must not outlive it, so it gets SIGINT and, after a short grace, SIGKILL.
const running = new Set<import('node:child_process').ChildProcess>();
let signalsHooked = false;
const GRACE_MS = 400;

function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    // First in line, so the other listeners are still registered when it runs.
    process.prependOnceListener(sig, () => {
      // Someone else (watch, logs) owns this signal's exit: only stop the children.
      const owned = process.listenerCount(sig) === 0;
      const exit = () => {
        if (owned) process.kill(process.pid, sig);
      };
      for (const child of running) child.kill('SIGINT');
      const timer = setTimeout(() => {
        for (const child of running) child.kill('SIGKILL');
        exit();
      }, running.size > 0 ? GRACE_MS : 0);
      timer.unref();
      // Re-raise once the children are gone, so the exit status says which signal.
      const done = () => {
        if (running.size === 0) {
          clearTimeout(timer);
          exit();
        }
      };
      for (const child of running) child.once('close', done);
      done();
    });
  }
}

/**
 * Run nix with the standard flags. Throws NixMissingError / NixFailedError.
 * Uses node:child_process rather than execa: importing execa costs ~90 ms here, about a tenth
 * of a real evaluation, and this is the path whose cost users feel on every cache miss.
 */
export async function runNix(args: string[], opts: {cwd?: string; what?: string; signal?: AbortSignal} = {}): Promise<NixResult> {
  const nix = findNix();
  if (!nix) throw new NixMissingError();
  const {spawn} = await import('node:child_process');
  debug(`nix ${args.slice(0, 2).join(' ')} start`);
  return new Promise((resolve, reject) => {
    const child = spawn(nix, [...FEATURES, ...args], {cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], signal: opts.signal});
    hookSignals();
    running.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      running.delete(child);
      if (e.code === 'ENOENT') reject(new NixMissingError());
      else if (e.name === 'AbortError') reject(new NixFailedError(opts.what ?? `nix ${args[0]}`, 'cancelled', {transient: true}));
      else reject(new NixFailedError(opts.what ?? `nix ${args[0]}`, e.message));
    });
    child.on('close', (code, signal) => {
      running.delete(child);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      debug(`nix ${args.slice(0, 2).join(' ')} done (exit ${code ?? signal})`);
      const what = opts.what ?? `nix ${args.join(' ')}`;
      if (code === 0) resolve({stdout, stderr});
      // Killed, or nix's own "interrupted by the user": say that, not a lock-file warning it printed first.
      else if (signal) reject(new NixFailedError(what, `killed by ${signal}`, {transient: true}));
      else if (/interrupted by the user/.test(stderr)) reject(new NixFailedError(what, 'interrupted', {transient: true}));
      else {
        const report = stderr || stdout || `exit ${code}`;
        reject(new NixFailedError(what, report, {diagnosis: diagnoseNixError(report)}));
      }
    });
  });
}

/**
 * Nix's version, for the cache key. Memoized by the binary's realpath, size and mtime, so
 * the warm path runs nix only once after nix itself changed (wrappers and store paths of
 * the same version share entries).
 */
export function nixVersionSync(): string | null {
  const id = nixIdentity();
  if (!id) return null;
  const memoFile = join(cacheDir(), 'nix-versions.json');
  const memo = readJson<Record<string, string>>(memoFile) ?? {};
  if (memo[id]) return memo[id];
  const res = spawnSync(findNix()!, ['--version'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000});
  if (res.status !== 0 || !res.stdout) return id;
  memo[id] = res.stdout.trim();
  writeFileAtomic(memoFile, JSON.stringify(memo));
  return memo[id];
}

/** A cheap fingerprint of the nix binary, for the warm path's cache key. */
export function nixIdentity(): string | null {
  const nix = findNix();
  return (nix && fileIdentity(nix)) || null;
}
