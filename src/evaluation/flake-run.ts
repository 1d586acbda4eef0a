// Every nix command on a project's flake: nix reads the project's private copy of its inputs
// (see Project.flake and inputs.ts), so nothing else of the work tree reaches /nix/store.
import {lstatSync, mkdirSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import {NixFailedError} from '../errors.js';
import {type NixResult, runNix} from '../nix/nix.js';
import {diagnoseNixError} from '../nix/nix-error.js';
import {declaredInputs, dotenvNames} from '../project/dotenv.js';
import {gitTracks, type InputDigest, looksLikeDotenv, stageSource} from '../project/inputs.js';
import type {Project} from '../project/project.js';
import {exists, readFileOrNull, writeFileAtomic} from '../util/fs.js';

export interface FlakeRun {
  result: NixResult;
  /** The digest of the copy nix read (unset when the caller staged it already). */
  staged?: InputDigest;
}

/**
 * `nix <args> <ref>` (or `nix <args> <refFlag> <ref>`) for the project. `staged`: the copy is already up to date (a second command
 * of one evaluation). `beforeNix` sees the copy's digest before nix runs. A flake.lock nix
 * wrote into the copy is brought back to the project (nix would have written it there).
 */
/** The directories under the project's `dir` (not following symlinks), made empty in the copy; false when `dir` is none. */
function skeleton(root: string, copy: string, dir: string): boolean {
  if (dir.split('/').some((s) => s === '..' || s === '.git' || s === '.devenv')) return false;
  const dirs: string[] = [];
  const walk = (rel: string) => {
    if (dirs.length >= 10_000) return;
    dirs.push(rel);
    let entries;
    try {
      entries = readdirSync(join(root, rel), {withFileTypes: true});
    } catch {
      return;
    }
    for (const d of entries) if (d.isDirectory() && d.name !== '.git' && d.name !== '.devenv') walk(`${rel}/${d.name}`);
  };
  try {
    if (!lstatSync(join(root, dir)).isDirectory()) return false;
  } catch {
    return false;
  }
  walk(dir);
  for (const d of dirs) mkdirSync(join(copy, d), {recursive: true});
  return true;
}

/** See runOnFlake: a file the flake reads that is not an input, named with the devenv.toml line to add. */
async function undeclared(p: Project, e: unknown, what: string, run: () => Promise<NixResult>): Promise<never> {
  if (!(e instanceof NixFailedError) || e.code !== 'nix_undeclared_input') throw e;
  // Nix names the first missing part of its path: when that is a directory of the project,
  // its (empty) directories go into the copy and nix runs once more to name the file. The
  // next staging removes them.
  let err = e;
  const missing = diagnoseNixError(e.stderr)?.message.match(/^the flake reads (\S+),/)?.[1];
  if (missing && skeleton(p.real, p.flake.cwd, missing)) {
    try {
      // It evaluates with empty directories (a readDir): still a read of what is not an input.
      await run();
    } catch (again) {
      if (!(again instanceof NixFailedError) || again.code !== 'nix_undeclared_input') throw again;
      err = again;
    }
  }
  const dotenv = dotenvNames(p.real);
  const untracked = (n: string): boolean => !!p.git && n.endsWith('.nix') && !n.startsWith('../') && exists(join(p.real, n)) && !gitTracks(p.real, n);
  const diagnosis = diagnoseNixError(err.stderr, {declared: declaredInputs(p.real), exists: (n) => exists(join(p.real, n)), dotenvLike: (n) => looksLikeDotenv(n, dotenv), untracked});
  throw new NixFailedError(what, err.stderr, {diagnosis});
}

export async function runOnFlake(p: Project, args: string[], what: string, opts: {staged?: boolean; beforeNix?: (staged: InputDigest | undefined) => Promise<void> | void; refFlag?: string} = {}): Promise<FlakeRun> {
  let staged: InputDigest | undefined;
  if (!opts.staged) staged = stageSource(p);
  await opts.beforeNix?.(staged);
  const run = () => runNix([...args, ...(opts.refFlag ? [opts.refFlag] : []), p.flake.ref], {cwd: p.flake.cwd, what});
  const result = await run().catch((e: unknown) => undeclared(p, e, what, run));
  const lock = readFileOrNull(join(p.flake.cwd, 'flake.lock'));
  if (lock !== null && lock !== readFileOrNull(join(p.real, 'flake.lock'))) writeFileAtomic(join(p.real, 'flake.lock'), lock, 0o644);
  return {result, staged};
}
