// Keep flake.nix in step with devenv.toml, without ever overwriting a flake the user edited.
import {join} from 'node:path';
import {flakeOwnership, renderFlake} from '../flake/render.js';
import {readManifest} from '../manifest/parse.js';
import type {Manifest} from '../manifest/model.js';
import {exists, readFileOrNull, writeFileAtomic} from '../util/fs.js';

export type SyncResult = 'no-manifest' | 'unchanged' | 'written' | 'user-owned';

export function syncFlake(root: string, opts: {force?: boolean; manifest?: Manifest} = {}): SyncResult {
  const tomlFile = join(root, 'devenv.toml');
  if (!exists(tomlFile)) return 'no-manifest';
  const manifest = opts.manifest ?? readManifest(tomlFile);
  const flakeFile = join(root, 'flake.nix');
  const current = readFileOrNull(flakeFile);
  const next = renderFlake(manifest);
  if (current === next) return 'unchanged';
  if (current !== null && !opts.force && flakeOwnership(current) !== 'generated') return 'user-owned';
  writeFileAtomic(flakeFile, next, 0o644);
  return 'written';
}
