// The service engine: a server that runs in its own process group, writes a pid file and
// answers on a private socket (PostgreSQL, Redis, MariaDB). This is the one skeleton of
// starting (lock, judge, tools, port, init, spawn, readiness, set-up), judging (status, ready)
// and stopping (the stop ladder, leftovers of its group) them; a service fills in the hooks.
// Liveness comes from the pid file in the marked data dir, kill(pid, 0) and the server's own
// protocol on its socket; /proc only refines.
import {mkdirSync, rmSync, statSync} from 'node:fs';
import {createConnection} from 'node:net';
import {delimiter, dirname, join} from 'node:path';
import {ServiceError} from '../errors.js';
import {projectStateDir} from '../paths.js';
import {ensureDir, readFileOrNull, withLock} from '../util/fs.js';
import {appendLog, assertOwnState, readMarker, writeMarker} from './marker.js';
import {portTakenError} from './ports.js';
import {realRoot} from './account.js';
import {interruption, isProgram, killGroup, groupAlive, pidAlive, portFree, procAvailable, type Rung, sleep, spawnDetached, StartInterrupted, stopLadder, tailLines, withStopLock} from './process.js';
import type {Service, ServiceStatus, StartOptions, StartResult, StopResult, ToolsEnv} from './service.js';

export interface DaemonLayout {
  port: number;
  dataDir: string;
  logFile: string;
  pidFile: string;
  socketDir: string;
  socket: string;
}

export interface DaemonOptions {
  root: string;
  layout: DaemonLayout;
  toolsEnv: () => Promise<ToolsEnv>;
  /** Where the port is set in devenv.toml, for messages ("services.redis"). */
  section: string;
  readyTimeoutMs?: number;
}

export type Tools = {env: NodeJS.ProcessEnv; bin: Record<string, string>};

/** What the files say about the server, from this project's point of view. */
export type Judgement =
  | {state: 'none'}
  | {state: 'ours'; pid: number; phase?: 'starting' | 'stopping' | 'ready'; port?: number}
  | {state: 'stale'; pid?: number; why: string}
  | {state: 'foreign'; pid: number; why: string};

/** First executable `name` in `dirs`. */
export function whichIn(dirs: string[], name: string): string | undefined {
  for (const dir of dirs) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      const st = statSync(p);
      if (st.isFile() && st.mode & 0o111) return p;
    } catch {}
  }
  return undefined;
}

/**
 * A conversation with a server (a Unix socket path, or a TCP address) by its own protocol:
 * `step` sees the bytes so far and may write; it returns true or false to end, undefined to wait
 * for more. False on timeout, hang-up or an endless answer.
 */
export function converse(target: string | {port: number; host: string}, onConnect: ((write: (b: Buffer | string) => void) => void) | undefined, step: (data: Buffer, write: (b: Buffer | string) => void) => boolean | undefined, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let done = false;
    const s = typeof target === 'string' ? createConnection(target) : createConnection(target);
    const write = (b: Buffer | string) => {
      if (!s.destroyed) s.write(b);
    };
    const finish = (v: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(t);
      s.destroy();
      resolve(v);
    };
    const t = setTimeout(() => finish(false), timeoutMs);
    s.once('connect', () => onConnect?.(write));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const v = step(buf, write);
      if (v !== undefined) finish(v);
      else if (buf.length > 1 << 20) finish(false);
    });
    s.once('error', () => finish(false));
    s.once('close', () => finish(false));
  });
}

/** Does something answer on a Unix socket, by the server's protocol? `ok` judges the bytes so far (see converse). */
export const socketProbe = (path: string, send: string | undefined, ok: (data: Buffer) => boolean | undefined, timeoutMs = 1000): Promise<boolean> =>
  converse(path, send ? (write) => write(send) : undefined, (data) => ok(data), timeoutMs);

export abstract class DaemonService implements Service {
  abstract readonly name: string;
  /** Program names of the server process (for /proc checks). */
  protected abstract readonly programs: string[];
  protected abstract readonly toolNames: string[];
  /** How messages name the server and its pid file. */
  protected label(): string {
    return this.name;
  }
  protected readonly pidFileLabel: string = 'pid file';
  protected readonly stateLabel: string = 'state dir';
  readonly logFile: string;
  protected readonly l: DaemonLayout;
  private tools?: Tools;
  /** A set-up failed in a way that must not survive: the data dir goes with the stopped server. */
  protected dropDataOnFailure = false;

  constructor(protected readonly o: DaemonOptions) {
    this.l = o.layout;
    this.logFile = o.layout.logFile;
  }

