// Per-project state (path-dependent, unlike cache entries): last evaluation, last good key, last error.
import {join} from 'node:path';
import type {Project} from '../project/project.js';
import {readJson, writeFileAtomic} from '../util/fs.js';

export interface ProjectState {
  /** The project's real path (the state dir is named by its digest). */
  root?: string;
  lastKey?: string;
  lastGoodKey?: string;
  lastEvalAt?: string;
  lastDurationMs?: number;
  lastError?: string;
  lastErrorAt?: string;
  /** Key whose failure was already printed, so the error is shown once. */
  errorShownFor?: string;
  /** The evaluation error last rendered into the activation scripts (shells show it on loading). */
  errorRendered?: string;
  /** Per input file (relative name) sha256 at the last good evaluation, to say why the cache is stale. */
  inputDigests?: Record<string, string>;
  /** Input URLs + flake.lock that `nix flake lock` last confirmed (URL forms devenv cannot compare). */
  lockCheckedFor?: string;
  // Teams (src/teams): what the last evaluation's nix did, and the last notice printed about it.
  lastNix?: LastNixRun;
  teamNoticeShown?: string;
}

export interface LastNixRun {
  /** Derivations built (here or on a remote builder) and paths fetched from caches. */
  built: number;
  substituted: number;
  from: string[];
  remote?: string[];
  /** Paths refused for their signature. */
  refused?: {count: number; from: string[]};
  /** The project's substituters the daemon ignored (user not trusted). */
  ignoredSubstituters: string[];
  /** The daemon ignored the project's builders (user not trusted): nix built here. */
  ignoredBuilders?: boolean;
  settingsPassed: boolean;
  notPassedBecause?: string;
}

export const stateFile = (p: Project): string => join(p.stateDir, 'state.json');

export function readProjectState(p: Project): ProjectState {
  return readJson<ProjectState>(stateFile(p)) ?? {};
}

export function updateProjectState(p: Project, patch: Partial<ProjectState>): ProjectState {
  const next = {...readProjectState(p), ...patch, root: p.real};
  for (const k of Object.keys(next) as (keyof ProjectState)[]) if (next[k] === undefined) delete next[k];
  writeFileAtomic(stateFile(p), JSON.stringify(next, null, 2) + '\n');
  return next;
}
