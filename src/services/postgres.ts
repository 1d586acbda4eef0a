// PostgreSQL as a per-project service: binaries from the project's Nix environment, data in
// <root>/.devenv/state/postgres, socket in a short runtime dir, TCP on 127.0.0.1 at the
// project's own port, the server in its own process group with its output in a log file.
import {mkdirSync, readdirSync, realpathSync, renameSync, rmSync, statSync} from 'node:fs';
import {createConnection} from 'node:net';
import {delimiter, dirname, join} from 'node:path';
import {ServiceError} from '../errors.js';
import {projectStateDir} from '../paths.js';
import {ensureDir, fileIdentity, readFileOrNull, readMemo, withLock, writeMemo} from '../util/fs.js';

import {
  judge,
  missingDatabasesQuery,
  type Owner,
  parseMajor,
  parsePidFile,
  serverArgs,
  sqlIdent,
  type Verdict,
  wantedDatabases,
} from './postgres-files.js';
import {groupAlive, groupMembers, interruption, isProgram, procAvailable, killGroup, pidAlive, procCwd, procGroup, runTool, sleep, spawnDetached, StartInterrupted, tailLines, waitForExit, withStopLock} from './process.js';
import {realRoot} from './account.js';
import type {PostgresLayout} from './registry.js';
import {appendLog, assertOwnState, MARKER_FILE, readMarker, writeMarker} from './marker.js';
import type {Service, ServiceStatus, StartOptions, StartResult, StopResult, ToolsEnv} from './service.js';

export const OWNER_FILE = MARKER_FILE;
const POSTGRES_NAMES = ['postgres', 'postmaster'];
const TOOLS = ['postgres', 'initdb', 'pg_isready', 'psql'] as const;
type Tool = (typeof TOOLS)[number];

export interface PostgresOptions {
  root: string;
  layout: PostgresLayout;
  databases?: string[];
  settings?: Record<string, string | number | boolean>;
  /** Seed the first start from another checkout ("main" or a path). */
  seed?: string;
  /** The project's environment (PATH with its postgres); evaluated lazily, only `start` needs it. */
  toolsEnv: () => Promise<ToolsEnv>;
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
}

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

/** PostgreSQL exits when started by uid 0; say so before anything is created as root. */
export function refuseRoot(uid: number): void {
  if (uid !== 0) return;
  throw new ServiceError(
    'PostgreSQL refuses to run as root (initdb and postgres exit when started by uid 0), so devenv does not start it as root',
    'run devenv as your own, unprivileged user (e.g. runuser -u <user> -- devenv up); the data dir and socket will belong to that user',
  );
}

export class PostgresService implements Service {
  readonly name = 'postgres';
  readonly logFile: string;
  private readonly l: PostgresLayout;
  private tools?: {env: NodeJS.ProcessEnv; bin: Record<Tool, string>; major: number};

  constructor(private readonly o: PostgresOptions) {
    this.l = o.layout;
    this.logFile = o.layout.logFile;
  }

  private get lockFile(): string {
    return join(projectStateDir(this.o.root), 'services', 'postgres.lock');
  }

  /** The data dir's owner marker, its root resolved like ours (symlinked paths are the same project). */
  private owner(): Owner | undefined {
    const o = readMarker(this.l.dataDir);
    return o && {...o, root: realRoot(o.root)};
  }

  private realDataDir(): string {
    try {
      return realpathSync(this.l.dataDir);
    } catch {
      return this.l.dataDir;
    }
  }

  /** What postmaster.pid says, checked against /proc and the owner marker. */
  inspect(): Verdict {
    const text = readFileOrNull(join(this.l.dataDir, 'postmaster.pid'));
    return judge(
      {root: realRoot(this.o.root), dataDir: this.l.dataDir, realDataDir: this.realDataDir(), pidFile: text === null ? undefined : parsePidFile(text), pidFileText: text, owner: this.owner()},
      // Without /proc the pid file in our marked data dir vouches for the pid; status() then
      // confirms with the server's own socket (a reused pid does not answer there).
      {alive: pidAlive, isPostgres: (pid) => isProgram(pid, POSTGRES_NAMES), cwd: (pid) => (procAvailable() ? procCwd(pid) : this.realDataDir())},
    );
  }

