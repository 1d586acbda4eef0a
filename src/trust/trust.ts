// Trust: nothing automatic runs for a project the user has not allowed.
// An allow record binds the project's real path to the digest of its inputs, exactly what nix
// can read of it (project/inputs.ts), so an edit of an input or a copy elsewhere is blocked
// until `devenv allow`, and nothing else (a pull of code, an install) is.
// Every spelling of a path (symlinks) is the same project: records, denials and prefixes all
// use the real path, so a symlink never widens trust.
import {createHash} from 'node:crypto';
import {readdirSync, rmSync, statSync} from 'node:fs';
import {dirname, isAbsolute, join, sep} from 'node:path';
import {dataDir} from '../paths.js';
import {dotenvDigests} from '../project/dotenv.js';
import {type InputDigest, readInputs} from '../project/inputs.js';
import {gitCheckout, gitCommonDir, projectAt} from '../project/project.js';
import {readFileOrNull, readJson, realPath, writeFileAtomic} from '../util/fs.js';
import {readUserConfig} from './config.js';

export {gitCommonDir};

export type TrustState = 'allowed' | 'prefix' | 'worktree' | 'denied' | 'changed' | 'unknown';

export interface AllowRecord {
  root: string;
  digest: string;
  allowedAt: string;
  gitCommonDir?: string;
  /** INPUTS_RULE for records bound to the inputs; absent on older ones (bound to every file nix copied). */
  rule?: number;
}

/** Records of this rule are bound to the inputs; older ones to every tracked file (git) or every file. */
export const INPUTS_RULE = 2;

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const allowDir = (): string => join(dataDir(), 'trust', 'allow');
const denyDir = (): string => join(dataDir(), 'trust', 'deny');
const allowFile = (real: string, digest: string): string => join(allowDir(), sha(`${real}\n${digest}`));
const denyFile = (real: string): string => join(denyDir(), sha(real));
/** Per input digests at the time of an allow (kept apart: large, and read only by status). */
const filesFile = (real: string, digest: string): string => join(dataDir(), 'trust', 'files', sha(`${real}\n${digest}`));

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
    return `${dir} is not a directory (it does not exist)`;
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
  /** 'worktree': the checkout whose allow this one inherits. */
  from?: string;
  /** 'changed' against an allow made under the older rule: why one allow is needed now, in one line. */
  olderRule?: string;
}

const digestOf = (root: string): string => readInputs(projectAt(root)).digest;

/**
 * An older record's per-file digests in today's names (relative to the record's root): it
 * named files relative to the top of the git repository.
 */
function recordFiles(r: AllowRecord): Record<string, string> | undefined {
  const files = readJson<Record<string, string>>(filesFile(r.root, r.digest));
  if (!files || r.rule === INPUTS_RULE) return files;
  const top = gitCheckout(r.root)?.top;
  if (!top || top === r.root) return files;
  const prefix = r.root.slice(top.length + 1) + '/';
  const out: Record<string, string> = {};
  for (const [n, d] of Object.entries(files)) if (n.startsWith(prefix)) out[n.slice(prefix.length)] = d;
  // dotenv and setup files were recorded by their names relative to the root
  for (const [n, d] of Object.entries(files)) if (!(n in out) && !n.includes('/')) out[n] = d;
  return out;
}

/** Inputs (and dotenv files) whose content differs from an older-rule record's, or undefined when it kept no per-file record. */
function olderRuleDiff(root: string, r: AllowRecord, inputs: InputDigest): string[] | undefined {
  const then = recordFiles(r);
  if (!then) return undefined;
  const now = {...inputs.perFile, ...trustDigest(root, inputs.digest).dotenv};
  return Object.keys(now).filter((f) => then[f] !== now[f]).sort();
}

/**
 * A project allowed under the older rule stays allowed when none of its inputs changed since:
 * the allow is carried over to a record of this rule (silently, once). Otherwise one line says
 * why one `devenv allow` is needed.
 */
function migrate(root: string, real: string, common: string | undefined, records: AllowRecord[], res: (s: TrustState, extra?: Partial<TrustCheck>) => TrustCheck): TrustCheck | undefined {
  const older = records.filter((r) => r.rule !== INPUTS_RULE && (r.root === real || (common !== undefined && (r.gitCommonDir ?? gitCommonDir(r.root)) === common)));
  if (!older.length) return undefined;
  const inputs = readInputs(projectAt(root));
  let why: string | undefined;
  for (const r of older.sort((a, b) => (a.root === real ? -1 : b.root === real ? 1 : a.allowedAt < b.allowedAt ? 1 : -1))) {
    const diff = olderRuleDiff(root, r, inputs);
    if (diff && !diff.length) {
      if (r.root !== real) return res('worktree', {from: r.root});
      try {
        allow(root, inputs);
      } catch {}
      return res('allowed');
    }
    if (r.root === real && why === undefined) {
      why = diff
        ? `allowed under devenv's older rule (every file nix copied); of what nix reads now, ${diff.slice(0, 3).join(', ')}${diff.length > 3 ? ` and ${diff.length - 3} more` : ''} ${diff.length === 1 ? 'differs' : 'differ'} from then: run 'devenv allow' once`
        : "allowed under devenv's older rule, which kept no per-file record: run 'devenv allow' once";
    }
  }
  return why ? res('changed', {olderRule: why}) : undefined;
}

