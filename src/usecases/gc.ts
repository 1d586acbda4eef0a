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
  } catch (e) {
    throw new UsageError((e as Error).message);
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
