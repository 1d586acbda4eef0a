// What the service tests share: devenv as the test user in a project (run, exec, ps, env),
// devenv in the background for checkouts started side by side, and a git repository with a
// worktree beside it (two checkouts of one project).
import {spawn, spawnSync, type SpawnSyncReturns} from 'node:child_process';
import {join} from 'node:path';
import {DEVENV, type Sandbox} from './env.js';

export const git = (cwd: string, ...args: string[]): void => {
  const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], {cwd, encoding: 'utf8'});
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
};

export type ServiceStatus = {state: string; pid?: number; port?: number; ready?: boolean; socketDir?: string; dataDir?: string};

/** devenv commands in a sandbox made later (in beforeAll): `sandbox` is read at each call. */
export function serviceCli(sandbox: () => Sandbox) {
  const run = (cwd: string, args: string[]): SpawnSyncReturns<string> => sandbox().devenv(args, {cwd, timeout: 300_000});
  const ok = (r: SpawnSyncReturns<string>): SpawnSyncReturns<string> => {
    if (r.status !== 0) throw new Error(`devenv exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
    return r;
  };
  const sh = (cwd: string, script: string): string => ok(run(cwd, ['exec', '--', 'bash', '-c', script])).stdout.trim();
  const ps = (cwd: string): Record<string, ServiceStatus> => Object.fromEntries(JSON.parse(ok(run(cwd, ['ps', '--json'])).stdout).services.map((s: {name: string}) => [s.name, s]));
  /** The project's variables, as its processes see them. */
  const envOf = (cwd: string): Record<string, string> => Object.fromEntries(sh(cwd, 'env').split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  /** devenv in the background, for starting checkouts side by side. */
  const devenvAsync = (cwd: string, args: string[]): Promise<{status: number | null; out: string}> =>
    new Promise((resolve) => {
      const c = spawn(process.execPath, [DEVENV, ...args], {cwd, env: {...sandbox().env, PWD: cwd}});
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.stderr.on('data', (d) => (out += d));
      c.on('close', (status) => resolve({status, out}));
    });
  return {run, ok, sh, ps, envOf, devenvAsync};
}

/**
 * `main` (its files written) as a git repository: flake.nix generated, all committed on `main`,
 * and a worktree `wt` beside it on `feature`. Returns the worktree's path.
 */
export function repoWithWorktree(sb: Sandbox, main: string): string {
  const r = sb.devenv(['generate'], {cwd: main, timeout: 300_000});
  if (r.status !== 0) throw new Error(`devenv generate exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
  git(main, 'init', '-q', '-b', 'main');
  git(main, 'add', '-A');
  git(main, 'commit', '-qm', 'init');
  const wt = join(sb.dir, 'wt');
  git(main, 'worktree', 'add', '-q', wt, '-b', 'feature');
  return wt;
}
