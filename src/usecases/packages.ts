// `devenv add` / `devenv remove`: edit devenv.toml's packages, then bring flake.nix up to date.
import {join} from 'node:path';
import {DevenvError, UsageError} from '../errors.js';
import {ATTR_RE, checkPackageNames} from './search.js';
import {editPackages} from '../manifest/edit.js';
import {flakeOwnership} from '../flake/render.js';
import {keepTrustAcross} from '../trust/trust.js';
import {readFileOrNull, withLock, writeFileAtomic} from '../util/fs.js';
import {openProject} from '../project/project.js';
import {syncFlake} from '../project/sync.js';

export interface PackagesResult {
  root: string;
  changed: string[];
  skipped: string[];
  /** Skipped names another section of devenv.toml brings in (remove python311 -> [languages.python]). */
  providedBy?: Record<string, string>;
  flake: 'written' | 'unchanged' | 'user-owned' | 'no-manifest';
}

export async function editProjectPackages(cwd: string, op: 'add' | 'remove', names: string[], opts: {force?: boolean} = {}): Promise<PackagesResult> {
  const p = openProject(cwd);
  // A bad name is the argument's fault, not devenv.toml's: say so before any edit.
  if (op === 'add') for (const n of names) if (!ATTR_RE.test(n)) throw new UsageError(`'${n}' is not a nixpkgs attribute name`, "names are letters, digits, _ ' - and dots, e.g. jq or python311Packages.numpy; nothing was written");
  // Read-modify-write of devenv.toml: two concurrent edits must not lose one another.
  return withLock(join(p.stateDir, 'edit.lock'), () => editLocked(p.root, op, names, opts));
}

async function editLocked(root: string, op: 'add' | 'remove', names: string[], opts: {force?: boolean}): Promise<PackagesResult> {
  const tomlFile = join(root, 'devenv.toml');
  const text = readFileOrNull(tomlFile);
  if (text === null) throw new DevenvError(`${root} has a flake.nix but no devenv.toml`, {hint: "add packages to flake.nix by hand, or run 'devenv init --force' to let devenv manage it"});
  // Refuse before touching anything if flake.nix is the user's own.
  const flake = readFileOrNull(join(root, 'flake.nix'));
  if (flake !== null && flakeOwnership(flake) !== 'generated' && !opts.force) {
    throw new DevenvError('flake.nix was edited by hand, so devenv will not regenerate it', {hint: 'edit flake.nix yourself, or pass --force to regenerate it from devenv.toml (your edits to flake.nix are lost)'});
  }
  const result = editPackages(text, op, names, tomlFile);
  if (!result.changed.length) return {root, changed: [], skipped: result.skipped, ...(result.providedBy ? {providedBy: result.providedBy} : {}), flake: 'unchanged'};
  // Only names that exist in the pinned nixpkgs get written (a missing one fails the next exec).
  if (op === 'add') await checkPackageNames(root, result.changed);
  return keepTrustAcross(root, async (): Promise<PackagesResult> => {
    writeFileAtomic(tomlFile, result.text, 0o644);
    const flakeResult = await syncFlake(root, {force: opts.force});
    return {root, changed: result.changed, skipped: result.skipped, ...(result.providedBy ? {providedBy: result.providedBy} : {}), flake: flakeResult};
  });
}
