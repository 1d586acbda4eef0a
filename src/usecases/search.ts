// `devenv search` and the check behind `devenv add`: both ask the project's pinned nixpkgs
// (the DEVENV_NIXPKGS override, else the flake.lock's locked nixpkgs, else devenv.toml's url).
// Search results are cached per nixpkgs (locked ref, and an override's content).
import {createHash} from 'node:crypto';
import {join} from 'node:path';
import {overrideDigest} from '../cache/key.js';
import {DevenvError, UsageError} from '../errors.js';
import {checkAttr, closeNames, type SearchHit, searchPackages} from '../evaluation/nixpkgs.js';
import {DEFAULT_NIXPKGS_URL} from '../manifest/model.js';
import {nixpkgsOverride} from '../nix/nix.js';
import {cacheDir} from '../paths.js';
import {openProject} from '../project/project.js';
import {readFileOrNull, readJson, writeFileAtomic} from '../util/fs.js';

export const ATTR_RE = /^[A-Za-z_][A-Za-z0-9_'-]*(\.[A-Za-z_][A-Za-z0-9_'-]*)*$/;

interface LockNode {
  locked?: Record<string, string | number>;
  inputs?: Record<string, string | string[]>;
}

/** The flake ref of the project's nixpkgs, as pinned. */
export function projectNixpkgs(root: string): string {
  const o = nixpkgsOverride();
  if (o) return o;
  const lock = readJson<{root?: string; nodes?: Record<string, LockNode>}>(join(root, 'flake.lock'));
  const rootNode = lock?.nodes?.[lock.root ?? 'root'];
  const name = rootNode?.inputs?.nixpkgs;
  const l = typeof name === 'string' ? lock?.nodes?.[name]?.locked : undefined;
  if (l?.type === 'github' && l.owner && l.repo && l.rev) return `github:${l.owner}/${l.repo}/${l.rev}`;
  if (l?.type === 'path' && l.path) return `path:${l.path}${l.narHash ? `?narHash=${l.narHash}` : ''}`;
  if (l?.type === 'git' && l.url && l.rev) return `git+${l.url}?rev=${l.rev}`;
  const toml = readFileOrNull(join(root, 'devenv.toml')) ?? '';
  return /^\s*url\s*=\s*"([^"]+)"/m.exec(toml.slice(toml.indexOf('[nixpkgs]')))?.[1] ?? DEFAULT_NIXPKGS_URL;
}

/** The names must be attribute paths, and each must exist in the pinned nixpkgs. Nothing is written otherwise. */
export async function checkPackageNames(root: string, names: string[]): Promise<void> {
  for (const n of names) {
    if (!ATTR_RE.test(n)) throw new UsageError(`'${n}' is not a nixpkgs attribute name`, "names are letters, digits, _ ' - and dots, e.g. jq or python311Packages.numpy; nothing was written");
  }
  const ref = projectNixpkgs(root);
  for (const n of names) {
    const res = await checkAttr(ref, n.split('.'));
    if (res.exists) continue;
    const near = closeNames(n.split('.')[res.parent.length], res.siblings).map((s) => [...res.parent, s].join('.'));
    throw new DevenvError(`'${n}' is not a package in this project's nixpkgs (${ref})`, {
      hint: `${near.length ? `did you mean ${near.join(', ')}? ` : ''}try 'devenv search ${n.split('.').pop()}'; nothing was written`,
      code: 'unknown_package',
    });
  }
}

export async function searchProject(cwd: string, terms: string[]): Promise<{nixpkgs: string; results: SearchHit[]; cached: boolean}> {
  if (!terms.length || terms.some((t) => !t.trim())) throw new UsageError('nothing to search for', 'usage: devenv search <term...>');
  // nix search reads each term as a regular expression (ECMAScript, as JavaScript's); a bad one
  // is the user's to fix, not a nix failure.
  for (const t of terms) {
    try {
      new RegExp(t, 'i');
    } catch (e) {
      const why = (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '');
      throw new UsageError(`'${t}' is not a regular expression (${why}); search terms are regular expressions`, `e.g. 'python.*numpy'; escape a character meant literally ('\\${t.replace(/[^*+?()[\]{}|\\^$.]/g, '').slice(0, 1) || '*'}')`);
    }
  }
  const {root} = openProject(cwd);
  const ref = projectNixpkgs(root);
  const id = createHash('sha256').update(JSON.stringify([ref, overrideDigest(nixpkgsOverride()), terms])).digest('hex').slice(0, 32);
  const file = join(cacheDir(), 'search', `${id}.json`);
  // A mutable ref (an unlocked url) is not cached: its content can change under the same name.
  const pinned = !!nixpkgsOverride() || /\/[0-9a-f]{40}$|[?&](rev|narHash)=/.test(ref);
  const hit = pinned ? readJson<SearchHit[]>(file) : undefined;
  if (hit) return {nixpkgs: ref, results: hit, cached: true};
  const results = await searchPackages(ref, terms);
  if (pinned) writeFileAtomic(file, JSON.stringify(results));
  return {nixpkgs: ref, results, cached: false};
}
