// Tasks ([tasks.<name>]): a command run once, in the project's environment, before what needs
// it. With `sources`, a task whose matched files and own definition (exec, env, after) are
// unchanged since its last success is skipped (and says so).
import {spawn} from 'node:child_process';
import {createHash} from 'node:crypto';
import {closeSync, lstatSync, readdirSync, readFileSync, writeSync} from 'node:fs';
import {constants as osConstants} from 'node:os';
import {join, relative, sep} from 'node:path';
import {ensureDir, readJson, withLock, writeFileAtomic} from '../util/fs.js';
import {assertOwnState, openLogNoFollow} from './marker.js';

/** A glob (`*`, `**`, `?`, `{a,b}`) relative to the root, as a regular expression over '/'-paths. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end < 0) re += '\\{';
      else {
        re += '(?:' + glob.slice(i + 1, end).split(',').map((s) => s.replace(/[.+^${}()|[\]\\*?]/g, '\\$&')).join('|') + ')';
        i = end;
      }
    } else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const SKIP_DIRS = new Set(['.git', '.devenv', 'node_modules', '.direnv']);

/** Files under root (not following symlinks, skipping .git/.devenv/node_modules) matching any glob, sorted. */
export function matchSources(root: string, globs: string[]): string[] {
  const res = globs.map((g) => globToRegExp(g.replace(/^\.\//, '')));
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      const rel = relative(root, p).split(sep).join('/');
      if (st.isDirectory()) {
        if (!SKIP_DIRS.has(e)) walk(p);
      } else if ((st.isFile() || st.isSymbolicLink()) && res.some((r) => r.test(rel))) out.push(rel);
    }
  };
  walk(root);
  return out.sort();
}

/** Content digest of the matched files (names and bytes; a symlink by its target text). */
export function sourcesDigest(root: string, globs: string[]): {digest: string; files: number} {
  const h = createHash('sha256');
  const files = matchSources(root, globs);
  for (const f of files) {
    h.update(f).update('\0');
    try {
      h.update(readFileSync(join(root, f)));
    } catch {
      h.update('<unreadable>');
    }
    h.update('\0');
  }
  h.update(JSON.stringify(globs));
  return {digest: h.digest('hex'), files: files.length};
}

export interface TaskSpec {
  name: string;
  exec: string;
  after: string[];
  sources?: string[];
  logFile: string;
  /** Where the last success's sources digest is kept (user's state dir). */
  memoFile: string;
  env?: Record<string, string>;
}

export interface TaskResult {
  name: string;
  skipped: boolean;
  exitCode: number;
  ms: number;
  /** Why it was skipped, or nothing. */
  reason?: string;
}

/**
 * Run a task (unless its sources are unchanged), its output to `onLine` and its log file.
 * `args` are appended to the command line (devenv run <task> -- args).
 */
export async function runTask(root: string, t: TaskSpec, env: NodeJS.ProcessEnv, onLine: (line: string) => void, args: string[] = [], force = false, signal?: AbortSignal): Promise<TaskResult> {
  // Two `up` at once: the second waits, then finds the sources unchanged and skips.
  ensureDir(join(t.memoFile, '..'));
  return withLock(`${t.memoFile}.lock`, () => runTaskLocked(root, t, env, onLine, args, force, signal));
}

async function runTaskLocked(root: string, t: TaskSpec, env: NodeJS.ProcessEnv, onLine: (line: string) => void, args: string[], force: boolean, signal?: AbortSignal): Promise<TaskResult> {
  const t0 = Date.now();
  let digest: string | undefined;
  if (t.sources?.length) {
    const d = sourcesDigest(root, t.sources);
    // The task's own definition counts too: an edited exec, env or after is a different task.
    digest = createHash('sha256').update(JSON.stringify([d.digest, t.exec, Object.entries(t.env ?? {}).sort(), [...t.after].sort()])).digest('hex');
    const memo = readJson<{digest: string}>(t.memoFile);
    if (!force && !args.length && memo?.digest === digest) return {name: t.name, skipped: true, exitCode: 0, ms: Date.now() - t0, reason: `its sources (${d.files} file${d.files === 1 ? '' : 's'}) are unchanged since its last success`};
  }
  // A symlink planted on the way to the log (a committed .devenv) is refused, as for services.
  assertOwnState(root, {dataDirs: [], files: [t.logFile]});
  ensureDir(join(t.logFile, '..'));
  const fd = openLogNoFollow(t.logFile);
  const code = await new Promise<number>((resolve) => {
    // "$@" carries the extra arguments without a second round of shell parsing.
    const child = spawn('bash', ['-c', args.length ? `${t.exec} "$@"` : t.exec, t.name, ...args], {cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: false});
    let partial: Record<string, string> = {out: '', err: ''};
    const feed = (k: 'out' | 'err') => (chunk: Buffer) => {
      const text = partial[k] + chunk.toString('utf8');
      const lines = text.split('\n');
      partial[k] = lines.pop() ?? '';
      for (const l of lines) {
        onLine(l);
        try {
          writeSync(fd, l + '\n');
        } catch {}
      }
    };
    child.stdout!.on('data', feed('out'));
    child.stderr!.on('data', feed('err'));
    // Ctrl-C of a foreground up ends the task too (a terminal's Ctrl-C reaches it anyway).
    const onAbort = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', onAbort, {once: true});
    child.once('exit', () => signal?.removeEventListener('abort', onAbort));
    child.once('error', () => resolve(127));
    child.once('close', (c, sig) => {
      for (const k of ['out', 'err'] as const) if (partial[k]) onLine(partial[k]);
      partial = {out: '', err: ''};
      resolve(c ?? (sig ? 128 + (signalNumber(sig) ?? 0) : 1));
    });
  });
  closeSync(fd);
  if (code === 0 && digest) {
    ensureDir(join(t.memoFile, '..'));
    writeFileAtomic(t.memoFile, JSON.stringify({digest, at: new Date().toISOString()}) + '\n', 0o600);
  }
  return {name: t.name, skipped: false, exitCode: code, ms: Date.now() - t0};
}

const signalNumber = (sig: NodeJS.Signals): number | undefined => (osConstants.signals as Record<string, number>)[sig];
