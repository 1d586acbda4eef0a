// `devenv gc`: drop cached environments (and their GC roots) and the filtered copies of
// non-git projects that were not used for a while.
import {readdirSync, rmSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {collectGarbage, type GcResult, parseAge} from '../cache/gc.js';
import {UsageError} from '../errors.js';
import {cacheDir} from '../paths.js';

export function gc(olderThan: string, dryRun: boolean): GcResult & {sources: number} {
  let age: number;
  try {
    age = parseAge(olderThan);
  } catch {
    throw new UsageError(`cannot read '${olderThan}' as an age`, 'give a number and a unit (s, m, h, d, w), e.g. --older-than 30d or --older-than 12h');
  }
  const res = collectGarbage(age, dryRun);
  // A copy is refreshed by every evaluation of its project; an old one is recreated on demand.
  const dir = join(cacheDir(), 'src');
  let sources = 0;
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {}
  for (const n of names) {
    try {
      if (Date.now() - statSync(join(dir, n)).mtimeMs < age) continue;
    } catch {
      continue;
    }
    sources++;
    if (!dryRun) rmSync(join(dir, n), {recursive: true, force: true});
  }
  return {...res, sources};
}

/**
 * Ports, passwords and state of checkouts that no longer exist (a removed worktree or clone),
 * and of `devenv test` runs that did not clean up. A port something still listens on is kept.
 */
export async function gcCheckouts(dryRun: boolean): Promise<{checkouts: string[]; ports: number[]; stopped: {root: string; names: string[]}[]; running: {root: string; names: string[]}[]; errors: string[]}> {
  const {existsSync} = await import('node:fs');
  const {projectId, stateDir} = await import('../paths.js');
  const {registeredPorts, releasePorts} = await import('../services/ports.js');
  const {portFree} = await import('../services/process.js');
  const {devSocketDir} = await import('../services/instance.js');
  const {removedCheckouts, stopRemoved} = await import('../services/leftovers.js');
  // A removed checkout's servers run on, holding their ports: stop them first.
  const stopped: {root: string; names: string[]}[] = [];
  const running: {root: string; names: string[]}[] = [];
  const errors: string[] = [];
  for (const r of await removedCheckouts()) {
    running.push({root: r.root, names: r.running.map((s) => `${s.name}${s.pid ? ` (pid ${s.pid})` : ''}`)});
    if (dryRun) continue;
    const res = await stopRemoved(r.root);
    stopped.push({root: r.root, names: res.stopped.map((s) => `${s.name}${s.pid ? ` (pid ${s.pid})` : ''}`)});
    errors.push(...res.errors.map((e) => `${r.root}: ${e}`));
  }
  const gone = new Set<string>();
  const ports: number[] = [];
  for (const e of registeredPorts()) {
    const [root, tag] = e.root.split('#');
    const vanished = !existsSync(root);
    // A test instance's ports outlive it only when `devenv test` was killed.
    if (!vanished && !tag) continue;
    if (!(await portFree(e.port)).free) continue;
    ports.push(e.port);
    if (vanished) gone.add(root);
  }
  if (!dryRun) {
    const drop = new Set(ports);
    releasePorts((r) => {
      const [root, tag] = r.split('#');
      return (gone.has(root) || !!tag) && registeredPorts().some((e) => e.root === r && drop.has(e.port));
    });
    for (const root of gone) {
      rmSync(join(stateDir(), 'projects', projectId(root)), {recursive: true, force: true});
      for (const s of ['postgres', 'redis', 'mysql', 'caddy']) rmSync(devSocketDir(root, s), {recursive: true, force: true});
    }
    (await import('../services/caddy.js')).releaseCheckoutLabels();
  }
  return {checkouts: [...gone], ports, stopped, running, errors};
}
