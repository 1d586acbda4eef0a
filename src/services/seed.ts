// A database per git worktree, seeded from another checkout: on a database's first start in
// this checkout (fresh data dir), copy the source checkout's databases while the source runs,
// with the server's own consistent dump (pg_dump, mariadb-dump --single-transaction) piped
// into this checkout's server. After that the two are independent.
import {spawn, spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {isAbsolute, resolve} from 'node:path';
import {ServiceError} from '../errors.js';
import {realPath} from '../util/fs.js';

/**
 * "main" (the repository's main worktree) or a path (relative to the root) -> the source
 * checkout, or undefined when there is none to copy: this checkout itself, or "main" outside
 * git (a plain directory is its own main checkout; `note` says the seed was skipped).
 */
export function resolveSeedSource(root: string, seed: string, note?: (m: string) => void): string | undefined {
  let src: string;
  if (seed === 'main') {
    const r = spawnSync('git', ['-C', root, 'worktree', 'list', '--porcelain'], {encoding: 'utf8'});
    const first = /^worktree (.+)$/m.exec(r.stdout ?? '')?.[1];
    if (r.status !== 0 || !first) {
      note?.(`not seeded: seed = "main" names the main git worktree, and ${root} is not in a git repository (starting empty; give a path to copy from: seed = "../other" or --seed-from <path>)`);
      return undefined;
    }
    src = first;
  } else src = isAbsolute(seed) ? seed : resolve(root, seed);
  if (!existsSync(src)) throw new ServiceError(`seed source ${src} does not exist`, 'give an existing checkout of this project');
  return realPath(src) === realPath(root) ? undefined : realPath(src);
}

/** `from | to`, both without a shell; fails with the stderr of whichever failed. */
export function pipe(from: {cmd: string; args: string[]}, to: {cmd: string; args: string[]}, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const a = spawn(from.cmd, from.args, {env, stdio: ['ignore', 'pipe', 'pipe']});
    const b = spawn(to.cmd, to.args, {env, stdio: ['pipe', 'ignore', 'pipe']});
    let errA = '';
    let errB = '';
    a.stderr!.on('data', (d) => (errA += d));
    b.stderr!.on('data', (d) => (errB += d));
    a.stdout!.pipe(b.stdin!);
    b.stdin!.on('error', () => {});
    let codeA: number | null | undefined;
    let codeB: number | null | undefined;
    const done = () => {
      if (codeA === undefined || codeB === undefined) return;
      if (codeA !== 0) reject(new Error(`${from.cmd.split('/').pop()} failed (exit ${codeA}): ${errA.trim().split('\n').slice(-5).join(' / ')}`));
      else if (codeB !== 0) reject(new Error(`${to.cmd.split('/').pop()} failed (exit ${codeB}): ${errB.trim().split('\n').slice(-5).join(' / ')}`));
      else resolvePromise();
    };
    a.once('error', (e) => reject(e));
    b.once('error', (e) => reject(e));
    a.once('close', (c) => {
      codeA = c;
      done();
    });
    b.once('close', (c) => {
      codeB = c;
      done();
    });
  });
}
