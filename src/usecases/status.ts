// `devenv status`: where the project is, whether it is trusted, how fresh its cache is and why.
import {keyFor} from '../cache/key.js';
import {readProjectState} from '../cache/project-state.js';
import {type CacheStatus, cacheStatus} from '../cache/status.js';
import {readInputs} from '../project/inputs.js';
import {openProject} from '../project/project.js';
import {changedSinceAllow, checkTrust} from '../trust/trust.js';

export type {CacheStatus};

export interface Status {
  root: string;
  /** The real path, when the project was reached through a symlink. */
  real?: string;
  trust: string;
  trusted: boolean;
  /** For a project that changed since it was allowed: the files whose content differs. */
  trustChanged?: string[];
  cache: CacheStatus;
  lastEvaluation?: {at: string; durationMs?: number};
  lastError?: {at?: string; message: string};
  services: unknown[];
  watcher: unknown;
}

export async function projectStatus(cwd: string): Promise<Status> {
  const p = openProject(cwd);
  const inputs = readInputs(p);
  const trust = checkTrust(p.root, inputs.digest);
  const st = readProjectState(p.root);
  let services: unknown[] = [];
  try {
    const mod = await import('../services/index.js');
    services = await mod.servicesStatus(p.root);
  } catch {}
  let watcher: unknown = null;
  try {
    const mod = await import('../watch/state.js');
    watcher = mod.watcherStatus();
  } catch {}
  return {
    root: p.root,
    real: p.real !== p.root ? p.real : undefined,
    trust: trust.state,
    trusted: trust.trusted,
    trustChanged: trust.state === 'changed' ? changedSinceAllow(p.root, inputs) : undefined,
    cache: cacheStatus(p.root, keyFor(inputs)),
    lastEvaluation: st.lastEvalAt ? {at: st.lastEvalAt, durationMs: st.lastDurationMs} : undefined,
    lastError: st.lastError ? {at: st.lastErrorAt, message: st.lastError} : undefined,
    services,
    watcher,
  };
}