  async status(): Promise<ServiceStatus> {
    const v = this.inspect();
    const base = {name: this.name, port: this.l.port, dataDir: this.l.dataDir, logFile: this.l.logFile, socketDir: this.l.socketDir};
    switch (v.kind) {
      case 'none': {
        const orphan = this.orphan();
        if (orphan) return {...base, state: 'deleted', pid: orphan, detail: `its data dir ${this.l.dataDir} was deleted while it runs; 'devenv down' stops it`};
        return {...base, state: 'stopped'};
      }
      case 'stale':
        return {...base, state: 'crashed', detail: v.why};
      case 'foreign':
        return {...base, state: 'foreign', pid: v.pid, detail: v.why};
      case 'ours': {
        if (!procAvailable() && v.status !== 'starting' && v.status !== 'stopping' && !(await this.socketAnswers(v.port ?? this.l.port))) {
          return {...base, state: 'crashed', pid: v.pid, detail: `postmaster.pid names pid ${v.pid}, which does not answer on the server's socket`};
        }
        const state = v.status === 'starting' ? 'starting' : v.status === 'stopping' ? 'stopping' : 'running';
        const detail = v.port !== undefined && v.port !== this.l.port ? `running on port ${v.port}; devenv.toml now says ${this.l.port} ('devenv down && devenv up' to move it)` : undefined;
        return {...base, state, ready: state === 'running', pid: v.pid, port: v.port ?? this.l.port, ...(detail ? {detail} : {})};
      }
    }
  }

  async ready(): Promise<boolean> {
    const v = this.inspect();
    if (v.kind !== 'ours' || (v.status && v.status !== 'ready' && v.status !== 'standby')) return false;
    if (this.tools) {
      const r = await runTool(this.tools.bin.pg_isready, ['-q', '-h', this.l.socketDir, '-p', String(v.port ?? this.l.port), '-d', 'postgres', '-U', this.l.user], this.tools.env);
      return r.exitCode === 0;
    }
    return this.socketAnswers(v.port ?? this.l.port);
  }

  /** Without the project's tools: can we reach the server's socket at all? */
  private socketAnswers(port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const s = createConnection(join(this.l.socketDir, `.s.PGSQL.${port}`));
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
  }

  /** [services.postgres] is in devenv.toml (or this is a leftover server): say why its env still has no PostgreSQL. */
  private async missingPostgresHint(): Promise<string> {
    const pkg = `postgresql_${this.l.version}`;
    const flake = readFileOrNull(join(this.o.root, 'flake.nix'));
    const hasToml = readFileOrNull(join(this.o.root, 'devenv.toml')) !== null;
    const {flakeOwnership} = await import('../flake/render.js');
    const owner = flake === null ? 'none' : flakeOwnership(flake);
    if (owner === 'edited' || (owner === 'foreign' && hasToml)) {
      return `flake.nix is ${owner === 'edited' ? 'edited by hand' : 'not generated by devenv'}, so devenv.toml's [services.postgres] does not reach it: add pkgs.${pkg} to its devShell's packages, or run 'devenv generate --force' to regenerate it from devenv.toml (your edits are lost); then run 'devenv up' again`;
    }
    if (!hasToml) return `add pkgs.${pkg} to flake.nix's devShell packages, then run 'devenv up' again`;
    return `add ${pkg} to packages in devenv.toml, then run 'devenv up' again`;
  }

