// A server that writes its own pid file and answers on a socket (Redis, MariaDB): the common
// part of starting, judging and stopping it. Liveness comes from the pid file in the marked data
// dir, kill(pid, 0) and the server's own protocol on its socket; /proc only refines.
import {mkdirSync, rmSync, statSync} from 'node:fs';
import {createConnection} from 'node:net';
import {dirname, join} from 'node:path';
import {ServiceError} from '../errors.js';
import {projectStateDir} from '../paths.js';
import {ensureDir, readFileOrNull, withLock} from '../util/fs.js';
import {whichIn} from './postgres.js';
import {appendLog, assertOwnState, readMarker, writeMarker} from './marker.js';
import {portTakenError} from './ports.js';
import {groupAlive, interruption, isProgram, killGroup, pidAlive, portFree, sleep, spawnDetached, StartInterrupted, tailLines, waitForExit, withStopLock} from './process.js';
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

/**
 * Does something answer on a Unix socket, by the server's protocol? `ok` judges the bytes so far:
 * true or false, or undefined to wait for more.
 */
export function socketProbe(path: string, send: string | undefined, ok: (data: Buffer) => boolean | undefined, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (v: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(t);
      s.destroy();
      resolve(v);
    };
    const s = createConnection(path);
    const t = setTimeout(() => finish(false), timeoutMs);
    s.once('connect', () => send && s.write(send));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const v = ok(buf);
      if (v !== undefined) finish(v);
      else if (buf.length > 65536) finish(false);
    });
    s.once('error', () => finish(false));
    s.once('close', () => finish(false));
  });
}

export abstract class DaemonService implements Service {
  abstract readonly name: string;
  /** Program names of the server process (for /proc checks). */
  protected abstract readonly programs: string[];
  protected abstract readonly toolNames: string[];
  readonly logFile: string;
  protected readonly l: DaemonLayout;
  private tools?: Tools;

  constructor(protected readonly o: DaemonOptions) {
    this.l = o.layout;
    this.logFile = o.layout.logFile;
  }

  /** Whether the server answers on its socket by its own protocol. */
  protected abstract ping(): Promise<boolean>;
  /** First start: create the data dir's content (empty dir exists, marked). */
  protected abstract init(tools: Tools, onProgress?: (m: string) => void): Promise<string[]>;
  /** Program and arguments that run the server in the foreground. */
  protected abstract command(tools: Tools): {cmd: string; args: string[]};
  /** After readiness: databases, users. Returns steps taken. */
  protected async afterReady(_tools: Tools, _opts: StartOptions): Promise<string[]> {
    return [];
  }
  /** After afterReady() failed and the server was stopped. */
  protected afterFailedSetup(): void {}
  /** Whether init() has been done for the data dir. */
  protected abstract initialized(): boolean;

  private get lockFile(): string {
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
  private judge(): {state: 'none' | 'ours' | 'stale'; pid?: number; why?: string} {
    const pid = this.readPid();
    if (pid === undefined) return {state: 'none'};
    if (!pidAlive(pid) || !isProgram(pid, this.programs)) return {state: 'stale', pid, why: `${this.l.pidFile} names pid ${pid}, which is no longer running`};
    return {state: 'ours', pid};
  }

  private stateDeleted(): boolean {
    try {
      statSync(this.l.dataDir);
      return false;
    } catch {
      return true;
    }
  }

  async status(): Promise<ServiceStatus> {
    const base = {name: this.name, kind: 'service' as const, port: this.l.port, dataDir: this.l.dataDir, logFile: this.l.logFile, socketDir: this.l.socketDir};
    const j = this.judge();
    if (j.state === 'none') return {...base, state: 'stopped'};
    if (j.state === 'stale') return {...base, state: 'crashed', detail: j.why};
    const ready = await this.ping();
    // A live pid that does not answer on our socket for long is a reused pid, not our server.
    const deleted = this.stateDeleted();
    return {...base, state: deleted ? 'deleted' : ready ? 'running' : 'starting', pid: j.pid, ready, ...(deleted ? {detail: `its state dir ${this.l.dataDir} was deleted while it runs; 'devenv down' stops it`} : {})};
  }

  async ready(): Promise<boolean> {
    return this.judge().state === 'ours' && this.ping();
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
      throw new ServiceError(`the project's environment has no ${this.name} (${missing.join(', ')} not found in its Nix environment)`, `add [${this.o.section}] to devenv.toml (devenv adds its package to flake.nix), then run 'devenv up' again`);
    }
    this.tools = {env, bin};
    return this.tools;
  }

  async start(opts: StartOptions = {}): Promise<StartResult> {
    if (typeof process.getuid === 'function' && process.getuid() === 0) {
      throw new ServiceError(`devenv does not run ${this.name} as root`, 'run devenv as your own, unprivileged user');
    }
    ensureDir(dirname(this.lockFile));
    return withLock(this.lockFile, () => this.startLocked(opts), () => opts.onProgress?.('waiting for another devenv up/down of this project'));
  }

