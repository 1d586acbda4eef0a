// Cache entries: one JSON file per content key under $XDG_CACHE_HOME/devenv/entries.
// Each carries a checksum; a truncated or corrupt file reads as a miss, never a crash.
import {createHash} from 'node:crypto';
import {existsSync, readdirSync, rmSync, statSync, utimesSync} from 'node:fs';
import {join} from 'node:path';
import type {EnvSpec} from '../env/spec.js';
import {entriesDir, gcrootsDir, usedMarker} from '../paths.js';
import {readFileOrNull, writeFileAtomic} from '../util/fs.js';
import {CACHE_FORMAT} from './key.js';

export interface CacheEntry {
  format: number;
  key: string;
  createdAt: string;
  durationMs: number;
  /** Names (relative to the root) of the local files the evaluation read. */
  inputs: string[];
  /** Inputs beyond the prompt's watch limit (checked by content on allow, reload, cd). */
  unwatched?: number;
  spec: EnvSpec;
  /** Paths rooted against nix-collect-garbage. */
  roots: string[];
  checksum?: string;
}

const entryFile = (key: string): string => join(entriesDir(), `${key}.json`);
const sum = (e: CacheEntry): string => createHash('sha256').update(JSON.stringify({...e, checksum: undefined})).digest('hex');

export type EntryRead = {status: 'hit'; entry: CacheEntry} | {status: 'missing'} | {status: 'corrupt'; reason: string};

export function readEntry(key: string, touch = true): EntryRead {
  const file = entryFile(key);
  const text = readFileOrNull(file);
  if (text === null) return {status: 'missing'};
  let entry: CacheEntry;
  try {
    entry = JSON.parse(text);
  } catch {
    return {status: 'corrupt', reason: 'not valid JSON (truncated?)'};
  }
  if (entry.format !== CACHE_FORMAT || entry.key !== key) return {status: 'corrupt', reason: 'written by another devenv version'};
  if (entry.checksum !== sum(entry)) return {status: 'corrupt', reason: 'checksum mismatch'};
  // nix-collect-garbage (with the roots gone): never hand out a PATH of deleted store paths.
  if (touch && !storePathsPresent(entry)) return {status: 'corrupt', reason: 'its store paths were garbage-collected'};
  if (touch) {
    const now = new Date();
    try {
      utimesSync(file, now, now); // last-used time, for gc
    } catch {}
  }
  return {status: 'hit', entry};
}

function storePathsPresent(entry: CacheEntry): boolean {
  for (const entries of Object.values(entry.spec.prepend ?? {})) {
    for (const p of entries) {
      const m = /^\/nix\/store\/[0-9a-z]{32}-[^/]+/.exec(p);
      if (m && !existsSync(m[0])) return false;
    }
  }
  return true;
}

export function writeEntry(entry: CacheEntry): void {
  writeFileAtomic(entryFile(entry.key), JSON.stringify({...entry, checksum: sum(entry)}));
}

export function removeEntry(key: string): void {
  rmSync(entryFile(key), {force: true});
  rmSync(usedMarker(key), {force: true});
  rmSync(join(gcrootsDir(), key), {recursive: true, force: true});
}

export interface EntryInfo {
  key: string;
  lastUsed: Date;
  bytes: number;
}

export function listEntries(): EntryInfo[] {
  let names: string[] = [];
  try {
    names = readdirSync(entriesDir());
  } catch {}
  const out: EntryInfo[] = [];
  for (const n of names) {
    if (!n.endsWith('.json')) continue;
    try {
      const st = statSync(join(entriesDir(), n));
      const key = n.slice(0, -5);
      // The shells mark an entry used (on every load, no process) through its used marker.
      let used = st.mtime;
      try {
        const m = statSync(usedMarker(key)).mtime;
        if (m > used) used = m;
      } catch {}
      out.push({key, lastUsed: used, bytes: st.size});
    } catch {}
  }
  return out;
}
