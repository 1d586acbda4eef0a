// A database per git worktree, seeded from another checkout: on a database's first start in
// this checkout (fresh data dir), copy the source checkout's databases while the source runs,
// with the server's own consistent dump (pg_dump, mariadb-dump --single-transaction) piped
// into this checkout's server. After that the two are independent.
import {existsSync} from 'node:fs';
import {isAbsolute, resolve} from 'node:path';
import {ServiceError} from '../errors.js';
import {realPath} from '../util/fs.js';
import {run, runPipe} from '../util/run.js';

/**
 * "main" (the repository's main worktree) or a path (relative to the root) -> the source
 * checkout, or undefined when there is none to copy: this checkout itself, or "main" outside
 * git (a plain directory is its own main checkout; `note` says the seed was skipped).
 */
export async function resolveSeedSource(root: string, seed: string, note?: (m: string) => void): Promise<string | undefined> {
  let src: string;
  if (seed === 'main') {
    const r = await run('git', ['-C', root, 'worktree', 'list', '--porcelain']);
    const first = /^worktree (.+)$/m.exec(r.stdout)?.[1];
    if (r.exitCode !== 0 || !first) {
      note?.(`not seeded: seed = "main" names the main git worktree, and ${root} is not in a git repository (starting empty; give a path to copy from: seed = "../other" or --seed-from <path>)`);
      return undefined;
    }
    src = first;
  } else src = isAbsolute(seed) ? seed : resolve(root, seed);
  if (!existsSync(src)) throw new ServiceError(`seed source ${src} does not exist`, 'give an existing checkout of this project');
  return realPath(src) === realPath(root) ? undefined : realPath(src);
}

/** `from | to`, both without a shell; fails with the stderr of whichever failed. */
export async function pipe(from: {cmd: string; args: string[]}, to: {cmd: string; args: string[]}, env: NodeJS.ProcessEnv): Promise<void> {
  const r = await runPipe(from, to, {env});
  for (const [c, x] of [[from, r.from], [to, r.to]] as const) {
    if (x.exitCode !== 0) throw new Error(`${c.cmd.split('/').pop()} failed (exit ${x.exitCode}): ${(x.stderr || x.error || '').trim().split('\n').slice(-5).join(' / ')}`);
  }
}
