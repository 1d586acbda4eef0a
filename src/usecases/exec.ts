// `devenv exec -- cmd`: run a command in the project's environment. On a warm cache this
// loads no oclif, no execa and starts no nix: read the entry, build the env, spawn.
import {spawn} from 'node:child_process';
import {readEntry} from '../cache/entries.js';
import {computeKey} from '../cache/key.js';
import {oneListing} from '../project/inputs.js';
import {NotAllowedError, UsageError} from '../errors.js';
import {runningSetup, setupPlan} from '../languages/setup.js';
import type {Project} from '../project/project.js';
import {warnFlakeDrift} from '../project/sync.js';
import {projectEnvironment} from '../services/environment.js';
import {debug} from '../util/debug.js';

export interface ExecOptions {
  /** Where the command runs (inside the project or not: `devenv exec` from a subdirectory). */
  cwd: string;
  argv: string[];
  strict?: boolean;
}

/** The process environment `exec` runs in: the project's, over the caller's own (a loaded project taken back out). */
export async function execEnvironment(p: Project, opts: {strict?: boolean; requireTrust?: boolean} = {}): Promise<{root: string; env: NodeJS.ProcessEnv}> {
  const root = p.root;
  if (opts.requireTrust) {
    // The hook's rule, for callers that are not the user's own act (an agent over MCP).
    const {checkTrust} = await import('../trust/trust.js');
    const t = checkTrust(p);
    if (!t.trusted) throw new NotAllowedError(root, t.state === 'denied' ? 'is denied' : t.state === 'changed' ? 'changed since it was allowed' : 'is not allowed');
  }
  warnFlakeDrift(p);
  const entry = await oneListing(async () => {
    const hit = readEntry(computeKey(p).key);
    if (hit.status === 'hit') return hit.entry;
    const {ensureEnvironment} = await import('../evaluation/evaluate.js');
    return (await ensureEnvironment(p, {progress: true, strict: opts.strict})).entry;
  });
  if (setupPlan(p, entry.spec).steps.length || runningSetup(p)) {
    const {setupBeforeExec} = await import('./setup.js');
    await setupBeforeExec(p, entry);
  }
  debug('environment ready');
  return {root, env: (await projectEnvironment(p, entry)).toProcessEnv()};
}

/** Returns the exit code to use; re-raises the child's signal on ourselves when it died of one. */
export async function execInEnv(p: Project, opts: ExecOptions): Promise<number> {
  if (!opts.argv.length) throw new UsageError('no command given', "usage: devenv exec -- <command> [args...]");
  const {env} = await execEnvironment(p, {strict: opts.strict});
  debug('spawning');
  return new Promise((resolve) => {
    const child = spawn(opts.argv[0], opts.argv.slice(1), {stdio: 'inherit', env, cwd: opts.cwd});
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as NodeJS.Signals[]).map((s) => [s, forward(s)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    child.on('error', (e: NodeJS.ErrnoException) => {
      process.stderr.write(`devenv: cannot run '${opts.argv[0]}': ${e.code === 'ENOENT' ? 'command not found in the project environment' : e.message}\n`);
      resolve(e.code === 'ENOENT' ? 127 : 126);
    });
    child.on('exit', (code, signal) => {
      debug('child exited');
      for (const [s, h] of handlers) process.off(s, h);
      if (signal) {
        process.kill(process.pid, signal);
        resolve(128 + (({SIGINT: 2, SIGTERM: 15, SIGHUP: 1, SIGKILL: 9, SIGQUIT: 3} as Record<string, number>)[signal] ?? 1));
      } else resolve(code ?? 0);
    });
  });
}

export interface CapturedRun {
  root: string;
  argv: string[];
  exitCode: number;
  /** The signal that ended it (a timeout ends it with SIGTERM, then SIGKILL). */
  signal: string | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** Output past `maxBytes` per stream is dropped, and said so here. */
  truncated: boolean;
}

/**
 * `exec` for a caller that is not a terminal (the MCP server): trusted projects only, stdin
 * closed, output captured (bounded), the command's whole process group ended at the timeout.
 */
export async function execCaptured(p: Project, opts: {cwd: string; argv: string[]; timeoutMs?: number; maxBytes?: number}): Promise<CapturedRun> {
  if (!opts.argv.length) throw new UsageError('no command given', 'pass the command as a list of words, e.g. ["python3", "--version"]');
  const {root, env} = await execEnvironment(p, {requireTrust: true});
  const max = opts.maxBytes ?? 1 << 20;
  return new Promise((resolve) => {
    const child = spawn(opts.argv[0], opts.argv.slice(1), {stdio: ['ignore', 'pipe', 'pipe'], env, cwd: opts.cwd, detached: true});
    const out = {stdout: [] as Buffer[], stderr: [] as Buffer[]};
    const size = {stdout: 0, stderr: 0};
    let truncated = false;
    for (const k of ['stdout', 'stderr'] as const) {
      child[k].on('data', (b: Buffer) => {
        const room = max - size[k];
        if (b.length > room) truncated = true;
        if (room > 0) out[k].push(b.subarray(0, room));
        size[k] += Math.min(b.length, Math.max(room, 0));
      });
    }
    let timedOut = false;
    const group = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {}
    };
    const timer = setTimeout(() => {
      timedOut = true;
      group('SIGTERM');
      setTimeout(() => group('SIGKILL'), 3000).unref();
    }, opts.timeoutMs ?? 600_000);
    const done = (exitCode: number, signal: string | null, extra = '') => {
      clearTimeout(timer);
      resolve({root, argv: opts.argv, exitCode, signal, timedOut, stdout: Buffer.concat(out.stdout).toString('utf8'), stderr: Buffer.concat(out.stderr).toString('utf8') + extra, truncated});
    };
    child.on('error', (e: NodeJS.ErrnoException) => done(e.code === 'ENOENT' ? 127 : 126, null, `devenv: cannot run '${opts.argv[0]}': ${e.code === 'ENOENT' ? 'command not found in the project environment' : e.message}\n`));
    // 'close': both pipes drained, so nothing the command printed is lost.
    child.on('close', (code, signal) => done(signal ? 128 + (({SIGINT: 2, SIGTERM: 15, SIGHUP: 1, SIGKILL: 9, SIGQUIT: 3} as Record<string, number>)[signal] ?? 1) : (code ?? 0), signal));
  });
}
