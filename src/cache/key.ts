// The cache key: content, never mtimes or the project's path, so a worktree or fresh
// clone of an evaluated project hits at once. Built-ins only (warm path).
import {createHash} from 'node:crypto';
import {existsSync} from 'node:fs';
import {contentDigest, digestOf, fileDigests, inputFiles} from '../project/find.js';
import {currentSystem, nixpkgsOverride, nixVersionSync} from '../nix/nix.js';

export const CACHE_FORMAT = 3;

/** For a local override (path:/dir or /dir), its .nix content counts too. */
export function overrideDigest(ref: string | undefined): string {
  if (!ref) return '';
  const m = /^(?:path:)?(\/[^?#]*)/.exec(ref);
  if (!m || !existsSync(m[1])) return '';
  return contentDigest(m[1], inputFiles(m[1]));
}

export interface InputDigest {
  /** Content digest of the inputs: what trust is bound to, and part of the key. */
  digest: string;
  files: string[];
  /** Per input file (relative name) sha256, to say later which one changed. */
  perFile: Record<string, string>;
}

export interface KeyParts extends InputDigest {
  key: string;
}

/** The project's inputs, read once. Runs no nix, so it may run before any trust check. */
export function inputDigest(root: string): InputDigest {
  const files = inputFiles(root);
  const perFile = fileDigests(root, files);
  return {digest: digestOf(perFile), files, perFile};
}

/** The cache key for these inputs (may run `nix --version` once per nix binary). */
export function keyFor(inputs: InputDigest): KeyParts {
  const override = nixpkgsOverride();
  const key = createHash('sha256')
    .update(JSON.stringify([CACHE_FORMAT, inputs.digest, override ?? '', overrideDigest(override), nixVersionSync() ?? 'no-nix', currentSystem()]))
    .digest('hex')
    .slice(0, 40);
  return {...inputs, key};
}

export function computeKey(root: string): KeyParts {
  return keyFor(inputDigest(root));
}
