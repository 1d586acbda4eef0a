// Keep flake.nix in step with devenv.toml, without ever overwriting a flake the user edited.
// The generated flake records the digest of the devenv.toml it came from, so the common
// case (nothing changed) costs a hash, not a TOML parse and schema check.
import {createHash} from 'node:crypto';
import {join} from 'node:path';
import {flakeOwnership, flakeSource, renderFlake} from '../flake/render.js';
import {manifestFiles, manifestFilesLenient, manifestFingerprint} from '../manifest/files.js';
import {readFileOrNull, realPath, writeFileAtomic} from '../util/fs.js';

export type SyncResult = 'no-manifest' | 'unchanged' | 'written' | 'user-owned';

export const manifestDigest = (text: string): string => createHash('sha256').update(text).digest('hex');

/** devenv.toml as it may have been before its `[project]` table (what nix may read; no part of the generated flake) was added. */
const withoutProjectTable = (toml: string): string[] => {
  const re = /\n*\[project\][^\n]*\n(?:(?!\[)[^\n]*(?:\n|$))*/;
  return re.test(toml) ? ['', '\n', '\n\n'].map((sep) => toml.replace(re, sep).replace(/^\n+/, '')) : [];
};

/**
 * Render flake.nix from the merged manifest (includes and devenv.local.toml resolved here, so the
 * flake stays plain). The recorded source digest covers every merged file.
 */
export async function syncFlake(root: string, opts: {force?: boolean} = {}): Promise<SyncResult> {
  const files = manifestFiles(realPath(root));
  if (!files.length) return 'no-manifest';
  const flakeFile = join(root, 'flake.nix');
  const current = readFileOrNull(flakeFile);
  const digest = manifestDigest(manifestFingerprint(files));
  if (!opts.force && current !== null && flakeSource(current) === digest && flakeOwnership(current) === 'generated') return 'unchanged';
  const {loadManifest} = await import('../manifest/load.js');
  const manifest = loadManifest(realPath(root))!.manifest;
  const next = renderFlake(manifest, digest);
  if (current === next) return 'unchanged';
  if (current !== null && !opts.force && flakeOwnership(current) !== 'generated') return 'user-owned';
  writeFileAtomic(flakeFile, next, 0o644);
  return 'written';
}

export interface FlakeDrift {
  message: string;
  hint: string;
}

/**
 * devenv.toml changed after flake.nix was edited by hand: the flake (what nix evaluates) no
 * longer follows it, so the changes silently do not apply. Cheap: two reads and two hashes.
 */
export function flakeDrift(root: string): FlakeDrift | undefined {
  const files = manifestFilesLenient(realPath(root));
  const toml = files.length ? manifestFingerprint(files) : null;
  const flake = toml === null ? null : readFileOrNull(join(root, 'flake.nix'));
  if (toml === null || flake === null) return undefined;
  // The cheap test first: a flake rendered from this very devenv.toml cannot drift.
  const source = flakeSource(flake);
  if (!source || source === manifestDigest(toml) || withoutProjectTable(toml).some((t) => source === manifestDigest(t)) || flakeOwnership(flake) !== 'edited') return undefined;
  return {
    message: 'devenv.toml changed after flake.nix was edited by hand, so those changes are not applied (nix evaluates flake.nix)',
    hint: "run 'devenv generate --force' to regenerate flake.nix from devenv.toml (your edits to flake.nix are lost), or make the change in flake.nix yourself",
  };
}

const warned = new Set<string>();

/** Say the drift once per process (several layers of one command may ask). */
export function warnFlakeDrift(root: string, write: (s: string) => void = (s) => process.stderr.write(s)): FlakeDrift | undefined {
  const d = flakeDrift(root);
  if (d && !warned.has(root)) {
    warned.add(root);
    write(`devenv: ${d.message}\n  hint: ${d.hint}\n`);
  }
  return d;
}