  /** The project's postgres tools, or a clear error when its environment has none. */
  private async resolveTools(): Promise<NonNullable<PostgresService['tools']>> {
    if (this.tools) return this.tools;
    const {env, path} = await this.o.toolsEnv();
    const bin = {} as Record<Tool, string>;
    const missing: string[] = [];
    for (const t of TOOLS) {
      const p = whichIn(path, t);
      if (p) bin[t] = p;
      else missing.push(t);
    }
    if (missing.length) {
      const host = whichIn((process.env.PATH ?? '').split(delimiter), missing[0]);
      throw new ServiceError(
        `the project's environment has no PostgreSQL (${missing.join(', ')} not found in its Nix environment${host ? `; ${host} on your own PATH is not used` : ''})`,
        await this.missingPostgresHint(),
      );
    }
    const major = await this.binaryMajor(bin.postgres, env);
    this.tools = {env, bin, major};
    return this.tools;
  }

  /**
   * The server binary's major version, memoized by its real path, size and mtime: running
   * `postgres --version` on every `up` would cost a process, and execa's import, before the spawn.
   */
  private async binaryMajor(postgres: string, env: NodeJS.ProcessEnv): Promise<number> {
    const id = fileIdentity(postgres);
    const memoFile = join(projectStateDir(this.o.root), 'services', 'postgres-binary.json');
    const memo = id ? readMemo<number>(memoFile, id) : undefined;
    if (typeof memo === 'number') return memo;
    const {execa} = await import('execa');
    const v = await execa(postgres, ['--version'], {env, reject: false, stdin: 'ignore'});
    const major = parseMajor(String(v.stdout));
    if (v.exitCode !== 0 || major === undefined) throw new ServiceError(`${postgres} --version failed: ${String(v.stderr || v.stdout).trim()}`);
    if (id) writeMemo(memoFile, id, major);
    return major;
  }

  async start(opts: StartOptions = {}): Promise<StartResult> {
    refuseRoot(typeof process.getuid === 'function' ? process.getuid() : -1);
    ensureDir(dirname(this.lockFile));
    return withLock(this.lockFile, () => this.startLocked(opts), () => opts.onProgress?.('waiting for another devenv up/down of this project'));
  }