/**
 * What trust is bound to: the inputs' digest, and the content of the [dotenv] files (not
 * inputs of nix, so not in the input digest or the cache key). No dotenv: the input digest.
 */
function trustDigest(root: string, inputDigest: string): {digest: string; dotenv: Record<string, string>} {
  const dotenv = dotenvDigests(root);
  if (!Object.keys(dotenv).length) return {digest: inputDigest, dotenv};
  return {digest: sha(`${inputDigest}\0dotenv\0${JSON.stringify(dotenv)}`), dotenv};
}

export function checkTrust(root: string, inputDigest = digestOf(root)): TrustCheck {
  const {digest} = trustDigest(root, inputDigest);
  const res = (state: TrustState, extra: Partial<TrustCheck> = {}): TrustCheck => ({state, trusted: state === 'allowed' || state === 'prefix' || state === 'worktree', digest, ...extra});
  const real = realPath(root);
  if (readFileOrNull(denyFile(real)) !== null) return res('denied');
  if (readFileOrNull(allowFile(real, digest)) !== null) return res('allowed');
  if (activePrefixes().some((p) => underPrefix(real, p))) return res('prefix');
  const records = readRecords();
  const common = gitCommonDir(real);
  // A record made before the checkout became a git repository has no gitCommonDir: look it up now.
  const sibling = common ? records.find((r) => r.rule === INPUTS_RULE && r.digest === digest && (r.gitCommonDir ?? gitCommonDir(r.root)) === common) : undefined;
  if (sibling) return res('worktree', {from: sibling.root});
  const migrated = migrate(root, real, common, records, res);
  if (migrated) return migrated;
  // Changed: this project was allowed, or (a worktree) another checkout of the same repository was.
  const known = records.some((r) => r.root === real || (common !== undefined && (r.gitCommonDir ?? gitCommonDir(r.root)) === common));
  return res(known ? 'changed' : 'unknown');
}

/** The inputs whose content differs from the newest allow of this project (for status). */
export function changedSinceAllow(root: string, inputs: InputDigest): string[] {
  const real = realPath(root);
  const records = readRecords().sort((a, b) => (a.allowedAt < b.allowedAt ? 1 : -1));
  // A worktree never allowed itself: against the newest allow of a checkout of its repository.
  const common = gitCommonDir(real);
  const last = records.find((r) => r.root === real) ?? (common ? records.find((r) => (r.gitCommonDir ?? gitCommonDir(r.root)) === common) : undefined);
  const then = last && recordFiles(last);
  if (!then) return [];
  const now = {...inputs.perFile, ...trustDigest(root, inputs.digest).dotenv};
  // An older record holds every file nix copied then: only today's inputs count.
  const names = last.rule === INPUTS_RULE ? [...new Set([...Object.keys(then), ...Object.keys(now)])] : Object.keys(now);
  return names.filter((f) => then[f] !== now[f]).sort();
}

/** Allow the project's current content, under its real path (every spelling of it). */
export function allow(root: string, inputs: InputDigest = readInputs(projectAt(root))): AllowRecord {
  const real = realPath(root);
  rmSync(denyFile(real), {force: true});
  const {digest, dotenv} = trustDigest(root, inputs.digest);
  const rec: AllowRecord = {root: real, digest, allowedAt: new Date().toISOString(), gitCommonDir: gitCommonDir(real), rule: INPUTS_RULE};
  writeFileAtomic(filesFile(real, digest), JSON.stringify({...inputs.perFile, ...dotenv}));
  writeFileAtomic(allowFile(real, digest), JSON.stringify(rec) + '\n');
  return rec;
}

/** Remove every allow record of the project and remember the denial (`remember: false`: only forget it). */
export function deny(root: string, opts: {remember?: boolean} = {}): number {
  const real = realPath(root);
  let removed = 0;
  for (const r of readRecords()) {
    if (r.root === real) {
      rmSync(allowFile(r.root, r.digest), {force: true});
      rmSync(filesFile(r.root, r.digest), {force: true});
      removed++;
    }
  }
  if (opts.remember !== false) writeFileAtomic(denyFile(real), JSON.stringify({root: real, deniedAt: new Date().toISOString()}) + '\n');
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