  /** Whether the server answers on its socket by its own protocol. */
  protected abstract ping(port?: number): Promise<boolean>;
  /** First start: create the data dir's content (the dir exists, marked, empty but for the marker). */
  protected abstract init(tools: Tools, onProgress?: (m: string) => void): Promise<string[]>;
  /** Program and arguments that run the server in the foreground; settings devenv ignored. */
  protected abstract command(tools: Tools): {cmd: string; args: string[]; ignored?: string[]};
  /** Whether init() has been done for the data dir. */
  protected abstract initialized(): boolean;
  /** Checks before anything is created (versions, a data dir's content); notes go to `steps`. */
  protected async prepare(_tools: Tools, _steps: string[]): Promise<void> {}
  /** After readiness: databases, users, a seed (`fresh`: init() ran in this start). Returns steps taken. */
  protected async afterReady(_tools: Tools, _opts: StartOptions, _fresh: boolean): Promise<string[]> {
    return [];
  }
  /** The stop ladder: `deleted`, its state is gone (nothing to save). */
  protected stopRungs(deleted: boolean): Rung[] {
    // With its state gone there is nothing to save (Redis even refuses to exit when its final save fails).
    return [
      {signal: 'SIGTERM', waitMs: deleted ? 3000 : 60_000},
      {signal: 'SIGKILL', waitMs: 5000, note: 'clean shutdown timed out; killed it (SIGKILL)'},
    ];
  }
  /** What the hint of the missing tools says to do. */
  protected async missingHint(): Promise<string> {
    return `add [${this.o.section}] to devenv.toml (devenv adds its package to flake.nix), then run 'devenv up' again`;
  }
  /** Once the tools are found (a version check). */
  protected async toolsFound(_tools: Tools): Promise<void> {}
  /** devenv never starts a server as root. */
  protected refuseRoot(): void {
    throw new ServiceError(`devenv does not run ${this.name} as root`, 'run devenv as your own, unprivileged user');
  }

  protected get lockFile(): string {
    return join(projectStateDir(this.o.root), 'services', `${this.name}.lock`);
  }

  protected readPid(): number | undefined {
    const t = readFileOrNull(this.l.pidFile)?.trim();
    const n = Number(t);
    return t && Number.isInteger(n) && n > 0 ? n : undefined;
  }

  /**
   * The pid of this project's server when it is running, judged without the project's tools.
   * The pid file lives in the private socket dir, not the data dir: a deleted state dir still
   * leaves devenv able to find and stop the server.
   */
  protected judge(): Judgement {
    const pid = this.readPid();
    if (pid === undefined) return {state: 'none'};
    if (!pidAlive(pid) || !isProgram(pid, this.programs)) return {state: 'stale', pid, why: `${this.l.pidFile} names pid ${pid}, which is no longer running`};
    return {state: 'ours', pid};
  }

  /** Whether the server started as `pid` is up: its pid file names it and it answers. */
  protected async isUp(pid: number): Promise<boolean> {
    return this.readPid() === pid && this.ping();
  }

  protected stateDeleted(): boolean {
    try {
      statSync(this.l.dataDir);
      return false;
    } catch {
      return true;
    }
  }

  /** After a crash: the dead server's pid file (and what else it left) goes. */
  protected async clearStale(_j: Judgement & {state: 'stale'}): Promise<void> {
    rmSync(this.l.pidFile, {force: true});
  }

  /** The socket of a dead server (a server refuses one whose lock names a live pid). */
  protected cleanSocket(): void {
    rmSync(this.l.socket, {force: true});
  }

  /** Processes of its group left after the ladder; killed. */
  protected async killLeftovers(pid: number): Promise<number> {
    return groupAlive(pid) ? killGroup(pid) : 0;
  }

  async status(): Promise<ServiceStatus> {
    const base = {name: this.name, kind: 'service' as const, port: this.l.port, dataDir: this.l.dataDir, logFile: this.l.logFile, socketDir: this.l.socketDir};
    const j = this.judge();
    if (j.state === 'none') return {...base, state: 'stopped'};
    if (j.state === 'stale') return {...base, state: 'crashed', detail: j.why};
    if (j.state === 'foreign') return {...base, state: 'foreign', pid: j.pid, detail: j.why};
    const port = j.port ?? this.l.port;
    if (this.stateDeleted()) return {...base, state: 'deleted', pid: j.pid, ready: false, detail: `its ${this.stateLabel} ${this.l.dataDir} was deleted while it runs; 'devenv down' stops it`};
    if (j.phase === 'starting' || j.phase === 'stopping') return {...base, state: j.phase, ready: false, pid: j.pid, port};
    // A pid file that says ready, checked against /proc, vouches (ps stays cheap); else the socket decides.
    const ready = (j.phase === 'ready' && procAvailable()) || (await this.ping(port));
    // Without /proc, a pid file that says ready but no answer on our socket: a reused pid, not our server.
    if (!ready && j.phase === 'ready') return {...base, state: 'crashed', pid: j.pid, detail: `${this.pidFileLabel} names pid ${j.pid}, which does not answer on the server's socket`};
    const detail = port !== this.l.port ? `running on port ${port}; devenv.toml now says ${this.l.port} ('devenv down && devenv up' to move it)` : undefined;
    // A live pid that does not answer on our socket for long is a reused pid, not our server.
    return {...base, state: ready || j.phase === 'ready' ? 'running' : 'starting', pid: j.pid, ready, port, ...(detail ? {detail} : {})};
  }