  private async startLocked(opts: StartOptions): Promise<StartResult> {
    // Before anything reads or writes there: a committed or planted data dir, or a symlink on the way, is refused.
    assertOwnState(this.o.root, {dataDirs: [this.l.dataDir], files: [this.l.logFile]});
    const steps: string[] = [];
    const v = this.inspect();
    if (v.kind === 'ours') {
      if (v.status === 'stopping') throw new ServiceError(`PostgreSQL (pid ${v.pid}) is shutting down`, "wait for it ('devenv ps'), then run 'devenv up' again");
      if (v.status === 'starting') await this.waitReady(v.pid, undefined, Date.now(), opts.signal);
      if (v.port !== undefined && v.port !== this.l.port) steps.push(`running on port ${v.port}, not ${this.l.port} from devenv.toml: 'devenv down && devenv up' moves it`);
      return {name: this.name, started: false, pid: v.pid, port: v.port ?? this.l.port, steps};
    }
    if (v.kind === 'foreign') {
      throw new ServiceError(v.why, `stop that server (kill -INT ${v.pid}), then run 'devenv up' again`);
    }
    if (v.kind === 'stale') {
      await this.cleanupStale(v.pid);
      steps.push(`removed a stale postmaster.pid (${v.why})`);
    }

    const tools = await this.resolveTools();
    if (tools.major !== this.l.version) steps.push(`devenv.toml asks for PostgreSQL ${this.l.version}; the environment's postgres is ${tools.major}`);
    this.checkDataDir(tools.major);
    await this.checkPort();

    ensureDir(dirname(this.l.logFile));
    this.ensureSocketDir();
    this.cleanSocketDir();
    if (!readFileOrNull(join(this.l.dataDir, 'PG_VERSION'))) {
      opts.onProgress?.(`initializing ${this.l.dataDir} (initdb)`);
      await this.initdb(tools);
      steps.push('initdb');
    }
    const owner = this.owner();
    if (owner?.root !== realRoot(this.o.root)) {
      if (owner) steps.push(`adopted a data dir that devenv created for ${owner.root}`);
      writeMarker(this.l.dataDir, this.o.root, this.name, owner?.createdAt);
    }

    const {args, ignored} = serverArgs(this.l, this.o.settings);
    if (ignored.length) steps.push(`ignored ${ignored.join(', ')} in [services.postgres.settings] (devenv sets them)`);
    appendLog(this.l.logFile, `--- devenv: starting PostgreSQL ${tools.major} on 127.0.0.1:${this.l.port} and ${this.l.socketDir} (${new Date().toISOString()})\n`);
    const t0 = Date.now();
    const child = await spawnDetached(tools.bin.postgres, args, {env: tools.env, cwd: this.l.dataDir, logFile: this.l.logFile});
    try {
      await this.waitReady(child.pid, child.exited, t0, opts.signal);
    } catch (e) {
      await this.killLeftovers(child.pid);
      throw e;
    }
    const readyMs = Date.now() - t0;
    for (const d of await this.createDatabases(tools)) steps.push(`created database ${d}`);
    const seed = opts.seedFrom ?? this.o.seed;
    // --seed-from is typed for this start: say when it cannot apply rather than ignore it.
    if (opts.seedFrom && !steps.includes('initdb')) steps.push(`not seeded from ${opts.seedFrom}: the database already has data (seeding is for its first start; remove ${this.l.dataDir} to start again from a copy)`);
    if (seed && steps.includes('initdb')) {
      try {
        steps.push(...(await this.seedFrom(tools, seed)));
      } catch (e) {
        // A half-seeded cluster must not pass for a seeded one next time: start again empty.
        await this.stopLocked();
        rmSync(this.l.dataDir, {recursive: true, force: true});
        throw e;
      }
    }
    return {name: this.name, started: true, pid: child.pid, port: this.l.port, readyMs, steps};
  }

  /** Poll postmaster.pid for "ready" (cheap), then confirm once with pg_isready. */
  private async waitReady(pid: number, exited: (() => {code: number | null; signal: string | null} | undefined) | undefined, t0: number, signal?: AbortSignal): Promise<void> {
    const timeout = this.o.readyTimeoutMs ?? 120_000;
    const tools = await this.resolveTools();
    for (;;) {
      const why = interruption(signal, this.lockFile, t0);
      if (why) throw new StartInterrupted('postgres', why);
      const ex = exited?.();
      if (ex || !pidAlive(pid)) {
        throw new ServiceError(
          `PostgreSQL exited while starting (${ex?.signal ? `signal ${ex.signal}` : `exit code ${ex?.code ?? '?'}`}); the end of ${this.l.logFile}:\n    ${tailLines(this.l.logFile, 8).join('\n    ')}`,
          `fix the cause above ('devenv logs postgres' shows the whole log), then run 'devenv up' again`,
        );
      }
      const pf = parsePidFile(readFileOrNull(join(this.l.dataDir, 'postmaster.pid')) ?? '');
      if (pf?.pid === pid && (pf.status === 'ready' || pf.status === 'standby')) {
        const r = await runTool(tools.bin.pg_isready, ['-q', '-h', this.l.socketDir, '-p', String(pf.port ?? this.l.port), '-d', 'postgres', '-U', this.l.user], tools.env);
        if (r.exitCode === 0) return;
      }
      if (Date.now() - t0 > timeout) {
        throw new ServiceError(`PostgreSQL did not become ready within ${Math.round(timeout / 1000)}s; the end of ${this.l.logFile}:\n    ${tailLines(this.l.logFile, 8).join('\n    ')}`, "see 'devenv logs postgres'");
      }
      await sleep(15);
    }
  }

