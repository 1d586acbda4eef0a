// `devenv status`: where the project is, whether it is trusted, how fresh its cache is and why.
import {keyFor} from '../cache/key.js';
import {readProjectState} from '../cache/project-state.js';
import {type CacheStatus, cacheStatus} from '../cache/status.js';
import {diagnoseNixError} from '../nix/nix-error.js';
import {readInputs, watchedInputs} from '../project/inputs.js';
import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {manifestFilesLenient, manifestFingerprint} from '../manifest/files.js';
import {projectStateDir} from '../paths.js';
import {readMemo, writeMemo} from '../util/fs.js';
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
  /** The merged manifest (includes, devenv.toml, devenv.local.toml): its files in merge order and where each entry comes from. */
  manifest?: {files: string[]; entries: ManifestEntry[]; error?: string};
  /** Teams: the project's caches and builders, whether they reach nix, and what the last evaluation's nix did. */
  teams?: {settings: TeamSettings; passed: boolean; notPassedBecause?: string; lastNix?: LastNixRun};
}

export interface ManifestEntry {
  key: string;
  value: unknown;
  file: string;
  line: number;
}

/**
 * The merged manifest with each entry's source; a manifest that does not load is reported, not
 * thrown. One that loaded is remembered by the text of its files and the schema: validating it
 * again costs ~0.1 s of ajv, most of a `status`.
 */
async function manifestStatus(root: string, real: string): Promise<Status['manifest']> {
  let schema = '';
  try {
    schema = readFileSync(new URL('../../schema/devenv.schema.json', import.meta.url), 'utf8');
  } catch {}
  const digest = createHash('sha256').update(JSON.stringify([real, manifestFingerprint(manifestFilesLenient(real)), schema])).digest('hex');
  const memo = join(projectStateDir(root), 'manifest-status.json');
  const known = readMemo<NonNullable<Status['manifest']>>(memo, digest);
  if (known) return known;
  const loaded = await loadedStatus(real);
  if (loaded && !loaded.error) writeMemo(memo, digest, loaded);
  return loaded;
}

async function loadedStatus(real: string): Promise<Status['manifest']> {
  const {loadManifest} = await import('../manifest/load.js');
  try {
    const loaded = loadManifest(real);
    if (!loaded) return undefined;
    const valueAt = (key: string): unknown => {
      if (key.startsWith('packages.')) return key.slice('packages.'.length);
      let v: unknown = loaded.manifest;
      for (const k of key.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
      return v;
    };
    const entries = Object.entries(loaded.sources).map(([key, s]) => ({key, value: valueAt(key), file: s.file, line: s.line}));
    return {files: loaded.files.map((f) => f.name), entries};
  } catch (e) {
    return {files: [], entries: [], error: (e as Error).message};
  }
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
    manifest: await manifestStatus(p.root, p.real),
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

/** devenv.toml as devenv reads it (parsed, validated); null for a flake-only project. */
export async function projectManifest(cwd: string): Promise<{root: string; file: string; manifest: unknown}> {
  const {root} = openProject(cwd);
  const {join} = await import('node:path');
  const {existsSync} = await import('node:fs');
  const file = join(root, 'devenv.toml');
  if (!existsSync(file)) return {root, file, manifest: null};
  const {readManifest} = await import('../manifest/parse.js');
  return {root, file, manifest: readManifest(file)};
}
