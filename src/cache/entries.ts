// Cache entries: one JSON file per content key under $XDG_CACHE_HOME/devenv/entries.
// Each carries a checksum; a truncated or corrupt file reads as a miss, never a crash.
import {createHash} from 'node:crypto';
import {readdirSync, rmSync, statSync, utimesSync} from 'node:fs';
import {join} from 'node:path';
import type {EnvSpec} from '../env/spec.js';
import {entriesDir, gcrootsDir} from '../paths.js';
import {readFileOrNull, writeFileAtomic} from '../util/fs.js';
import {CACHE_FORMAT} from './key.js';

export interface CacheEntry {
  format: number;
  key: string;
  createdAt: string;
  durationMs: number;
  /** Names (relative to the root) of the local files the evaluation read. */
  inputs: string[];
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
  if (touch) {
    const now = new Date();
    try {
      utimesSync(file, now, now); // last-used time, for gc
    } catch {}
  }
  return {status: 'hit', entry};
}

export function writeEntry(entry: CacheEntry): void {
  writeFileAtomic(entryFile(entry.key), JSON.stringify({...entry, checksum: sum(entry)}));
}

export function removeEntry(key: string): void {
  rmSync(entryFile(key), {force: true});
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
      out.push({key: n.slice(0, -5), lastUsed: st.mtime, bytes: st.size});
    } catch {}
  }
  return out;
}
