// What nix reads of a project, and its digest: the set trust is bound to and the cache is keyed
// on. For a git flake that is every tracked and intent-to-add file of the repository (nix copies
// exactly those); for a path flake every file under the root, except `.devenv` dirs, which
// devenv filters out by evaluating a private copy (stageSource). No depth or count cut-off.
// Files are hashed only when their stat changed since the last look (a memo in the state dir),
// so an unchanged 10,000-file tree costs stats, not reads. Built-ins only (hot path).
import {spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, type Stats, symlinkSync} from 'node:fs';
import {dirname, join, relative} from 'node:path';
import {DevenvError} from '../errors.js';
import {cacheDir, configDir, dataDir, stateDir} from '../paths.js';
import {readJson, realPath, writeFileAtomic} from '../util/fs.js';
import {dotenvNames} from './dotenv.js';
import {CORE_FILES} from './find.js';
import {type Project, stagingDir} from './project.js';

export interface InputDigest {
  /** One sha256 over every input's name and digest: what trust is bound to, and part of the key. */
  digest: string;
  /** Input names (files, symlinks; for a path flake also dirs), relative to the flake source's top (the git work tree, or the root). */
  files: string[];
  /** Per input: sha256 of the content ('x' prefix when executable), 'l:<target>', 'd', 'absent', 'submodule'. */
  perFile: Record<string, string>;
}

/** Runtime state devenv keeps in a project; never part of what nix reads. */
export const STATE_DIR_NAME = '.devenv';

/** What language setup makes in the project (the venv, node_modules): never read by nix. */
export const SETUP_DIRS = ['.venv', 'node_modules'];

/** Where input names are relative to. */
export const sourceTop = (p: Project): string => p.git?.top ?? p.real;

function gitFiles(top: string): {name: string; submodule: boolean}[] {
  const env = {...process.env};
  for (const k of Object.keys(env)) if (k.startsWith('GIT_')) delete env[k];
  // core.fsmonitor off: a repository's own config must not run a program here.
  const r = spawnSync('git', ['-c', 'core.fsmonitor=false', '-C', top, 'ls-files', '-z', '--cached', '--stage'], {encoding: 'utf8', env, maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe']});
  if (r.status !== 0) {
    throw new DevenvError(`cannot list the files of the git repository ${top}: ${(r.stderr || r.error?.message || '').trim()}`, {
      hint: 'nix reads a git flake through git too; fix what git says (e.g. git config --global --add safe.directory <dir>)',
      code: 'git_failed',
    });
  }
  const out: {name: string; submodule: boolean}[] = [];
  let last = '';
  for (const rec of r.stdout.split('\0')) {
    const tab = rec.indexOf('\t');
    if (tab < 0) continue;
    const name = rec.slice(tab + 1);
    if (name === last) continue; // unmerged entries list a path once per stage
    last = name;
    out.push({name, submodule: rec.startsWith('160000 ')});
  }
  return out;
}

/** Every file, dir and symlink under `root`, not following symlinks, without `.devenv` dirs. */
/**
 * When a project holds the user's cache and state homes (a project at $HOME) or devenv's own
 * data and config dirs: never inputs. Nix and devenv write there while evaluating, so the
 * project would never be still, and each private copy would hold the last.
 */
const ownDirs = (): Set<string> => new Set([dirname(cacheDir()), dirname(stateDir()), dataDir(), configDir()].map(realPath));

function treeEntries(root: string): string[] {
  const out: string[] = [];
  const own = ownDirs();
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
        if (e.name === STATE_DIR_NAME || (!rel && SETUP_DIRS.includes(e.name)) || own.has(join(dir, e.name))) continue;
        out.push(r);
        walk(join(dir, e.name), r);
      } else if (e.isFile() || e.isSymbolicLink()) out.push(r);
    }
  };
  walk(root, '');
  return out.sort();
}

/** The names of the project's inputs (not yet hashed). */
export function inputNames(p: Project): {names: string[]; submodules: Set<string>} {
  if (p.git) {
    const files = gitFiles(p.git.top);
    return {names: files.map((f) => f.name), submodules: new Set(files.filter((f) => f.submodule).map((f) => f.name))};
  }
  // Secrets stay out of the store: dotenv files (configured, or named like one) are no input.
  const dotenv = new Set(dotenvNames(p.real));
  const isDotenv = (n: string): boolean => dotenv.has(n) || /(^|\/)\.env(\.[^/]*)?$/.test(n);
  return {names: treeEntries(p.real).filter((n) => !isDotenv(n)), submodules: new Set()};
}

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

/** The project's inputs and their digest. Runs no nix, so it may run before any trust check. */
export function readInputs(p: Project): InputDigest {
  const {names, submodules} = inputNames(p);
  return digestInputs(sourceTop(p), join(p.stateDir, 'inputs.json'), names, submodules, () => undefined);
}

/** Every file under a directory (a local flake such as a nixpkgs override), memoized in `memoFile`. */
export function treeDigest(dir: string, memoFile: string): InputDigest {
  return digestInputs(dir, memoFile, treeEntries(dir), new Set(), () => undefined);
}

/**
 * Bring a non-git project's private copy (what nix evaluates as `path:.`) up to date and return
 * the digest of exactly what was copied: `.devenv` and anything else not in the input set
 * never reaches /nix/store, and the content nix reads is the content that was hashed.
 */
export function stageSource(p: Project): InputDigest {
  const dest = stagingDir(p);
  mkdirSync(dest, {recursive: true, mode: 0o700});
  const {names} = inputNames(p);
  const wanted = new Set(names);
  // Whatever an earlier copy holds that is no longer an input goes first (children before parents).
  for (const old of treeEntries(dest).reverse()) if (!wanted.has(old)) rmSync(join(dest, old), {recursive: true, force: true});
  const memoFile = join(p.stateDir, 'staged.json');
  const previous = readJson<Memo>(memoFile)?.sig ?? {};
  return digestInputs(p.real, memoFile, names, new Set(), (name, abs, st) => {
    const to = join(dest, name);
    const kept = previous[name];
    // Unchanged since it was copied (same stat as then): the copy is what was hashed.
    if (kept && kept[0] === statSig(st) && exists(to)) return kept[1];
    rmSync(to, {recursive: true, force: true});
    if (st.isDirectory()) {
      mkdirSync(to, {recursive: true, mode: 0o755});
      return 'd';
    }
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

/**
 * The inputs a shell watches (names relative to the root) to notice it should ask node again:
 * the project's .nix files beside the core files (and git's index, see watchedGitIndex). Trust
 * and the cache always use the whole input set; this is only the prompt's cheap staleness test,
 * so it is bounded.
 */
export function watchedInputs(p: Project, inputs: InputDigest, limit = 200): string[] {
  const top = sourceTop(p);
  const out: string[] = [];
  for (const name of inputs.files) {
    if (out.length >= limit) break;
    const rel = relative(p.real, join(top, name));
    if (!rel.startsWith('..') && !CORE_FILES.includes(rel) && name.endsWith('.nix')) out.push(rel);
  }
  return out;
}

/**
 * Cheap signs that git changed the tracked files under a shell: HEAD moves on a checkout,
 * ORIG_HEAD on a pull, merge, rebase or reset. (Not the index: every add or commit rewrites it,
 * which would reload the shell for nothing.)
 */
export const watchedGitFiles = (p: Project): string[] => (p.git ? [join(p.git.gitDir, 'HEAD'), join(p.git.gitDir, 'ORIG_HEAD')] : []);
