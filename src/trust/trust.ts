// Trust: nothing automatic runs for a project the user has not allowed.
// An allow record binds the absolute path to the content digest of the project's inputs,
// so an edit, a pull or a copy elsewhere is blocked until `devenv allow`.
import {createHash} from 'node:crypto';
import {readdirSync, readFileSync, rmSync, statSync} from 'node:fs';
import {dirname, isAbsolute, join, resolve, sep} from 'node:path';
import {dataDir} from '../paths.js';
import {readFileOrNull, readJson, realPath, writeFileAtomic} from '../util/fs.js';
import {contentDigest} from '../project/find.js';
import {readUserConfig, writeUserConfigPrefixes} from './config.js';

export type TrustState = 'allowed' | 'prefix' | 'worktree' | 'denied' | 'changed' | 'unknown';

export interface AllowRecord {
  root: string;
  digest: string;
  allowedAt: string;
  gitCommonDir?: string;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const allowDir = (): string => join(dataDir(), 'trust', 'allow');
const denyDir = (): string => join(dataDir(), 'trust', 'deny');
const allowFile = (root: string, digest: string): string => join(allowDir(), sha(`${root}\n${digest}`));
const denyFile = (root: string): string => join(denyDir(), sha(root));

/** The shared .git dir of a checkout (same for all worktrees of one repository), or undefined. */
export function gitCommonDir(root: string): string | undefined {
  const dotgit = join(root, '.git');
  try {
    if (statSync(dotgit).isDirectory()) return dotgit;
    const m = /^gitdir:\s*(.+)\s*$/m.exec(readFileSync(dotgit, 'utf8'));
    if (!m) return undefined;
    const gitdir = resolve(root, m[1]);
    const common = readFileOrNull(join(gitdir, 'commondir'));
    return common ? resolve(gitdir, common.trim()) : gitdir;
  } catch {
    return undefined;
  }
}

function readRecords(): AllowRecord[] {
  let names: string[];
  try {
    names = readdirSync(allowDir());
  } catch {
    return [];
  }
  return names.map((n) => readJson<AllowRecord>(join(allowDir(), n))).filter((r): r is AllowRecord => r !== undefined);
}

function underPrefix(root: string, prefix: string): boolean {
  const p = resolve(prefix);
  return root === p || root.startsWith(p.endsWith(sep) ? p : p + sep);
}

export interface TrustCheck {
  state: TrustState;
  trusted: boolean;
  digest: string;
}

export function checkTrust(root: string, digest = contentDigest(root)): TrustCheck {
  const res = (state: TrustState): TrustCheck => ({state, trusted: state === 'allowed' || state === 'prefix' || state === 'worktree', digest});
  if (readFileOrNull(denyFile(root)) !== null) return res('denied');
  if (readFileOrNull(allowFile(root, digest)) !== null) return res('allowed');
  // Entered through a symlink: the same directory, allowed under its real path.
  const real = realPath(root);
  if (real !== root && readFileOrNull(denyFile(real)) === null && readFileOrNull(allowFile(real, digest)) !== null) return res('allowed');
  const prefixes = readUserConfig().trust?.prefixes ?? [];
  if (prefixes.some((p) => isAbsolute(p) && underPrefix(root, p))) return res('prefix');
  const records = readRecords();
  const common = gitCommonDir(root);
  // A record made before the checkout became a git repository has no gitCommonDir: look it up now.
  if (common && records.some((r) => r.digest === digest && (r.gitCommonDir ?? gitCommonDir(r.root)) === common)) return res('worktree');
  return res(records.some((r) => r.root === root) ? 'changed' : 'unknown');
}

/** Allowing through a symlinked path allows the real directory too (the same files). */
export function allow(root: string, digest = contentDigest(root)): AllowRecord {
  const at = new Date().toISOString();
  let rec: AllowRecord | undefined;
  for (const r of new Set([root, realPath(root)])) {
    rmSync(denyFile(r), {force: true});
    const one: AllowRecord = {root: r, digest, allowedAt: at, gitCommonDir: gitCommonDir(r)};
    writeFileAtomic(allowFile(r, digest), JSON.stringify(one) + '\n');
    rec ??= one;
  }
  return rec!;
}

/** Remove every allow record of the root and remember the denial. */
export function deny(root: string): number {
  const roots = new Set([root, realPath(root)]);
  let removed = 0;
  for (const r of readRecords()) {
    if (roots.has(r.root)) {
      rmSync(allowFile(r.root, r.digest), {force: true});
      removed++;
    }
  }
  for (const r of roots) writeFileAtomic(denyFile(r), JSON.stringify({root: r, deniedAt: new Date().toISOString()}) + '\n');
  return removed;
}

/** Projects with at least one allow record, newest record per root. */
export function allowedProjects(): AllowRecord[] {
  const byRoot = new Map<string, AllowRecord>();
  for (const r of readRecords()) {
    const prev = byRoot.get(r.root);
    if (!prev || prev.allowedAt < r.allowedAt) byRoot.set(r.root, r);
  }
  return [...byRoot.values()].sort((a, b) => a.root.localeCompare(b.root));
}

export function addPrefix(dir: string): string[] {
  const abs = resolve(dir);
  const prefixes = readUserConfig().trust?.prefixes ?? [];
  if (!prefixes.includes(abs)) prefixes.push(abs);
  writeUserConfigPrefixes(prefixes);
  return prefixes;
}

export function trustPrefixes(): string[] {
  return readUserConfig().trust?.prefixes ?? [];
}

/** Used by devenv's own writes (init, add, remove, update): keep trust if the project was trusted. */
export async function keepTrustAcross<T>(root: string, write: () => Promise<T> | T, opts: {alwaysAllow?: boolean} = {}): Promise<T> {
  const before = checkTrust(root);
  const result = await write();
  if (opts.alwaysAllow || before.state === 'allowed' || before.state === 'worktree') allow(root);
  return result;
}

export const _internal = {allowFile, denyFile, dirname};
