// `devenv status`: where the project is, whether it is trusted, how fresh its cache is and why.
import {keyFor} from '../cache/key.js';
import {readProjectState} from '../cache/project-state.js';
import {type CacheStatus, cacheStatus} from '../cache/status.js';
import {diagnoseNixError} from '../nix/nix-error.js';
import {readInputs, watchedInputs} from '../project/inputs.js';
import {CORE_FILES} from '../project/find.js';
import {trackedDotenvFiles} from '../project/dotenv-git.js';
import {type FlakeDrift, flakeDrift} from '../project/sync.js';
import {openProject} from '../project/project.js';
import {changedSinceAllow, checkTrust} from '../trust/trust.js';
import {setupStatus} from './setup.js';
import {hasSettings, projectTeamSettings, type TeamSettings} from '../teams/settings.js';
import type {LastNixRun} from '../cache/project-state.js';

export type {CacheStatus};

export interface Status {
  root: string;
  /** The real path, when the project was reached through a symlink. */
  real?: string;
  trust: string;
  trusted: boolean;
  /** For a project that changed since it was allowed: the inputs whose content differs. */
  trustChanged?: string[];
  /** A worktree allowed through another checkout's allow: that checkout's real path. */
  trustFrom?: string;
  /** Allowed under devenv's older rule and not carried over: why one allow is needed. */
  trustOlderRule?: string;
  /** What nix reads of the project (relative to the root): exactly what trust and the cache cover. */
  inputs: {count: number; files: string[]; watchedAtPrompt: number};
  /** Configured dotenv files git tracks (their values would be in every clone and commit). */
  trackedDotenv?: string[];
  cache: CacheStatus;
  lastEvaluation?: {at: string; durationMs?: number};
  lastError?: {at?: string; message: string; error: string; hint?: string};
  /** Set when devenv.toml changed after flake.nix was edited by hand (its changes do not apply). */
  flakeDrift: FlakeDrift | null;
  services: unknown[];
  watcher: unknown;
  /** Language setup (.venv, pip, node install): running, last failure, last success. */
  setup?: ReturnType<typeof setupStatus>;
  /** Teams: the project's caches and builders, whether they reach nix, and what the last evaluation's nix did. */
  teams?: {settings: TeamSettings; passed: boolean; notPassedBecause?: string; lastNix?: LastNixRun};
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
  const team = await projectTeamSettings(p, inputs);
  return {
    teams: hasSettings(team.settings) || st.lastNix ? {settings: team.settings, passed: team.passed, notPassedBecause: team.passed ? undefined : team.reason, lastNix: st.lastNix} : undefined,
    root: p.root,
    real: p.real !== p.root ? p.real : undefined,
    trust: trust.state,
    trusted: trust.trusted,
    trustChanged: trust.state === 'changed' ? changedSinceAllow(p.root, inputs) : undefined,
    trustFrom: trust.from,
    trustOlderRule: trust.olderRule,
    inputs: {count: inputs.files.length, files: inputs.files, watchedAtPrompt: watchedInputs(inputs).watched.length + inputs.files.filter((f) => CORE_FILES.includes(f)).length},
    trackedDotenv: trackedDotenvFiles(p),
    cache: cacheStatus(p.root, keyFor(inputs)),
    lastEvaluation: st.lastEvalAt ? {at: st.lastEvalAt, durationMs: st.lastDurationMs} : undefined,
    lastError: st.lastError ? lastErrorOf(st.lastError, st.lastErrorAt) : undefined,
    flakeDrift: flakeDrift(p.root) ?? null,
    services,
    watcher,
    setup: setupStatus(p.root),
  };
}

/** The stored error with what to do about it, read through the one nix error table. */
function lastErrorOf(message: string, at?: string): NonNullable<Status['lastError']> {
  const known = diagnoseNixError(message);
  return {at, message, error: known?.code ?? 'evaluation_failed', hint: known?.hint ?? "fix the error, then run 'devenv reload'"};
}
