// The cache key: content, never mtimes or the project's path, so a worktree or fresh
// clone of an evaluated project hits at once. Built-ins only (warm path).
import {createHash} from 'node:crypto';
import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {currentSystem, nixpkgsOverride, nixVersionSync} from '../nix/nix.js';
import {cacheDir, projectId} from '../paths.js';
import {type InputDigest, readInputs, treeDigest} from '../project/inputs.js';
import {type Project, projectAt} from '../project/project.js';

export type {InputDigest} from '../project/inputs.js';

export const CACHE_FORMAT = 5;

/** For a local override (path:/dir or /dir), its content counts too. */
export function overrideDigest(ref: string | undefined): string {
  if (!ref) return '';
  const m = /^(?:path:)?(\/[^?#]*)/.exec(ref);
  if (!m || !existsSync(m[1])) return '';
  return treeDigest(m[1], join(cacheDir(), 'override-inputs', `${projectId(m[1])}.json`)).digest;
}

export interface KeyParts extends InputDigest {
  key: string;
}

/** The project's inputs, read once. Runs no nix, so it may run before any trust check. */
export const inputDigest = (root: string | Project): InputDigest => readInputs(typeof root === 'string' ? projectAt(root) : root);

/** The cache key for these inputs (may run `nix --version` once per nix binary). */
export function keyFor(inputs: InputDigest): KeyParts {
  const override = nixpkgsOverride();
  const key = createHash('sha256')
    .update(JSON.stringify([CACHE_FORMAT, inputs.digest, override ?? '', overrideDigest(override), nixVersionSync() ?? 'no-nix', currentSystem()]))
    .digest('hex')
    .slice(0, 40);
  return {...inputs, key};
}

export function computeKey(root: string | Project): KeyParts {
  return keyFor(inputDigest(root));
}