  async ready(): Promise<boolean> {
    const j = this.judge();
    return j.state === 'ours' && this.isUp(j.pid);
  }

  protected async resolveTools(): Promise<Tools> {
    if (this.tools) return this.tools;
    const {env, path} = await this.o.toolsEnv();
    const bin: Record<string, string> = {};
    const missing: string[] = [];
    for (const t of this.toolNames) {
      const p = whichIn(path, t);
      if (p) bin[t] = p;
      else missing.push(t);
    }
    if (missing.length) {
      const host = whichIn((process.env.PATH ?? '').split(delimiter), missing[0]);
      throw new ServiceError(`the project's environment has no ${this.label()} (${missing.join(', ')} not found in its Nix environment${host ? `; ${host} on your own PATH is not used` : ''})`, await this.missingHint());
    }
    const tools = {env, bin};
    await this.toolsFound(tools);
    this.tools = tools;
    return tools;
  }

  async start(opts: StartOptions = {}): Promise<StartResult> {
    if (typeof process.getuid === 'function' && process.getuid() === 0) this.refuseRoot();
    ensureDir(dirname(this.lockFile));
    return withLock(this.lockFile, () => this.startLocked(opts), () => opts.onProgress?.('waiting for another devenv up/down of this project'));
  }

  private async startLocked(opts: StartOptions): Promise<StartResult> {
    // Before anything reads or writes there: a committed or planted data dir, or a symlink on the way, is refused.
    assertOwnState(this.o.root, {dataDirs: [this.l.dataDir], files: [this.l.logFile]});
    const steps: string[] = [];
    const j = this.judge();
    if (j.state === 'ours') {
      if (this.stateDeleted()) throw new ServiceError(`${this.label()} (pid ${j.pid}) runs, but its ${this.stateLabel} ${this.l.dataDir} was deleted`, "run 'devenv down', then 'devenv up' (it starts with fresh, empty state)");
      if (j.phase === 'stopping') throw new ServiceError(`${this.label()} (pid ${j.pid}) is shutting down`, "wait for it ('devenv ps'), then run 'devenv up' again");
      await this.waitReady(j.pid, undefined, Date.now(), opts.signal);
      const port = j.port ?? this.l.port;
      if (port !== this.l.port) steps.push(`running on port ${port}, not ${this.l.port} from devenv.toml: 'devenv down && devenv up' moves it`);
      return {name: this.name, started: false, pid: j.pid, port, steps};
    }
    if (j.state === 'foreign') throw new ServiceError(j.why, `stop that server (kill -${this.stopRungs(false)[0].signal.slice(3)} ${j.pid}), then run 'devenv up' again`);
    if (j.state === 'stale') {
      await this.clearStale(j);
      steps.push(`removed a stale ${this.pidFileLabel} (${j.why})`);
    }
    const tools = await this.resolveTools();
    await this.prepare(tools, steps);
    await this.checkPort();
    ensureDir(dirname(this.l.logFile));
    this.ensureSocketDir();
    this.cleanSocket();
    const fresh = !this.initialized();
    if (fresh) {
      mkdirSync(this.l.dataDir, {recursive: true, mode: 0o700});
      if (!readMarker(this.l.dataDir)) writeMarker(this.l.dataDir, this.o.root, this.name);
      opts.onProgress?.(`initializing ${this.l.dataDir}`);
      steps.push(...(await this.init(tools, opts.onProgress)));
    }
    // A data dir devenv made for this checkout at another path (moved, renamed): ours now.
    const owner = readMarker(this.l.dataDir);
    if (owner && realRoot(owner.root) !== realRoot(this.o.root)) {
      steps.push(`adopted a data dir that devenv created for ${realRoot(owner.root)}`);
      writeMarker(this.l.dataDir, this.o.root, this.name, owner.createdAt);
    }
    const {cmd, args, ignored} = this.command(tools);
    if (ignored?.length) steps.push(`ignored ${ignored.join(', ')} in [${this.o.section}.settings] (devenv sets them)`);
    appendLog(this.l.logFile, `--- devenv: starting ${this.label()} on 127.0.0.1:${this.l.port} and ${this.l.socketDir} (${new Date().toISOString()})\n`);
    const t0 = Date.now();
    const child = await spawnDetached(cmd, args, {env: tools.env, cwd: this.l.dataDir, logFile: this.l.logFile});
    try {
      await this.waitReady(child.pid, child.exited, t0, opts.signal);
    } catch (e) {
      // What this start spawned does not outlive it; its pid file goes once nothing of it is left.
      await killGroup(child.pid);
      if (!groupAlive(child.pid)) rmSync(this.l.pidFile, {force: true});
      throw e;
    }
    const readyMs = Date.now() - t0;
    try {
      steps.push(...(await this.afterReady(tools, opts, fresh)));
    } catch (e) {
      // Half set up is not up: stop it, so the next `up` does the set-up again.
      await this.stopLocked();
      if (this.dropDataOnFailure) rmSync(this.l.dataDir, {recursive: true, force: true});
      throw e;
    }
    return {name: this.name, started: true, pid: child.pid, port: this.l.port, readyMs, steps};
  }

