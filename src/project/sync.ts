// Keep flake.nix in step with devenv.toml, without ever overwriting a flake the user edited.
// The generated flake records the digest of the devenv.toml it came from, so the common
// case (nothing changed) costs a hash, not a TOML parse and schema check.
import {createHash} from 'node:crypto';
import {join} from 'node:path';
import {flakeOwnership, flakeSource, renderFlake} from '../flake/render.js';
import type {Manifest} from '../manifest/model.js';
import {readFileOrNull, writeFileAtomic} from '../util/fs.js';

export type SyncResult = 'no-manifest' | 'unchanged' | 'written' | 'user-owned';

export const manifestDigest = (text: string): string => createHash('sha256').update(text).digest('hex');

export async function syncFlake(root: string, opts: {force?: boolean; manifest?: Manifest} = {}): Promise<SyncResult> {
  const tomlFile = join(root, 'devenv.toml');
  const tomlText = readFileOrNull(tomlFile);
  if (tomlText === null) return 'no-manifest';
  const flakeFile = join(root, 'flake.nix');
  const current = readFileOrNull(flakeFile);
  const digest = manifestDigest(tomlText);
  if (!opts.force && !opts.manifest && current !== null && flakeSource(current) === digest && flakeOwnership(current) === 'generated') return 'unchanged';
  const {parseManifest} = await import('../manifest/parse.js');
  const manifest = opts.manifest ?? parseManifest(tomlText, tomlFile);
  const next = renderFlake(manifest, digest);
  if (current === next) return 'unchanged';
  if (current !== null && !opts.force && flakeOwnership(current) !== 'generated') return 'user-owned';
  writeFileAtomic(flakeFile, next, 0o644);
  return 'written';
}
