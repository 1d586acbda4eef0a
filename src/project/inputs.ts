// What nix reads of a project: its inputs, the one set trust is bound to, the cache is keyed
// on and the prompt watches. For git and non-git projects alike nix evaluates a private copy
// holding only the inputs (stageSource), never the work tree, so a commit, a pull, an install
// or an edit of anything else changes nothing nix can see.
//
// THE RULE (README "What nix sees" says the same): the inputs are devenv.toml, flake.nix,
// flake.lock (tracked or not), every *.nix file under the project (in a git repository the ones
// git tracks, as nix itself reads a git flake: listing untracked files walks the whole tree;
// outside git, every one), and the globs of `[project] inputs` in devenv.toml (relative to the root;
// a pattern's fixed leading dirs are read even when git ignores them; "**" is the whole tree).
// Never: `.git`, `.devenv`, and dotenv files or anything that looks like one (.env*, *.env,
// editor backups and swap files of them, *.bak), even when a glob names them.
//
// Files are hashed only when their stat changed since the last look (a memo in the state dir),
// so an unchanged set costs stats, not reads. Built-ins only (hot path).
import {spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, type Stats, symlinkSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {DevenvError} from '../errors.js';
import {LOCAL_MANIFEST, manifestFilesLenient} from '../manifest/files.js';
import {cacheDir, configDir, dataDir, stateDir} from '../paths.js';
import {readJson, realPath, writeFileAtomic} from '../util/fs.js';
import {declaredInputs, dotenvNames} from './dotenv.js';
import {CORE_FILES} from './find.js';
import {type Project, stagingDir} from './project.js';

export interface InputDigest {
  /** One sha256 over every input's name and digest: what trust is bound to, and part of the key. */
  digest: string;
  /** Input names (files, symlinks), relative to the project root. */
  files: string[];
  /** Per input: sha256 of the content ('x' prefix when executable), 'l:<target>', 'absent'. */
  perFile: Record<string, string>;
}

/** Runtime state devenv keeps in a project; never part of what nix reads. */
export const STATE_DIR_NAME = '.devenv';

/** What language setup makes in the project (the venv, node_modules): never read by nix unless declared. */
export const SETUP_DIRS = ['.venv', 'node_modules'];

/** The inputs every project has, as globs. */
export const DEFAULT_INPUTS = [...CORE_FILES, '**/*.nix'];

/** Where input names are relative to: the project root (the copy nix reads is the root's). */
export const sourceTop = (p: Project): string => p.real;

const NEVER_DIRS = new Set(['.git', STATE_DIR_NAME]);

/**
 * A dotenv file, or anything that looks like one or like an editor's copy of one: `.env`,
 * `.env.local`, `prod.env`, `.env~`, `#.env#`, `.env.swp`, `x.env.bak`, any `*.bak`, and the
 * configured [dotenv] files with such decorations. Never an input, whatever a glob says.
 */
export function looksLikeDotenv(name: string, configured: string[] = []): boolean {
  const slash = name.lastIndexOf('/');
  const dir = name.slice(0, slash + 1);
  let base = name.slice(slash + 1);
  if (/\.bak$/i.test(base)) return true;
  const envish = (b: string): boolean => /^\.env/i.test(b) || /\.env$/i.test(b) || configured.includes(dir + b) || configured.includes(b);
  for (let prev = ''; prev !== base; ) {
    if (envish(base)) return true;
    prev = base;
    base = base.replace(/^#(.*)#$/, '$1').replace(/~$/, '').replace(/^\.(.+)\.sw[a-p]$/, '$1').replace(/\.(orig|old|save|swp|tmp|backup)$/i, '');
  }
  return false;
}

/** A glob (`*`, `**`, `?`, `[...]`) relative to the root as a regex; a pattern naming a directory covers what is under it. */
export function globRegex(glob: string): RegExp {
  const g = glob.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  let re = '';
  for (let i = 0; i < g.length; i++) {
    const c = g[i];
    if (c === '*') {
      if (g[i + 1] === '*') {
        i++;
        if (g[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[' && g.indexOf(']', i + 2) > i) {
      const end = g.indexOf(']', i + 2);
      const cls = g.slice(i + 1, end).replace(/\\/g, '\\\\');
      re += `[${cls[0] === '!' ? '^' + cls.slice(1) : cls}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}(?:/.*)?$`);
}

/** The leading dirs of a glob without wildcards ('' for "**" or "*.sh"). */
const fixedPrefix = (glob: string): string => {
  const parts = glob.replace(/^(\.\/)+/, '').replace(/\/+$/, '').split('/');
  const i = parts.findIndex((s) => /[*?[]/.test(s));
  return (i < 0 ? parts : parts.slice(0, i)).join('/');
};

/**
 * Files under `dir` matching the globs, relative to it: the ones git tracks, and when
 * `others`, also the untracked ones git does not ignore. Listing untracked files makes git
 * walk the whole tree (the pathspec filters what it prints, not where it looks), which is
 * what grows with the repository; tracked ones come from the index alone.
 */
function gitFiles(dir: string, globs: string[], others: boolean): string[] {
  if (!globs.length) return [];
  const env = {...process.env};
  for (const k of Object.keys(env)) if (k.startsWith('GIT_')) delete env[k];
  // core.fsmonitor off: a repository's own config must not run a program here.
  const specs = globs.map((g) => `:(glob)${g.replace(/^(\.\/)+/, '').replace(/\/+$/, '')}`);
  const r = spawnSync('git', ['-c', 'core.fsmonitor=false', '-C', dir, 'ls-files', '-z', '--cached', ...(others ? ['--others', '--exclude-standard'] : []), '--', ...specs], {encoding: 'utf8', env, maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe']});
  if (r.status !== 0) {
    throw new DevenvError(`cannot list the files of the git repository at ${dir}: ${(r.stderr || r.error?.message || '').trim()}`, {
      hint: 'devenv asks git which files it ignores; fix what git says (e.g. git config --global --add safe.directory <dir>)',
      code: 'git_failed',
    });
  }
  return r.stdout.split('\0').filter(Boolean);
}

/** Whether git tracks `name` (relative to the git project `dir`): for the message about an untracked .nix file. */
export function gitTracks(dir: string, name: string): boolean {
  return gitFiles(dir, [name.replace(/[*?[\]]/g, '\\$&')], false).length > 0;
}

/**
 * When a project holds the user's cache and state homes (a project at $HOME) or devenv's own
 * data and config dirs: never inputs. Nix and devenv write there while evaluating, so the
 * project would never be still, and each private copy would hold the last.
 */
const ownDirs = (): Set<string> => new Set([dirname(cacheDir()), dirname(stateDir()), dataDir(), configDir()].map(realPath));

/**
 * The one walk of a directory tree: names relative to `root`, starting at `rel` (a dir or a file
 * under it), never following symlinks, never into `.git`/`.devenv` or what `skip` names;
 * directories listed too when `dirs`.
 */
function walkTree(root: string, rel: string, opts: {dirs?: boolean; skip?: (name: string, rel: string, abs: string) => boolean} = {}): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    let entries;
    try {
      entries = readdirSync(dir, {withFileTypes: true});
    } catch {
      return;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (NEVER_DIRS.has(e.name) || opts.skip?.(e.name, rel, join(dir, e.name))) continue;
        if (opts.dirs) out.push(r);
        walk(join(dir, e.name), r);
      } else if (e.isFile() || e.isSymbolicLink()) out.push(r);
    }
  };
  if (!rel) {
    walk(root, '');
    return out;
  }
  if (rel.split('/').some((s) => NEVER_DIRS.has(s) || s === '..')) return out;
  let st: Stats;
  try {
    st = lstatSync(join(root, rel));
  } catch {
    return out;
  }
  if (st.isDirectory()) walk(join(root, rel), rel);
  else if (st.isFile() || st.isSymbolicLink()) out.push(rel);
  return out;
}

/** Files and symlinks under `dir`/`sub` (names relative to dir), not following symlinks, never in `.git`/`.devenv`, nor devenv's own dirs; `skipTop`: top-level dirs left out. */
export function treeFiles(dir: string, sub = '', skipTop: string[] = []): string[] {
  const own = ownDirs();
  return walkTree(dir, sub, {skip: (name, rel, abs) => (!rel && skipTop.includes(name)) || own.has(abs)});
}

/** The rule as a test on a name; what language setup makes (.venv, node_modules) counts only when declared. */
function matcher(p: Project): (rel: string) => boolean {
  const defaults = DEFAULT_INPUTS.map(globRegex);
  const declared = declaredInputs(p).map(globRegex);
  const dotenv = dotenvNames(p);
  return (rel) => {
    if (rel.split('/').some((s) => NEVER_DIRS.has(s)) || looksLikeDotenv(rel, dotenv)) return false;
    if (declared.some((r) => r.test(rel))) return true;
    return !SETUP_DIRS.includes(rel.split('/')[0]) && defaults.some((r) => r.test(rel));
  };
}

/** Whether a file (relative to the root) is an input by name: the rule above, without listing the tree. */
export const isInputName = (p: Project, rel: string): boolean => matcher(p)(rel);

/**
 * Listing the tree is what grows with the repository (git walks it for untracked files). Inside
 * oneListing (an evaluation, a hook miss, an exec) one listing per project serves every digest
 * (an evaluation takes several, the last to see whether the content changed meanwhile; a file
 * created meanwhile is seen by the next command). Outside, every digest lists afresh.
 */
const listings = new Map<string, string[]>();
let scopes = 0;
const listing = (p: Project): string[] => {
  let l = listings.get(p.real);
  if (!l) {
    // Git: the tracked *.nix files (as nix reads a git flake; the core files are added by
    // name), and what the declared globs match, tracked or not (declared: worth a walk).
    l = p.git ? [...gitFiles(p.real, DEFAULT_INPUTS, false), ...gitFiles(p.real, declaredInputs(p), true)] : treeFiles(p.real, '', SETUP_DIRS);
    if (scopes > 0) listings.set(p.real, l);
  }
  return l;
};

/** Run `fn` with one listing of each project's tree (see above). */
export async function oneListing<T>(fn: () => Promise<T>): Promise<T> {
  scopes++;
  try {
    return await fn();
  } finally {
    if (--scopes === 0) listings.clear();
  }
}

/** The names of the project's inputs (not yet hashed), sorted, relative to the root. */
export function inputNames(p: Project): {names: string[]; submodules: Set<string>} {
  const declared = declaredInputs(p);
  const isInput = matcher(p);
  // Candidates: what git does not ignore (git) or the whole tree (no git), and whatever lies
  // under a declared pattern's fixed dirs (a declared file git ignores is still one).
  const candidates = new Set(listing(p));
  for (const g of declared) {
    const pre = fixedPrefix(g);
    if (pre) for (const f of treeFiles(p.real, pre)) candidates.add(f);
  }
  for (const f of CORE_FILES) candidates.add(f);
  // A sub-project (a directory with its own devenv.toml) is its own project: its files are not
  // this one's inputs unless declared, or included (then only the manifest file it includes).
  // (Found by a stat per directory: the listing may hold only what the input globs match.)
  const isSub = new Map<string, boolean>();
  const subAt = (d: string): boolean => {
    let v = isSub.get(d);
    if (v === undefined) {
      try {
        v = lstatSync(join(p.real, d, 'devenv.toml')).isFile();
      } catch {
        v = false;
      }
      isSub.set(d, v);
    }
    return v;
  };
  const declaredRe = declared.map(globRegex);
  const inSub = (n: string): boolean => {
    for (let d = dirname(n); d !== '.'; d = dirname(d)) if (subAt(d)) return !declaredRe.some((r) => r.test(n));
    return false;
  };
  const names: string[] = [];
  for (const n of includedNames(p)) names.push(n);
  for (const n of candidates) {
    if (!isInput(n) || inSub(n) || names.includes(n)) continue;
    let st: Stats;
    try {
      st = lstatSync(join(p.real, n));
    } catch {
      continue; // deleted, but still in git's index; or a core file the project lacks
    }
    if (st.isFile() || st.isSymbolicLink()) names.push(n);
  }
  return {names: names.sort(), submodules: new Set()};
}

/** The files devenv.toml includes (names relative to the root; `../` for those outside it). */
function includedNames(p: Project): string[] {
  return manifestFilesLenient(p.real).map((f) => f.name).filter((n) => n !== 'devenv.toml' && n !== LOCAL_MANIFEST);
}

/** Inputs that are hashed (trust, cache key) but never copied for nix: the flake holds what they say. */
const hashedOnly = (name: string): boolean => name === LOCAL_MANIFEST || name.startsWith('../');

const statSig = (st: Stats): string => `${st.mode}:${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}:${st.dev}`;

interface Memo {
  sig: Record<string, [string, string]>;
}

/** One file's digest from its lstat and (for a regular file) its bytes. */
function entryDigest(abs: string, st: Stats, bytes?: Buffer): string {
  if (st.isSymbolicLink()) return `l:${readlinkSync(abs)}`;
  if (st.isDirectory()) return 'd';
  const sha = createHash('sha256').update(bytes ?? readFileSync(abs)).digest('hex');
  return st.mode & 0o111 ? `x${sha}` : sha;
}

/** One sha256 over per-file digests (names included, absent files count too). */
export function digestOf(perFile: Record<string, string>): string {
  const h = createHash('sha256');
  for (const [name, digest] of Object.entries(perFile)) h.update(`${name}\0${digest}\n`);
  return h.digest('hex');
}

/** Files changed within this window of the memo's writing may change again unseen in the same clock tick. */
const RACY_MS = 2000;

/**
 * Digest each input, reading only files whose stat changed since the memo. `read` may produce
 * the digest itself (staging hashes exactly the bytes it copies).
 */
function digestInputs(top: string, memoFile: string, names: string[], submodules: Set<string>, read: (name: string, abs: string, st: Stats) => string | undefined): InputDigest {
  const memo = readJson<Memo>(memoFile)?.sig ?? {};
  const next: Record<string, [string, string]> = {};
  const perFile: Record<string, string> = {};
  const now = Date.now();
  let changed = false;
  for (const name of names) {
    if (submodules.has(name)) {
      perFile[name] = 'submodule'; // nix copies a submodule as an empty dir unless asked for it
      continue;
    }
    const abs = join(top, name);
    let st: Stats;
    try {
      st = lstatSync(abs);
    } catch {
      perFile[name] = 'absent';
      continue;
    }
    const sig = statSig(st);
    const old = memo[name];
    let digest = old && old[0] === sig ? read(name, abs, st) ?? old[1] : undefined;
    if (digest === undefined) {
      try {
        digest = read(name, abs, st) ?? entryDigest(abs, st);
      } catch (e) {
        digest = `unreadable:${(e as NodeJS.ErrnoException).code ?? 'error'}`;
      }
      changed = true;
    }
    // Directories are copied, but count only through their files (as in git, which has none).
    if (digest !== 'd') perFile[name] = digest;
    if (now - Math.max(st.mtimeMs, st.ctimeMs) > RACY_MS) next[name] = [sig, digest];
    else changed = true;
  }
  if (changed || Object.keys(memo).length !== Object.keys(next).length) {
    try {
      writeFileAtomic(memoFile, JSON.stringify({sig: next}));
    } catch {}
  }
  return {digest: digestOf(perFile), files: names, perFile};
}

/** The project's inputs and their digest, read afresh (and memoised: memo.ts's inputsOf). Runs no nix, so it may run before any trust check. */
export function readInputs(p: Project): InputDigest {
  const {names, submodules} = inputNames(p);
  return (p.memo.inputs = digestInputs(sourceTop(p), join(p.stateDir, 'inputs.json'), names, submodules, () => undefined));
}

/**
 * The inputs, read once per handle. Whoever changes the project's files or may outlive a change
 * reads afresh with readInputs (evaluate's re-check, allow after devenv's own write) or opens
 * a new handle (each mcp call, each watch event).
 */
export const inputsOf = (p: Project): InputDigest => (p.memo.inputs as InputDigest | undefined) ?? readInputs(p);

/** Every file, dir and symlink under `root`, not following symlinks, without `.git`/`.devenv` dirs. */
const treeEntries = (root: string): string[] => walkTree(root, '', {dirs: true}).sort();

/** Every file under a directory (a local flake such as a nixpkgs override), memoized in `memoFile`. */
export function treeDigest(dir: string, memoFile: string): InputDigest {
  return digestInputs(dir, memoFile, treeEntries(dir), new Set(), () => undefined);
}

/**
 * Bring the project's private copy (what nix evaluates as `path:.`) up to date and return the
 * digest of exactly what was copied: only the inputs reach /nix/store, and the content nix
 * reads is the content that was hashed. The copy is private (0700), in devenv's cache dir.
 */
export function stageSource(p: Project): InputDigest {
  const dest = stagingDir(p);
  mkdirSync(dest, {recursive: true, mode: 0o700});
  const {names} = inputNames(p);
  const wanted = new Set(names.filter((n) => !hashedOnly(n)));
  for (const n of names) for (let d = dirname(n); d !== '.' && !wanted.has(d); d = dirname(d)) wanted.add(d);
  // Whatever an earlier copy holds that is no longer an input goes first (children before parents).
  for (const old of treeEntries(dest).reverse()) if (!wanted.has(old)) rmSync(join(dest, old), {recursive: true, force: true});
  const memoFile = join(p.stateDir, 'staged.json');
  const previous = readJson<Memo>(memoFile)?.sig ?? {};
  return digestInputs(p.real, memoFile, names, new Set(), (name, abs, st) => {
    if (hashedOnly(name)) return undefined;
    const to = join(dest, name);
    const kept = previous[name];
    // Unchanged since it was copied (same stat as then): the copy is what was hashed.
    if (kept && kept[0] === statSig(st) && exists(to)) return kept[1];
    rmSync(to, {recursive: true, force: true});
    if (st.isDirectory()) return 'd';
    mkdirSync(dirname(to), {recursive: true});
    if (st.isSymbolicLink()) {
      const target = readlinkSync(abs);
      symlinkSync(target, to);
      return `l:${target}`;
    }
    const bytes = readFileSync(abs);
    writeFileAtomic(to, bytes, st.mode & 0o111 ? 0o755 : 0o644);
    chmodSync(to, st.mode & 0o111 ? 0o755 : 0o644);
    return entryDigest(abs, st, bytes);
  });
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** How many inputs the prompt watches at most; beyond it, trust changes and reload check the rest by content. */
export const WATCH_LIMIT = 500;

/**
 * The inputs a shell watches (names relative to the root, beside the core files) to notice it
 * should ask node again: every input, up to WATCH_LIMIT (the rest are counted in `unwatched`,
 * and said on loading; an allow re-checks every input by content at the next prompt).
 */
export function watchedInputs(inputs: InputDigest, limit = WATCH_LIMIT): {watched: string[]; unwatched: number} {
  const names = inputs.files.filter((n) => !CORE_FILES.includes(n));
  return {watched: names.slice(0, limit), unwatched: Math.max(0, names.length - limit)};
}