  private async checkPort(): Promise<void> {
    const r = await portFree(this.l.port);
    if (r.free) return;
    if (r.code !== 'EADDRINUSE') throw new ServiceError(`cannot listen on 127.0.0.1:${this.l.port} (${r.code})`, `set another one: port = <1024-65535> under [${this.o.section}] in devenv.toml`);
    const e = await portTakenError(this.l.port, this.name, this.o.section, realRoot(this.o.root));
    throw new ServiceError(e.message, e.hint);
  }

  private async waitReady(pid: number, exited: (() => {code: number | null; signal: string | null} | undefined) | undefined, t0: number, signal?: AbortSignal): Promise<void> {
    const timeout = this.o.readyTimeoutMs ?? 120_000;
    for (;;) {
      const why = interruption(signal, this.lockFile, t0);
      if (why) throw new StartInterrupted(this.name, why);
      const ex = exited?.();
      if (ex || !pidAlive(pid)) {
        throw new ServiceError(
          `${this.label()} exited while starting (${ex?.signal ? `signal ${ex.signal}` : `exit code ${ex?.code ?? '?'}`}); the end of ${this.l.logFile}:\n    ${tailLines(this.l.logFile, 8).join('\n    ')}`,
          `fix the cause above ('devenv logs ${this.name}' shows the whole log), then run 'devenv up' again`,
        );
      }
      if (await this.isUp(pid)) return;
      if (Date.now() - t0 > timeout) throw new ServiceError(`${this.label()} did not become ready within ${Math.round(timeout / 1000)}s; the end of ${this.l.logFile}:\n    ${tailLines(this.l.logFile, 8).join('\n    ')}`, `see 'devenv logs ${this.name}'`);
      await sleep(10);
    }
  }

  /** The socket dir and its parent must be ours and closed to others (a shared /tmp is writable by all). */
  private ensureSocketDir(): void {
    ensureDir(this.l.socketDir);
    const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
    for (const d of [dirname(this.l.socketDir), this.l.socketDir]) {
      const st = statSync(d);
      if (st.uid !== uid || st.mode & 0o022) throw new ServiceError(`${d} belongs to another user or is writable by others; not putting the ${this.label()} socket there`, `remove it, or set XDG_RUNTIME_DIR to a private dir of your own (e.g. /run/user/${uid})`);
    }
  }

  async stop(): Promise<StopResult> {
    ensureDir(dirname(this.lockFile));
    return withStopLock(this.lockFile, () => this.stopLocked());
  }

  private async stopLocked(): Promise<StopResult> {
    const j = this.judge();
    if (j.state === 'none') return {name: this.name, stopped: false, steps: []};
    if (j.state === 'foreign') throw new ServiceError(j.why, `devenv stops only the server it started for this project; stop that one yourself (kill -${this.stopRungs(false)[0].signal.slice(3)} ${j.pid})`);
    if (j.state === 'stale') {
      await this.clearStale(j);
      return {name: this.name, stopped: false, steps: [`removed a stale ${this.pidFileLabel} (${j.why})`]};
    }
    const steps: string[] = [];
    const pid = j.pid;
    const deleted = this.stateDeleted();
    if (deleted) steps.push(`its ${this.stateLabel} ${this.l.dataDir} had been deleted`);
    await stopLadder({pid}, this.stopRungs(deleted), steps);
    // Then nothing of its group may survive.
    const killed = await this.killLeftovers(pid);
    if (killed) steps.push(`killed ${killed} leftover process(es) of its group`);
    if (!pidAlive(pid)) rmSync(this.l.pidFile, {force: true});
    this.cleanSocket();
    return {name: this.name, stopped: true, pid, killed, steps};
  }
}
