// `devenv exec -- cmd`: run a command in the project's environment. On a warm cache this
// loads no oclif, no execa and starts no nix: read the entry, build the env, spawn.
import {spawn} from 'node:child_process';
import {readEntry} from '../cache/entries.js';
import {computeKey} from '../cache/key.js';
import {oneListing} from '../project/inputs.js';
import {applyToEnv} from '../env/spec.js';
import {baseEnv, hookEffects} from '../env/shell-hook.js';
import {UsageError} from '../errors.js';
import {runningSetup, setupPlan} from '../languages/setup.js';
import {withLanguages} from '../project/languages.js';
import {openProject} from '../project/project.js';
import {warnFlakeDrift} from '../project/sync.js';
import {projectEnv} from '../services/project-env.js';
import {debug} from '../util/debug.js';

export interface ExecOptions {
  cwd: string;
  argv: string[];
  strict?: boolean;
}

/** Returns the exit code to use; re-raises the child's signal on ourselves when it died of one. */
export async function execInEnv(opts: ExecOptions): Promise<number> {
  if (!opts.argv.length) throw new UsageError('no command given', "usage: devenv exec -- <command> [args...]");
  const p = openProject(opts.cwd);
  const root = p.root;
  warnFlakeDrift(root);
  const entry = await oneListing(async () => {
    const hit = readEntry(computeKey(p).key);
    if (hit.status === 'hit') return hit.entry;
    const {ensureEnvironment} = await import('../evaluation/evaluate.js');
    return (await ensureEnvironment(root, {progress: true, strict: opts.strict})).entry;
  });
  if (setupPlan(root, entry.spec).steps.length || runningSetup(root)) {
    const {setupBeforeExec} = await import('./setup.js');
    await setupBeforeExec(root, entry.spec);
  }
  debug('environment ready');
  const own = await projectEnv(root);
  const env = applyToEnv(baseEnv(), withLanguages(entry.spec, root), {...own, DEVENV_ROOT: root}, hookEffects(root, entry.key, entry.spec, own));
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
