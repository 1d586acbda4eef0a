// Every nix command on a project's flake: the reference is resolved relative to nix's cwd
// (see Project.flake), and a non-git project is evaluated from its filtered private copy,
// so `.devenv` (service data, logs) never reaches /nix/store.
import {join} from 'node:path';
import {type NixResult, runNix} from '../nix/nix.js';
import {type InputDigest, stageSource} from '../project/inputs.js';
import type {Project} from '../project/project.js';
import {readFileOrNull, writeFileAtomic} from '../util/fs.js';

export interface FlakeRun {
  result: NixResult;
  /** For a non-git project: the digest of the copy nix read. */
  staged?: InputDigest;
}

/**
 * `nix <args> <ref>` for the project. `staged`: the copy is already up to date (a second command
 * of one evaluation). `beforeNix` sees the copy's digest before nix runs. A flake.lock nix
 * wrote into the copy is brought back to the project (nix would have written it there).
 */
export async function runOnFlake(p: Project, args: string[], what: string, opts: {staged?: boolean; beforeNix?: (staged: InputDigest | undefined) => Promise<void> | void} = {}): Promise<FlakeRun> {
  let staged: InputDigest | undefined;
  if (!p.git && !opts.staged) staged = stageSource(p);
  await opts.beforeNix?.(staged);
  const result = await runNix([...args, p.flake.ref], {cwd: p.flake.cwd, what});
  if (!p.git) {
    const lock = readFileOrNull(join(p.flake.cwd, 'flake.lock'));
    if (lock !== null && lock !== readFileOrNull(join(p.real, 'flake.lock'))) writeFileAtomic(join(p.real, 'flake.lock'), lock, 0o644);
  }
  return {result, staged};
}
