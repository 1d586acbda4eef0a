// `devenv watch`: keep every watched project's cache fresh, so the next cd, prompt or
// `devenv exec` runs no nix. Watches directories (not files) so atomic saves, deletes and
// re-creates are seen; debounces bursts (a checkout) into one evaluation; evaluates only
// trusted content, one project at a time.
import {type FSWatcher, watch} from 'chokidar';
import {dirname, join, sep} from 'node:path';
import {activationPath, renderActivations, tilde, trustEpochFile} from '../activation/render.js';
import {type CacheEntry, readEntry} from '../cache/entries.js';
import {inputDigest, keyFor} from '../cache/key.js';
import {readProjectState} from '../cache/project-state.js';
import {configDir, dataDir, stateDir} from '../paths.js';
import {userConfigFile} from '../trust/config.js';
import {checkTrustOf} from '../trust/trust.js';
import {type Project as DevProject, projectIfRoot, reopen} from '../project/project.js';
import {CORE_FILES} from '../project/find.js';
import {ensureDir} from '../util/fs.js';
import {summarizeNixError} from '../nix/nix-error.js';
import type {EnsureResult} from '../evaluation/evaluate.js';
import {Debouncer} from './debounce.js';
import {discoverProjects, isProject, relevantFile, skippedDir, watchDirs} from './projects.js';
import type {LastEvaluation} from './state.js';
import {statSync} from 'node:fs';

export interface WatcherOptions {
  /** Watch exactly these roots; otherwise every allowed project, and new ones as they are allowed. */
  roots?: string[];
  quietMs?: number;
  maxWaitMs?: number;
  log?: (line: string) => void;
  /** Re-evaluate and re-render one trusted project (the refresh use case; undefined: no longer trusted). */
  refresh: (p: DevProject) => Promise<EnsureResult | undefined>;
  /** Called with the project list and after each evaluation (the watch.json updater). */
  onState?: (s: {projects?: string[]; lastEvaluation?: LastEvaluation}) => void;
}

interface Project {
  root: string;
  /** Opened when watching started; re-opened for every check (a long-lived process reads afresh). */
  handle: DevProject;
  fsw: FSWatcher;
  dirs: Set<string>;
  debounce: Debouncer;
  /** Last thing logged about why the project is not evaluated, so it is said once. */
  said?: string;
}

const mtime = (p: string): number => {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return -1;
  }
};

export class Watcher {
  private readonly projects = new Map<string, Project>();
  private readonly queue = new Set<string>();
  private running: Promise<void> | undefined;
  private trustFsw: FSWatcher | undefined;
  private trustDebounce: Debouncer;
  private stopped = false;
  private readonly log: (line: string) => void;
  private readonly quietMs: number;
  private readonly maxWaitMs: number;

  constructor(private readonly opts: WatcherOptions) {
    this.log = opts.log ?? ((l) => process.stdout.write(l + '\n'));
    this.quietMs = opts.quietMs ?? 300;
    this.maxWaitMs = opts.maxWaitMs ?? Math.max(3000, this.quietMs * 10);
    this.trustDebounce = new Debouncer(() => this.rescan(), 100, 1000);
  }

  get roots(): string[] {
    return [...this.projects.keys()];
  }

  async start(): Promise<void> {
    const roots = this.opts.roots ?? discoverProjects();
    // Report "watching" only once the OS watches are in place: an edit right after is seen.
    await Promise.all(roots.map((r) => this.add(r)));
    await this.watchTrust();
    this.opts.onState?.({projects: this.roots});
    // Bring stale caches up to date once at start (serially; usually all are fresh).
    for (const p of this.projects.values()) p.debounce.trigger(true);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.trustDebounce.cancel();
    const closing: Promise<void>[] = [];
    for (const p of this.projects.values()) {
      p.debounce.cancel();
      closing.push(p.fsw.close());
    }
    if (this.trustFsw) closing.push(this.trustFsw.close());
    await Promise.all(closing);
  }

  private add(root: string): Promise<void> {
    if (this.projects.has(root) || this.stopped) return Promise.resolve();
    const handle = projectIfRoot(root);
    if (!handle) return Promise.resolve();
    const dirs = new Set(watchDirs(handle));
    const fsw = watch([...dirs], {
      ignoreInitial: true,
      depth: 0,
      atomic: true,
      ignored: (p) => skippedDir(handle, p),
    });
    const project: Project = {root, handle, fsw, dirs, debounce: new Debouncer(() => this.check(root), this.quietMs, this.maxWaitMs)};
    fsw.on('all', (event, path) => this.onEvent(project, event, path));
    fsw.on('error', (e) => this.log(`${stamp()} ${tilde(root)} watch error: ${(e as Error).message}`));
    this.projects.set(root, project);
    return new Promise((resolve) => fsw.once('ready', () => resolve()));
  }

  private onEvent(p: Project, event: string, path: string): void {
    if (event === 'addDir' || event === 'unlinkDir') {
      if (path === p.root || skippedDir(p.handle, path)) return;
      // A new directory may hold (or soon hold) .nix files: watch it too, and look once.
      if (event === 'addDir' && !p.dirs.has(path) && !isProject(path) && path.split(sep).length - p.root.split(sep).length <= 6) {
        p.dirs.add(path);
        p.fsw.add(path);
      }
      p.debounce.trigger();
      return;
    }
    if (relevantFile(reopen(p.handle), path)) p.debounce.trigger();
  }