  private checkDataDir(major: number): void {
    const ver = readFileOrNull(join(this.l.dataDir, 'PG_VERSION'));
    if (ver !== null) {
      const dirMajor = parseMajor(ver);
      if (dirMajor !== major) {
        throw new ServiceError(
          `${this.l.dataDir} holds a PostgreSQL ${dirMajor ?? `'${ver.trim()}'`} cluster; this project's postgres is ${major} and cannot open it`,
          `either set version = ${dirMajor} in [services.postgres], or migrate the data (pg_dump with the old version, or pg_upgrade), or move the dir away to start empty: mv ${this.l.dataDir} ${this.l.dataDir}.${dirMajor ?? 'old'}`,
        );
      }
      return;
    }
    let entries: string[] = [];
    try {
      entries = readdirSync(this.l.dataDir).filter((e) => e !== OWNER_FILE);
    } catch {}
    if (entries.length) {
      throw new ServiceError(`${this.l.dataDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION)`, `move it away (mv ${this.l.dataDir} ${this.l.dataDir}.bak) and run 'devenv up' again to create a fresh one`);
    }
  }

  private async checkPort(): Promise<void> {
    const {portFree} = await import('./process.js');
    const r = await portFree(this.l.port);
    if (r.free) return;
    if (r.code !== 'EADDRINUSE') throw new ServiceError(`cannot listen on 127.0.0.1:${this.l.port} (${r.code})`, 'set another one: port = <1024-65535> under [services.postgres] in devenv.toml');
    const {portTakenError} = await import('./ports.js');
    const e = await portTakenError(this.l.port, 'postgres', 'services.postgres', realRoot(this.o.root));
    throw new ServiceError(e.message, e.hint);
  }

