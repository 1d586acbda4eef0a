// A user process ([processes.<name>]) behind the Service interface: start spawns its keeper
// (keeper.ts) and waits for readiness, stop asks the keeper to stop the process group, status
// reads the keeper's state file. A recorded pid counts (and is signalled) only while it is
// provably the same process: same boot, same start time (util/proc.ts).
import {rmSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {ServiceError} from '../errors.js';
import {ensureDir, readJson, withLock, writeFileAtomic} from '../util/fs.js';
import type {KeeperSpec, KeeperState} from './keeper.js';
import {appendLog, assertOwnState} from './marker.js';
import {isSameProcess, pidAlive, sameBoot} from '../util/proc.js';
import {portTakenError} from './ports.js';
import {groupAlive, interruption, StartInterrupted, killGroup, portFree, withStopLock, sleep, spawnDetached, stopLadder, tailLines, waitForExit} from './process.js';
import type {Service, ServiceStatus, StartOptions, StartResult, StopResult} from './service.js';

export interface ProcessUnitOptions {
  root: string;
  name: string;
  exec: string;
  after: string[];
  /** Where the keeper's spec, state and lock live (the user's state dir, never the project). */
  runDir: string;
  logFile: string;
  port?: number;
  ready?: KeeperSpec['ready'];
  restart: KeeperSpec['restart'];
  maxRestarts: number;
  /** The process's environment (project env + its own + PORT); built lazily, only start needs it. */
  env: () => Promise<Record<string, string>>;
  readyTimeoutMs?: number;
}

const keeperScript = (): string => join(dirname(fileURLToPath(import.meta.url)), 'keeper.js');

export class ProcessUnit implements Service {
  readonly name: string;
  readonly logFile: string;
  readonly after: string[];

  constructor(private readonly o: ProcessUnitOptions) {
    this.name = o.name;
    this.logFile = o.logFile;
    this.after = o.after;
  }

  private get stateFile(): string {
    return join(this.o.runDir, `${this.name}.state.json`);
  }

  readState(): KeeperState | undefined {
    return readJson<KeeperState>(this.stateFile);
  }

  private get lockFile(): string {
    return join(this.o.runDir, `${this.name}.lock`);
  }

  /** The recorded state, and whether its keeper is alive and provably that keeper. */
  private keeper(): {st: KeeperState; alive: boolean} | undefined {
    const st = this.readState();
    if (!st) return undefined;
    return {st, alive: isSameProcess(st.keeperPid, st.keeperId)};
  }

  /**
   * Whether the recorded process group is still the one the keeper started: its leader is the
   * same process, or it is gone while members remain (Linux reuses no pid a live group still
   * carries as its id). A state from another boot never is.
   */
  private groupOurs(st: KeeperState): boolean {
    const pid = st.pid;
    if (!pid || !sameBoot(st.pidId) || !groupAlive(pid)) return false;
    if (pidAlive(pid)) return isSameProcess(pid, st.pidId);
    return true;
  }

  async status(): Promise<ServiceStatus> {
    const base = {name: this.name, kind: 'process' as const, port: this.o.port, logFile: this.logFile};
    const k = this.keeper();
    if (!k) return {...base, state: 'stopped', restarts: 0, ready: false};
    const {st, alive} = k;
    const common = {...base, restarts: st.restarts, ready: alive && st.ready, ...(st.detail ? {detail: st.detail} : {})};
    // A final state is final from the moment it is written, whether or not its keeper has exited yet.
    if (st.state === 'failed' || st.state === 'exited') return {...common, state: st.state, ready: false, ...(st.lastExit ? {detail: st.detail ?? `exited with ${st.lastExit.signal ?? `code ${st.lastExit.code}`}`} : {})};
    if (!alive) {
      if (st.state === 'stopped') return {...common, state: 'stopped', ready: false};
      return {...common, state: 'crashed', detail: `its keeper (pid ${st.keeperPid}) died`};
    }
    const state = st.state === 'running' ? (st.ready ? 'running' : 'starting') : st.state === 'backoff' ? 'backoff' : st.state === 'stopping' ? 'stopping' : 'starting';
    return {...common, state, pid: st.pid};
  }

  async ready(): Promise<boolean> {
    const k = this.keeper();
    return !!k?.alive && k.st.ready;
  }

  async start(opts: StartOptions = {}): Promise<StartResult> {
    ensureDir(this.o.runDir);
    return withLock(this.lockFile, () => this.startLocked(opts), () => opts.onProgress?.('waiting for another devenv up/down of this project'));
  }

  private async startLocked(opts: StartOptions): Promise<StartResult> {
    const k = this.keeper();
    if (k?.alive && k.st.state !== 'stopping') {
      await this.waitReady(Date.now(), opts);
      return {name: this.name, started: false, pid: this.readState()?.pid ?? k.st.keeperPid, port: this.o.port, steps: []};
    }
    assertOwnState(this.o.root, {dataDirs: [], files: [this.logFile]});
    ensureDir(dirname(this.logFile));
    // A keeper killed with -9 leaves its process group: never start a second copy beside it.
    if (k && this.groupOurs(k.st)) await killGroup(k.st.pid!);
    // A port another program holds would pass the readiness probe while this one crash-loops.
    if (this.o.port && !(await portFree(this.o.port)).free) {
      const e = await portTakenError(this.o.port, this.name, `processes.${this.name}`, this.o.root);
      throw new ServiceError(e.message, e.hint);
    }
    const spec: KeeperSpec = {
      name: this.name,
      exec: this.o.exec,
      env: await this.o.env(),
      cwd: this.o.root,
      logFile: this.logFile,
      stateFile: this.stateFile,
      restart: this.o.restart,
      maxRestarts: this.o.maxRestarts,
      ready: this.o.ready,
      port: this.o.port,
    };
    const specFile = join(this.o.runDir, `${this.name}.spec.json`);
    writeFileAtomic(specFile, JSON.stringify(spec), 0o600);
    rmSync(this.stateFile, {force: true});
    const t0 = Date.now();
    const child = await spawnDetached(process.execPath, [keeperScript(), specFile], {env: {PATH: process.env.PATH ?? ''}, cwd: this.o.root, logFile: this.logFile});
    // The keeper writes its state at once; until then it is only a pid.
    while (!this.readState() && !child.exited() && Date.now() - t0 < 10_000) await sleep(5);
    if (!this.readState()) throw new ServiceError(`${this.name}: its keeper did not start; the end of ${this.logFile}:\n    ${tailLines(this.logFile, 8).join('\n    ')}`);
    try {
      await this.waitReady(t0, opts);
    } catch (e) {
      // Timed out or interrupted: what this start spawned does not outlive it (a keeper that
      // gave up has ended itself, and its 'failed' state stays for ps).
      const k = this.keeper();
      if (k?.alive && k.st.state !== 'failed' && k.st.state !== 'exited') await this.stopLocked(e instanceof StartInterrupted ? e.why : 'devenv up (it did not become ready)');
      throw e;
    }
    const st = this.readState()!;
    return {name: this.name, started: true, pid: st.pid ?? st.keeperPid, port: this.o.port, readyMs: Date.now() - t0, steps: st.restarts ? [`restarted ${st.restarts} time(s) before it was ready`] : []};
  }

  private async waitReady(t0: number, opts: StartOptions): Promise<void> {
    const timeout = this.o.readyTimeoutMs ?? 120_000;
    let said = false;
    for (;;) {
      const why = interruption(opts.signal, this.lockFile, t0);
      if (why) throw new StartInterrupted(this.name, why);
      const k = this.keeper();
      if (k?.alive && k.st.ready) return;
      const st = k?.st;
      if (!k?.alive || st?.state === 'failed' || st?.state === 'exited') {
        // Its keeper wrote the final state and ends: up returns once it has, so what it leaves is final.
        if (k?.alive) await waitForExit(k.st.keeperPid, 5000);
        if (st?.state === 'exited' && !this.o.ready) return; // a one-shot that ended cleanly
        const why = st?.detail ?? (st?.lastExit ? `exited (${st.lastExit.signal ? `signal ${st.lastExit.signal}` : `exit code ${st.lastExit.code}`})` : 'stopped');
        throw new ServiceError(`${this.name} ${why}; the end of ${this.logFile}:\n    ${tailLines(this.logFile, 10).join('\n    ')}`, `fix it ('devenv logs ${this.name}'), then run 'devenv up' again`);
      }
      if (!said && Date.now() - t0 > 2000) {
        said = true;
        opts.onProgress?.('waiting for it to be ready');
      }
      if (Date.now() - t0 > timeout) throw new ServiceError(`${this.name} did not become ready within ${Math.round(timeout / 1000)}s; the end of ${this.logFile}:\n    ${tailLines(this.logFile, 8).join('\n    ')}`, `check its ready = ... in devenv.toml and 'devenv logs ${this.name}'`);
      await sleep(10);
    }
  }

  async stop(why = 'devenv down'): Promise<StopResult> {
    ensureDir(this.o.runDir);
    return withStopLock(this.lockFile, () => this.stopLocked(why));
  }

  private async stopLocked(why: string): Promise<StopResult> {
    const k = this.keeper();
    if (!k) return {name: this.name, stopped: false, steps: []};
    const steps: string[] = [];
    let stopped = false;
    if (k.alive) {
      stopped = true;
      await stopLadder({pid: k.st.keeperPid}, [{signal: 'SIGTERM', waitMs: 20_000}, {signal: 'SIGKILL', waitMs: 5000, note: 'its keeper did not stop; killed it'}], steps);
    }
    // Nothing of the process group may be left, whoever was supposed to clean it; but a
    // recorded pid that is now someone else's (reused, or from before a reboot) is left alone.
    const pid = k.st.pid;
    if (!k.alive && !this.groupOurs(k.st) && (pidAlive(k.st.keeperPid) || (pid && pidAlive(pid)))) steps.push(`its recorded pids now belong to other programs (pids are reused${sameBoot(k.st.keeperId) ? '' : ', and the machine rebooted'}); left them alone`);
    if (pid && this.groupOurs(k.st)) {
      const n = await killGroup(pid);
      if (n) steps.push(`killed ${n} leftover process(es) of its group`);
      stopped = true;
    }
    try {
      if (stopped) appendLog(this.logFile, `--- devenv: ${this.name} stopped by ${why} (${new Date().toISOString()})\n`);
    } catch {} // its state dir may be gone
    rmSync(this.stateFile, {force: true});
    return {name: this.name, stopped, pid, steps};
  }
}