  /** The trust records, the trust epoch (allow/deny/prefix touch it) and the user's config. */
  private async watchTrust(): Promise<void> {
    const allowDir = join(dataDir(), 'trust', 'allow');
    for (const d of [allowDir, stateDir(), configDir()]) ensureDir(d);
    const epoch = trustEpochFile();
    const config = userConfigFile();
    this.trustFsw = watch([allowDir, dirname(epoch), dirname(config)], {ignoreInitial: true, depth: 0, atomic: true});
    this.trustFsw.on('all', (_event, path) => {
      if (dirname(path) === allowDir || path === epoch || path === config) this.trustDebounce.trigger();
    });
    this.trustFsw.on('error', () => {});
    await new Promise<void>((resolve) => this.trustFsw!.once('ready', () => resolve()));
  }

  /** After a trust change: pick up newly allowed projects, and evaluate those that were waiting. */
  private rescan(): void {
    if (this.stopped) return;
    if (!this.opts.roots) {
      const before = this.projects.size;
      for (const r of discoverProjects()) {
        if (this.projects.has(r)) continue;
        void this.add(r);
        this.log(`${stamp()} ${tilde(r)} now watched`);
      }
      if (this.projects.size !== before) this.opts.onState?.({projects: this.roots});
    }
    for (const p of this.projects.values()) p.debounce.trigger(true);
  }

  /** Decide whether a project needs an evaluation now; cheap (hashes a few files, no nix). */
  private check(root: string): void {
    const p = this.projects.get(root);
    if (!p || this.stopped) return;
    const say = (why: string) => {
      if (p.said === why) return;
      p.said = why;
      this.log(`${stamp()} ${tilde(root)} ${why}`);
    };
    if (!isProject(root)) return say('has no devenv.toml or flake.nix now; waiting');
    const handle = reopen(p.handle);
    const inputs = inputDigest(handle);
    const trust = checkTrustOf(handle, inputs.digest);
    if (!trust.trusted) {
      if (trust.state === 'denied') return say('is denied; not evaluating');
      // Said once: further edits while waiting add nothing new.
      return say(`${trust.state === 'changed' ? 'changed since it was allowed' : 'is not allowed'}: waiting for 'devenv allow'`);
    }
    const {key} = keyFor(inputs);
    const hit = readEntry(key, false);
    if (hit.status === 'hit') {
      p.said = undefined;
      this.renderIfStale(handle, hit.entry, inputs.digest);
      return;
    }
    const st = readProjectState(handle);
    if (st.lastError && st.lastKey === key) return say('still fails to evaluate (unchanged since the last attempt)');
    p.said = undefined;
    this.queue.add(root);
    this.pump();
  }

  /** Cache fresh (exec or a shell evaluated it) but activation scripts older than the inputs: render. */
  private renderIfStale(p: DevProject, entry: CacheEntry, digest: string): void {
    const act = mtime(activationPath(p, 'bash'));
    if (act < 0) return; // never loaded in a shell: nothing to keep fresh
    const newest = Math.max(...CORE_FILES.map((f) => mtime(join(p.root, f))));
    if (newest <= act) return;
    void renderActivations(p, entry, {digest}).catch(() => {});
  }

  private pump(): void {
    if (this.running) return;
    this.running = (async () => {
      while (this.queue.size && !this.stopped) {
        const root = this.queue.values().next().value as string;
        this.queue.delete(root);
        await this.evaluate(root);
      }
    })().finally(() => {
      this.running = undefined;
    });
  }

  private async evaluate(root: string): Promise<void> {
    const start = Date.now();
    let outcome: 'evaluated' | 'failed';
    let detail = '';
    try {
      const w = this.projects.get(root);
      if (!w) return;
      const res = await this.opts.refresh(reopen(w.handle));
      if (!res) return; // trust changed meanwhile; the next check says so
      if (res.source === 'hit') return; // someone else (a shell, exec) evaluated it first
      outcome = res.source === 'evaluated' ? 'evaluated' : 'failed';
      if (res.source === 'fallback') detail = ` (keeping the last good environment): ${summarizeNixError(res.error?.message ?? '')}`;
    } catch (e) {
      outcome = 'failed';
      detail = `: ${summarizeNixError((e as Error).message ?? String(e))}`;
    }
    const durationMs = Date.now() - start;
    this.log(`${stamp()} ${tilde(root)} ${outcome} in ${(durationMs / 1000).toFixed(2)}s${detail}`);
    this.opts.onState?.({lastEvaluation: {root, at: new Date().toISOString(), durationMs, outcome}});
    // The evaluation may have read new local files (a new imported .nix): watch their dirs too.
    const p = this.projects.get(root);
    if (p && !this.stopped) {
      for (const d of watchDirs(reopen(p.handle))) {
        if (p.dirs.has(d)) continue;
        p.dirs.add(d);
        p.fsw.add(d);
      }
    }
  }
}

/** Local time with seconds: the log is read by people. */
export function stamp(d = new Date()): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