  private async initdb(tools: NonNullable<PostgresService['tools']>): Promise<void> {
    const tmp = `${this.l.dataDir}.initdb-tmp`;
    rmSync(tmp, {recursive: true, force: true});
    mkdirSync(dirname(this.l.dataDir), {recursive: true});
    const {execa} = await import('execa');
    // Into a temp dir, then rename: an interrupted initdb never leaves a half cluster in place.
    const r = await execa(tools.bin.initdb, ['-D', tmp, '-U', this.l.user, '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${this.l.passwordFile}`, '--no-locale', '-E', 'UTF8'], {env: tools.env, reject: false, stdin: 'ignore', all: true});
    appendLog(this.l.logFile, `--- devenv: initdb (${new Date().toISOString()})\n${String(r.all ?? '')}\n`);
    if (r.exitCode !== 0) {
      rmSync(tmp, {recursive: true, force: true});
      throw new ServiceError(`initdb failed (exit code ${r.exitCode}):\n    ${String(r.all ?? '').trim().split('\n').slice(-8).join('\n    ')}`, 'fix the cause above, then run \'devenv up\' again');
    }
    writeMarker(tmp, this.o.root, this.name);
    rmSync(this.l.dataDir, {recursive: true, force: true}); // empty (checkDataDir), or only our marker
    renameSync(tmp, this.l.dataDir);
  }

  /** Create the databases from devenv.toml (and PGDATABASE's) that do not exist yet. */
  private async createDatabases(tools: NonNullable<PostgresService['tools']>): Promise<string[]> {
    const wanted = wantedDatabases(this.o.databases, this.l.database);
    if (!wanted.length) return [];
    const psql = (sql: string) => runTool(tools.bin.psql, ['-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-h', this.l.socketDir, '-p', String(this.l.port), '-U', this.l.user, '-d', 'postgres', '-c', sql], tools.env);
    const q = await psql(missingDatabasesQuery(wanted));
    if (q.exitCode !== 0) throw new ServiceError(`could not list databases: ${String(q.stderr).trim()}`);
    const missing = String(q.stdout).split('\n').map((s) => s.trim()).filter(Boolean);
    for (const d of missing) {
      const c = await psql(`CREATE DATABASE ${sqlIdent(d)}`);
      if (c.exitCode !== 0 && !/already exists/.test(String(c.stderr))) throw new ServiceError(`could not create database ${d}: ${String(c.stderr).trim()}`);
    }
    return missing;
  }

  /**
   * A postmaster whose data dir is gone: the socket lock file (.s.PGSQL.<port>.lock, first line
   * its pid) in our private socket dir names it, and it must still answer there.
   */
  private orphan(): number | undefined {
    if (readFileOrNull(join(this.l.dataDir, 'PG_VERSION')) !== null) return undefined;
    const text = readFileOrNull(join(this.l.socketDir, `.s.PGSQL.${this.l.port}.lock`));
    const pid = Number(text?.split('\n')[0]?.trim());
    if (!Number.isInteger(pid) || pid <= 0 || !pidAlive(pid) || !isProgram(pid, POSTGRES_NAMES)) return undefined;
    return pid;
  }

  /** Copy the source checkout's databases into this fresh cluster (pg_dump | psql), the source running. */
  private async seedFrom(tools: NonNullable<PostgresService['tools']>, seed: string): Promise<string[]> {
    const {resolveSeedSource, pipe} = await import('./seed.js');
    const {devSocketDir} = await import('./instance.js');
    const {findPort} = await import('./ports.js');
    const notes: string[] = [];
    const src = resolveSeedSource(this.o.root, seed, (m) => notes.push(m));
    if (!src) return notes;
    const port = findPort(src, 'postgres');
    const sock = devSocketDir(src, 'postgres');
    const up = port && (await runTool(tools.bin.pg_isready, ['-q', '-h', sock, '-p', String(port), '-d', 'postgres', '-U', this.l.user], tools.env)).exitCode === 0;
    if (!up) throw new ServiceError(`cannot seed from ${src}: its PostgreSQL is not running`, `start it there ('devenv up -d' in ${src}), then run 'devenv up' here again`);
    const bin = dirname(tools.bin.psql);
    const steps: string[] = [];
    for (const d of wantedDatabases(this.o.databases, this.l.database)) {
      await pipe(
        {cmd: join(bin, 'pg_dump'), args: ['-h', sock, '-p', String(port), '-U', this.l.user, '-d', d, '--no-owner', '--no-privileges']},
        {cmd: tools.bin.psql, args: ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', this.l.socketDir, '-p', String(this.l.port), '-U', this.l.user, '-d', d]},
        tools.env,
      ).catch((e) => {
        throw new ServiceError(`seeding database ${d} from ${src} failed: ${(e as Error).message}`, `fix the cause, then run 'devenv up' again (the fresh cluster was removed)`);
      });
      steps.push(`seeded database ${d} from ${src}`);
    }
    return steps;
  }

  /** After a crash: wait for (then kill) what is left of the old server, drop its pid file. */
  private async cleanupStale(pid: number): Promise<void> {
    if (pid > 0) await this.killLeftovers(pid);
    rmSync(join(this.l.dataDir, 'postmaster.pid'), {force: true});
  }

  /** Processes of the server's group that still work in our data dir: given a moment, then SIGKILL. */
  private async killLeftovers(pgid: number): Promise<number> {
    if (!procAvailable()) {
      // Only the group devenv started (the postmaster leads it) can be recognised without /proc.
      const deadline = Date.now() + 3000;
      while (groupAlive(pgid) && Date.now() < deadline) await sleep(25);
      return groupAlive(pgid) ? killGroup(pgid) : 0;
    }
    const real = this.realDataDir();
    const ours = () => groupMembers(pgid).filter((p) => isProgram(p, POSTGRES_NAMES) && [real, this.l.dataDir].includes(procCwd(p) ?? ''));
    const deadline = Date.now() + 3000;
    while (ours().length && Date.now() < deadline) await sleep(25);
    const left = ours();
    for (const p of left) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {}
    }
    for (const p of left) await waitForExit(p, 5000);
    return left.length;
  }

  /** The socket dir and its parent must be ours and closed to others (a shared /tmp is writable by all). */
  private ensureSocketDir(): void {
    ensureDir(this.l.socketDir);
    const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
    for (const d of [dirname(this.l.socketDir), this.l.socketDir]) {
      const st = statSync(d);
      if (st.uid !== uid || st.mode & 0o022) {
        throw new ServiceError(`${d} belongs to another user or is writable by others; not putting the PostgreSQL socket there`, `remove it, or set XDG_RUNTIME_DIR to a private dir of your own (e.g. /run/user/${uid})`);
      }
    }
  }

  /** Socket and lock files of a dead server; PostgreSQL refuses a lock file whose pid is alive again. */
  private cleanSocketDir(): void {
    let entries: string[] = [];
    try {
      entries = readdirSync(this.l.socketDir);
    } catch {
      return;
    }
    for (const e of entries) if (e.startsWith('.s.PGSQL.')) rmSync(join(this.l.socketDir, e), {force: true});
  }

  async stop(): Promise<StopResult> {
    ensureDir(dirname(this.lockFile));
    return withStopLock(this.lockFile, () => this.stopLocked());
  }

  private async stopLocked(): Promise<StopResult> {
    const v = this.inspect();
    if (v.kind === 'none') {
      // The data dir (and postmaster.pid) deleted under a running server: its socket lock still names it.
      const orphan = this.orphan();
      if (!orphan) return {name: this.name, stopped: false, steps: []};
      // Nothing left to write: an immediate shutdown.
      process.kill(orphan, 'SIGQUIT');
      if (!(await waitForExit(orphan, 10_000))) {
        try {
          process.kill(orphan, 'SIGKILL');
        } catch {}
        await waitForExit(orphan, 5000);
      }
      const killed = groupAlive(orphan) ? await killGroup(orphan) : 0;
      this.cleanSocketDir();
      return {name: this.name, stopped: true, pid: orphan, killed, steps: [`its data dir ${this.l.dataDir} had been deleted; stopped it by the pid in its socket lock`]};
    }
    if (v.kind === 'foreign') throw new ServiceError(v.why, `devenv stops only the server it started for this project; stop that one yourself (kill -INT ${v.pid})`);
    if (v.kind === 'stale') {
      await this.cleanupStale(v.pid);
      return {name: this.name, stopped: false, steps: [`removed a stale postmaster.pid (${v.why})`]};
    }
    const pid = v.pid;
    const pgid = procGroup(pid);
    const steps: string[] = [];
    // SIGINT is PostgreSQL's fast shutdown (what `pg_ctl stop -m fast` sends): roll back open
    // transactions, checkpoint, exit. Sent directly, so `down` needs no Nix evaluation.
    process.kill(pid, 'SIGINT');
    if (!(await waitForExit(pid, this.o.stopTimeoutMs ?? 60_000))) {
      steps.push('fast shutdown timed out; sent an immediate shutdown (SIGQUIT)');
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {}
      if (!(await waitForExit(pid, 10_000))) {
        steps.push('killed the postmaster (SIGKILL)');
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
        await waitForExit(pid, 5000);
      }
    }
    // Then nothing of its group may survive (it leads its own group when devenv started it).
    const killed = pgid === pid ? await killGroup(pgid) : await this.killLeftovers(pid);
    if (killed) steps.push(`killed ${killed} leftover process(es) of its group`);
    if (readFileOrNull(join(this.l.dataDir, 'postmaster.pid')) !== null && !pidAlive(pid)) rmSync(join(this.l.dataDir, 'postmaster.pid'), {force: true});
    this.cleanSocketDir();
    return {name: this.name, stopped: true, pid, killed, steps};
  }
}