  private async startLocked(opts: StartOptions): Promise<StartResult> {
    assertOwnState(this.o.root, {dataDirs: [this.l.dataDir], files: [this.l.logFile]});
    const steps: string[] = [];
    const j = this.judge();
    if (j.state === 'ours') {
      if (this.stateDeleted()) throw new ServiceError(`${this.name} (pid ${j.pid}) runs, but its state dir ${this.l.dataDir} was deleted`, "run 'devenv down', then 'devenv up' (it starts with fresh, empty state)");
      await this.waitReady(j.pid!, undefined, Date.now(), opts.signal);
      return {name: this.name, started: false, pid: j.pid!, port: this.l.port, steps};
    }
    if (j.state === 'stale') {
      rmSync(this.l.pidFile, {force: true});
      steps.push(`removed a stale pid file (${j.why})`);
    }
    const tools = await this.resolveTools();
    const free = await portFree(this.l.port);
    if (!free.free) {
      const e = await portTakenError(this.l.port, this.name, this.o.section, this.o.root);
      throw new ServiceError(e.message, e.hint);
    }
    ensureDir(dirname(this.l.logFile));
    this.ensureSocketDir();
    rmSync(this.l.socket, {force: true});
    if (!this.initialized()) {
      mkdirSync(this.l.dataDir, {recursive: true, mode: 0o700});
      if (!readMarker(this.l.dataDir)) writeMarker(this.l.dataDir, this.o.root, this.name);
      opts.onProgress?.(`initializing ${this.l.dataDir}`);
      steps.push(...(await this.init(tools, opts.onProgress)));
    }
    const {cmd, args} = this.command(tools);
    appendLog(this.l.logFile, `--- devenv: starting ${this.name} on 127.0.0.1:${this.l.port} (${new Date().toISOString()})\n`);
    const t0 = Date.now();
    const child = await spawnDetached(cmd, args, {env: tools.env, cwd: this.l.dataDir, logFile: this.l.logFile});
    try {
      await this.waitReady(child.pid, child.exited, t0, opts.signal);
    } catch (e) {
      if (groupAlive(child.pid)) await killGroup(child.pid);
      rmSync(this.l.pidFile, {force: true});
      throw e;
    }
    const readyMs = Date.now() - t0;
    try {
      steps.push(...(await this.afterReady(tools, opts)));
    } catch (e) {
      // Half set up is not up: stop it, so the next `up` does the set-up again.
      await this.stopLocked();
      this.afterFailedSetup();
      throw e;
    }
    return {name: this.name, started: true, pid: child.pid, port: this.l.port, readyMs, steps};
  }

  private async waitReady(pid: number, exited: (() => {code: number | null; signal: string | null} | undefined) | undefined, t0: number, signal?: AbortSignal): Promise<void> {
    const timeout = this.o.readyTimeoutMs ?? 120_000;
    for (;;) {
      const why = interruption(signal, this.lockFile, t0);
      if (why) throw new StartInterrupted(this.name, why);
      const ex = exited?.();
      if (ex || !pidAlive(pid)) {
        throw new ServiceError(
          `${this.name} exited while starting (${ex?.signal ? `signal ${ex.signal}` : `exit code ${ex?.code ?? '?'}`}); the end of ${this.l.logFile}:\n    ${tailLines(this.l.logFile, 8).join('\n    ')}`,
          `fix the cause above ('devenv logs ${this.name}'), then run 'devenv up' again`,
        );
      }
      if (this.readPid() === pid && (await this.ping())) return;
      if (Date.now() - t0 > timeout) throw new ServiceError(`${this.name} did not become ready within ${Math.round(timeout / 1000)}s; the end of ${this.l.logFile}:\n    ${tailLines(this.l.logFile, 8).join('\n    ')}`, `see 'devenv logs ${this.name}'`);
      await sleep(10);
    }
  }

  private ensureSocketDir(): void {
    ensureDir(this.l.socketDir);
    const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
    for (const d of [dirname(this.l.socketDir), this.l.socketDir]) {
      const st = statSync(d);
      if (st.uid !== uid || st.mode & 0o022) throw new ServiceError(`${d} belongs to another user or is writable by others; not putting the ${this.name} socket there`, 'remove it, or set XDG_RUNTIME_DIR to a private dir of your own');
    }
  }

  async stop(): Promise<StopResult> {
    ensureDir(dirname(this.lockFile));
    return withStopLock(this.lockFile, () => this.stopLocked());
  }

  private async stopLocked(): Promise<StopResult> {
    const j = this.judge();
    if (j.state === 'none') return {name: this.name, stopped: false, steps: []};
    if (j.state === 'stale') {
      rmSync(this.l.pidFile, {force: true});
      return {name: this.name, stopped: false, steps: [`removed a stale pid file (${j.why})`]};
    }
    const steps: string[] = [];
    const pid = j.pid;
    const deleted = this.stateDeleted();
    if (deleted) steps.push(`its state dir ${this.l.dataDir} had been deleted`);
    process.kill(pid!, 'SIGTERM');
    // With its state gone there is nothing to save (Redis even refuses to exit when its final save fails).
    if (!(await waitForExit(pid!, deleted ? 3000 : 60_000))) {
      steps.push('clean shutdown timed out; killed it (SIGKILL)');
      try {
        process.kill(pid!, 'SIGKILL');
      } catch {}
      await waitForExit(pid!, 5000);
    }
    const killed = groupAlive(pid!) ? await killGroup(pid!) : 0;
    if (killed) steps.push(`killed ${killed} leftover process(es) of its group`);
    rmSync(this.l.pidFile, {force: true});
    rmSync(this.l.socket, {force: true});
    return {name: this.name, stopped: true, pid, killed, steps};
  }
}
