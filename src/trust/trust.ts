// Trust: nothing automatic runs for a project the user has not allowed.
// An allow record binds the project's real path to the digest of everything nix reads of it
// (project/inputs.ts), so an edit, a pull or a copy elsewhere is blocked until `devenv allow`.
// Every spelling of a path (symlinks) is the same project: records, denials and prefixes all
// use the real path, so a symlink never widens trust.
import {createHash} from 'node:crypto';
import {readdirSync, rmSync, statSync} from 'node:fs';
import {dirname, isAbsolute, join, sep} from 'node:path';
import {dataDir} from '../paths.js';
import {type InputDigest, readInputs} from '../project/inputs.js';
import {gitCommonDir, projectAt} from '../project/project.js';
import {readFileOrNull, readJson, realPath, writeFileAtomic} from '../util/fs.js';
import {readUserConfig} from './config.js';

export {gitCommonDir};

export type TrustState = 'allowed' | 'prefix' | 'worktree' | 'denied' | 'changed' | 'unknown';

export interface AllowRecord {
  root: string;
  digest: string;
  allowedAt: string;
  gitCommonDir?: string;
  /** Per input digest at the time of the allow, to say which file changed since. */
  files?: Record<string, string>;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const allowDir = (): string => join(dataDir(), 'trust', 'allow');
const denyDir = (): string => join(dataDir(), 'trust', 'deny');
const allowFile = (real: string, digest: string): string => join(allowDir(), sha(`${real}\n${digest}`));
const denyFile = (real: string): string => join(denyDir(), sha(real));

function readRecords(): AllowRecord[] {
  let names: string[];
  try {
    names = readdirSync(allowDir());
  } catch {
    return [];
  }
  return names.map((n) => readJson<AllowRecord>(join(allowDir(), n))).filter((r): r is AllowRecord => r !== undefined);
}

function underPrefix(real: string, prefix: string): boolean {
  return real === prefix || real.startsWith(prefix.endsWith(sep) ? prefix : prefix + sep);
}

/**
 * Why a directory cannot be a trusted prefix, or undefined when it can: it must be a directory
 * the user owns that no one else can write to, and so must every directory above it (unless
 * sticky and root's, like /tmp above a dir of one's own): otherwise someone else can place a
 * project under it.
 */
export function prefixProblem(dir: string): string | undefined {
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  let st;
  try {
    st = statSync(dir);
  } catch {
    return `${dir} does not exist`;
  }
  if (!st.isDirectory()) return `${dir} is not a directory`;
  if (uid >= 0 && st.uid !== uid) return `${dir} belongs to another user`;
  if (st.mode & 0o022) return `${dir} can be written by other users (mode ${(st.mode & 0o777).toString(8)})`;
  for (let d = dirname(dir); ; d = dirname(d)) {
    try {
      const a = statSync(d);
      const sticky = (a.mode & 0o1000) !== 0 && a.uid === 0;
      if (a.mode & 0o022 && !sticky) return `${d}, above ${dir}, can be written by other users`;
      if (a.uid !== uid && a.uid !== 0) return `${d}, above ${dir}, belongs to another user`;
    } catch {}
    if (dirname(d) === d) return undefined;
  }
}

/** The trusted prefixes that still qualify (real paths): a prefix that became unsafe trusts nothing. */
export function activePrefixes(): string[] {
  return trustPrefixes()
    .filter((p) => isAbsolute(p))
    .map((p) => realPath(p))
    .filter((p) => !prefixProblem(p));
}

export interface TrustCheck {
  state: TrustState;
  trusted: boolean;
  digest: string;
}

const digestOf = (root: string): string => readInputs(projectAt(root)).digest;

export function checkTrust(root: string, digest = digestOf(root)): TrustCheck {
  const res = (state: TrustState): TrustCheck => ({state, trusted: state === 'allowed' || state === 'prefix' || state === 'worktree', digest});
  const real = realPath(root);
  if (readFileOrNull(denyFile(real)) !== null) return res('denied');
  if (readFileOrNull(allowFile(real, digest)) !== null) return res('allowed');
  if (activePrefixes().some((p) => underPrefix(real, p))) return res('prefix');
  const records = readRecords();
  const common = gitCommonDir(real);
  // A record made before the checkout became a git repository has no gitCommonDir: look it up now.
  if (common && records.some((r) => r.digest === digest && (r.gitCommonDir ?? gitCommonDir(r.root)) === common)) return res('worktree');
  return res(records.some((r) => r.root === real) ? 'changed' : 'unknown');
}

/** The inputs whose content differs from the newest allow of this project (for status). */
export function changedSinceAllow(root: string, inputs: InputDigest): string[] {
  const real = realPath(root);
  const last = readRecords()
    .filter((r) => r.root === real && r.files)
    .sort((a, b) => (a.allowedAt < b.allowedAt ? 1 : -1))[0];
  if (!last?.files) return [];
  const then = last.files;
  return [...new Set([...Object.keys(then), ...Object.keys(inputs.perFile)])].filter((f) => then[f] !== inputs.perFile[f]).sort();
}

/** Allow the project's current content, under its real path (every spelling of it). */
export function allow(root: string, inputs: InputDigest = readInputs(projectAt(root))): AllowRecord {
  const real = realPath(root);
  rmSync(denyFile(real), {force: true});
  const rec: AllowRecord = {root: real, digest: inputs.digest, allowedAt: new Date().toISOString(), gitCommonDir: gitCommonDir(real), files: inputs.perFile};
  writeFileAtomic(allowFile(real, inputs.digest), JSON.stringify(rec) + '\n');
  return rec;
}

/** Remove every allow record of the project and remember the denial (for every spelling of it). */
export function deny(root: string): number {
  const real = realPath(root);
  let removed = 0;
  for (const r of readRecords()) {
    if (r.root === real) {
      rmSync(allowFile(r.root, r.digest), {force: true});
      removed++;
    }
  }
  writeFileAtomic(denyFile(real), JSON.stringify({root: real, deniedAt: new Date().toISOString()}) + '\n');
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
