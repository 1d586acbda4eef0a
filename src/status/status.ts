// `devenv status`: where the project is, whether it is trusted, how fresh its cache is and why.
import {readEntry} from '../cache/entries.js';
import {computeKey, inputDigest, keyFor, type KeyParts} from '../cache/key.js';
import {readProjectState} from '../cache/project-state.js';
import {requireRoot} from '../project/find.js';
import {checkTrust} from '../trust/trust.js';

export interface CacheStatus {
  state: 'fresh' | 'stale' | 'missing';
  key: string;
  why?: string;
  corrupt?: string;
}

export interface Status {
  root: string;
  trust: string;
  trusted: boolean;
  cache: CacheStatus;
  lastEvaluation?: {at: string; durationMs?: number};
  lastError?: {at?: string; message: string};
  services: unknown[];
  watcher: unknown;
}

export function cacheStatus(root: string, parts: KeyParts = computeKey(root)): CacheStatus {
  const {key, perFile: now} = parts;
  const read = readEntry(key, false);
  if (read.status === 'hit') return {state: 'fresh', key};
  const st = readProjectState(root);
  const corrupt = read.status === 'corrupt' ? read.reason : undefined;
  if (!st.lastGoodKey) return {state: 'missing', key, why: corrupt ? `cache entry unreadable: ${corrupt}` : 'never evaluated', corrupt};
  const before = st.inputDigests ?? {};
  const changed = [...new Set([...Object.keys(now), ...Object.keys(before)])].filter((f) => now[f] !== before[f]);
  const why = corrupt
    ? `cache entry unreadable: ${corrupt}`
    : changed.length
      ? `${changed.slice(0, 5).join(', ')} changed since the last evaluation`
      : 'nix, the system or DEVENV_NIXPKGS changed since the last evaluation';
  return {state: 'stale', key, why, corrupt};
}

export async function projectStatus(cwd: string): Promise<Status> {
  const root = requireRoot(cwd);
  const inputs = inputDigest(root);
  const trust = checkTrust(root, inputs.digest);
  const st = readProjectState(root);
  let services: unknown[] = [];
  try {
    const mod = await import('../services/index.js');
    services = await mod.servicesStatus(root);
  } catch {}
  let watcher: unknown = null;
  try {
    const mod = await import('../watch/state.js');
    watcher = mod.watcherStatus();
  } catch {}
  return {
    root,
    trust: trust.state,
    trusted: trust.trusted,
    cache: cacheStatus(root, keyFor(inputs)),
    lastEvaluation: st.lastEvalAt ? {at: st.lastEvalAt, durationMs: st.lastDurationMs} : undefined,
    lastError: st.lastError ? {at: st.lastErrorAt, message: st.lastError} : undefined,
    services,
    watcher,
  };
}
