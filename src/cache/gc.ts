// `devenv gc`: drop cache entries (and their GC roots) not used for a while.
import {readdirSync, rmSync} from 'node:fs';
import {join} from 'node:path';
import {gcrootsDir} from '../paths.js';
import {listEntries, readEntry, removeEntry} from './entries.js';

export interface GcResult {
  removed: {key: string; lastUsed: string}[];
  kept: number;
  bytes: number;
  dryRun: boolean;
}

export function parseAge(s: string): number {
  const m = /^(\d+)\s*(d|h|m|s|w)?$/.exec(s.trim());
  if (!m) throw new Error(`cannot read '${s}' as an age; use e.g. 30d, 12h, 2w`);
  const unit = {s: 1, m: 60, h: 3600, d: 86400, w: 604800}[(m[2] ?? 'd') as 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit * 1000;
}

export function collectGarbage(olderThanMs: number, dryRun: boolean, protect: string[] = []): GcResult {
  const cutoff = Date.now() - olderThanMs;
  const res: GcResult = {removed: [], kept: 0, bytes: 0, dryRun};
  for (const e of listEntries()) {
    if (e.lastUsed.getTime() >= cutoff || protect.includes(e.key)) {
      res.kept++;
      continue;
    }
    res.removed.push({key: e.key, lastUsed: e.lastUsed.toISOString()});
    res.bytes += e.bytes;
    if (!dryRun) removeEntry(e.key);
  }
  if (!dryRun) removeUnusedInputRoots();
  return res;
}

/** Shared input roots no remaining entry refers to. */
function removeUnusedInputRoots(): void {
  const used = new Set<string>();
  for (const e of listEntries()) {
    const r = readEntry(e.key, false);
    if (r.status === 'hit') for (const root of r.entry.roots) used.add(root);
  }
  const dir = join(gcrootsDir(), 'inputs');
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {}
  for (const n of names) if (!used.has(join(dir, n))) rmSync(join(dir, n), {recursive: true, force: true});
}

