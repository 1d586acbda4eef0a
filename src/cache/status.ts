// How fresh a project's cached environment is, and why not (status, doctor).
import {readEntry} from './entries.js';
import type {Project} from '../project/project.js';
import {computeKey} from './key.js';
import {readProjectState} from './project-state.js';

export interface CacheStatus {
  state: 'fresh' | 'stale' | 'missing';
  key: string;
  why?: string;
  /** The inputs whose content changed since the last good evaluation. */
  changed?: string[];
  corrupt?: string;
}

export function cacheStatus(p: Project): CacheStatus {
  const {key, perFile: now} = computeKey(p);
  const read = readEntry(key, false);
  if (read.status === 'hit') return {state: 'fresh', key};
  const st = readProjectState(p);
  const corrupt = read.status === 'corrupt' ? read.reason : undefined;
  if (!st.lastGoodKey) return {state: 'missing', key, why: corrupt ? `cache entry unreadable: ${corrupt}` : 'never evaluated', corrupt};
  const before = st.inputDigests ?? {};
  const changed = [...new Set([...Object.keys(now), ...Object.keys(before)])].filter((f) => now[f] !== before[f]).sort();
  const why = corrupt
    ? `cache entry unreadable: ${corrupt}`
    : changed.length
      ? `${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ` and ${changed.length - 5} more` : ''} changed since the last evaluation`
      : key === st.lastGoodKey
        ? "its cached environment was removed ('devenv gc' or a cleared cache); the next use evaluates again"
        : 'nix, the system or DEVENV_NIXPKGS changed since the last evaluation';
  return {state: 'stale', key, why, changed, corrupt};
}
