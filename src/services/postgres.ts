// PostgreSQL as a per-project service on the service engine (daemon.ts): binaries from the
// project's Nix environment, data in <state>/postgres, socket in a short runtime dir, TCP on
// 127.0.0.1 at the project's own port. What is its own: postmaster.pid in the data dir judged
// against /proc and the owner marker, initdb with the TCP password, the databases, the seed, and
// PostgreSQL's shutdown modes as its stop ladder.
import {mkdirSync, readdirSync, realpathSync, renameSync, rmSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {ServiceError} from '../errors.js';
import {projectStateDir} from '../paths.js';
import {fileIdentity, readFileOrNull, readMemo, writeMemo} from '../util/fs.js';
import {run, tail} from '../util/run.js';
import {DaemonService, type Judgement, type Tools} from './daemon.js';
import {judge, missingDatabasesQuery, type Owner, parseMajor, parsePidFile, serverArgs, sqlIdent, wantedDatabases} from './postgres-files.js';
import {pgAsk} from './pg-wire.js';
import {groupMembers, isProgram, procAvailable, killGroup, groupAlive, pidAlive, procCwd, type Rung, sleep, waitForExit} from './process.js';
import {realRoot} from './account.js';
import type {PostgresLayout} from './registry.js';
import {appendLog, MARKER_FILE, readMarker, writeMarker} from './marker.js';
import type {StartOptions, ToolsEnv} from './service.js';

export {whichIn} from './daemon.js';
export const OWNER_FILE = MARKER_FILE;
const POSTGRES_NAMES = ['postgres', 'postmaster'];

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

/** PostgreSQL exits when started by uid 0; say so before anything is created as root. */
export function refuseRoot(uid: number): void {
  if (uid !== 0) return;
  throw new ServiceError(
    'PostgreSQL refuses to run as root (initdb and postgres exit when started by uid 0), so devenv does not start it as root',
    'run devenv as your own, unprivileged user (e.g. runuser -u <user> -- devenv up); the data dir and socket will belong to that user',
  );
}

export class PostgresService extends DaemonService {
  readonly name = 'postgres';
  protected readonly programs = POSTGRES_NAMES;
  protected readonly toolNames = ['postgres', 'initdb', 'psql'];
  protected readonly pidFileLabel = 'postmaster.pid';
  protected readonly stateLabel = 'data dir';
  private readonly pg: PostgresLayout;
  private major?: number;

  constructor(private readonly p: PostgresOptions) {
    const l = p.layout;
    super({root: p.root, toolsEnv: p.toolsEnv, section: 'services.postgres', readyTimeoutMs: p.readyTimeoutMs, layout: {port: l.port, dataDir: l.dataDir, logFile: l.logFile, socketDir: l.socketDir, pidFile: join(l.dataDir, 'postmaster.pid'), socket: join(l.socketDir, `.s.PGSQL.${l.port}`)}});
    this.pg = l;
  }

  protected label(): string {
    return this.major ? `PostgreSQL ${this.major}` : 'PostgreSQL';
  }

  protected refuseRoot(): void {
    refuseRoot(0);
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

  /** What postmaster.pid says, checked against /proc and the owner marker; else an orphan by its socket lock. */
  protected judge(): Judgement {
    const text = readFileOrNull(this.l.pidFile);
    const v = judge(
      {root: realRoot(this.o.root), dataDir: this.l.dataDir, realDataDir: this.realDataDir(), pidFile: text === null ? undefined : parsePidFile(text), pidFileText: text, owner: this.owner()},
      // Without /proc the pid file in our marked data dir vouches for the pid; status() then
      // confirms with the server's own socket (a reused pid does not answer there).
      {alive: pidAlive, isPostgres: (pid) => isProgram(pid, POSTGRES_NAMES), cwd: (pid) => (procAvailable() ? procCwd(pid) : this.realDataDir())},
    );
    if (v.kind === 'none') {
      const orphan = this.orphan();
      return orphan ? {state: 'ours', pid: orphan} : {state: 'none'};
    }
    if (v.kind === 'ours') {
      const phase = v.status === 'starting' || v.status === 'stopping' ? v.status : 'ready';
      return {state: 'ours', pid: v.pid, phase: v.status === undefined ? 'starting' : phase, port: v.port};
    }
    return {state: v.kind, pid: v.pid, why: v.why};
  }

  /** Its pid file says ready (or standby) for this pid, and it answers by its protocol. */
  protected async isUp(pid: number): Promise<boolean> {
    const pf = parsePidFile(readFileOrNull(this.l.pidFile) ?? '');
    return pf?.pid === pid && (pf.status === 'ready' || pf.status === 'standby') && this.ping(pf.port);
  }

  /** What pg_isready asks, by the protocol on the socket: does it accept connections? */
  protected async ping(port = this.l.port): Promise<boolean> {
    return (await pgAsk(join(this.l.socketDir, `.s.PGSQL.${port}`), this.pg.user, 'postgres', [], 1000)).up;
  }

  /** With no data dir, only the socket lock of a postmaster can still name it. */
  protected stateDeleted(): boolean {
    return readFileOrNull(join(this.l.dataDir, 'PG_VERSION')) === null;
  }

  protected stopRungs(deleted: boolean): Rung[] {
    // Nothing left to write: an immediate shutdown.
    if (deleted) return [{signal: 'SIGQUIT', waitMs: 10_000}, {signal: 'SIGKILL', waitMs: 5000}];
    // SIGINT is PostgreSQL's fast shutdown (what `pg_ctl stop -m fast` sends): roll back open
    // transactions, checkpoint, exit. Sent directly, so `down` needs no Nix evaluation.
    return [
      {signal: 'SIGINT', waitMs: this.p.stopTimeoutMs ?? 60_000},
      {signal: 'SIGQUIT', waitMs: 10_000, note: 'fast shutdown timed out; sent an immediate shutdown (SIGQUIT)'},
      {signal: 'SIGKILL', waitMs: 5000, note: 'killed the postmaster (SIGKILL)'},
    ];
  }

  protected initialized(): boolean {
    return readFileOrNull(join(this.l.dataDir, 'PG_VERSION')) !== null;
  }

  protected async toolsFound(tools: Tools): Promise<void> {
    this.major = await this.binaryMajor(tools.bin.postgres, tools.env);
  }

  protected async prepare(_tools: Tools, steps: string[]): Promise<void> {
    if (this.major !== this.pg.version) steps.push(`devenv.toml asks for PostgreSQL ${this.pg.version}; the environment's postgres is ${this.major}`);
    this.checkDataDir(this.major!);
  }

  protected command(tools: Tools): {cmd: string; args: string[]; ignored: string[]} {
    return {cmd: tools.bin.postgres, ...serverArgs(this.l, this.p.settings)};
  }

  protected async init(tools: Tools, onProgress?: (m: string) => void): Promise<string[]> {
    onProgress?.(`initializing ${this.l.dataDir} (initdb)`);
    await this.initdb(tools);
    return ['initdb'];
  }

  protected async afterReady(tools: Tools, opts: StartOptions, fresh: boolean): Promise<string[]> {
    const steps = (await this.createDatabases()).map((d) => `created database ${d}`);
    const seed = opts.seedFrom ?? this.p.seed;
    // --seed-from is typed for this start: say when it cannot apply rather than ignore it.
    if (opts.seedFrom && !fresh) steps.push(`not seeded from ${opts.seedFrom}: the database already has data (seeding is for its first start; remove ${this.l.dataDir} to start again from a copy)`);
    if (seed && fresh) {
      // A half-seeded cluster must not pass for a seeded one next time: start again empty.
      this.dropDataOnFailure = true;
      steps.push(...(await this.seedFrom(tools, seed)));
      this.dropDataOnFailure = false;
    }
    return steps;
  }

  /** After a crash: wait for (then kill) what is left of the old server, drop its pid file. */
  protected async clearStale(j: Judgement & {state: 'stale'}): Promise<void> {
    if (j.pid) await this.ownLeftovers(j.pid);
    rmSync(this.l.pidFile, {force: true});
  }

  /** Socket and lock files of a dead server; PostgreSQL refuses a lock file whose pid is alive again. */
  protected cleanSocket(): void {
    let entries: string[] = [];
    try {
      entries = readdirSync(this.l.socketDir);
    } catch {
      return;
    }
    for (const e of entries) if (e.startsWith('.s.PGSQL.')) rmSync(join(this.l.socketDir, e), {force: true});
  }

  /** [services.postgres] is in devenv.toml (or this is a leftover server): say why its env still has no PostgreSQL. */
  protected async missingHint(): Promise<string> {
    const pkg = `postgresql_${this.pg.version}`;
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

  /**
   * The server binary's major version, memoized by its real path, size and mtime: running
   * `postgres --version` on every `up` would cost a process, and execa's import, before the spawn.
   */
  private async binaryMajor(postgres: string, env: NodeJS.ProcessEnv): Promise<number> {
    const id = fileIdentity(postgres);
    const memoFile = join(projectStateDir(this.o.root), 'services', 'postgres-binary.json');
    const memo = id ? readMemo<number>(memoFile, id) : undefined;
    if (typeof memo === 'number') return memo;
    const v = await run(postgres, ['--version'], {env});
    const major = parseMajor(v.stdout);
    if (v.exitCode !== 0 || major === undefined) throw new ServiceError(`${postgres} --version failed: ${tail(v)}`);
    if (id) writeMemo(memoFile, id, major);
    return major;
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

  private async initdb(tools: Tools): Promise<void> {
    const tmp = `${this.l.dataDir}.initdb-tmp`;
    rmSync(tmp, {recursive: true, force: true});
    mkdirSync(dirname(this.l.dataDir), {recursive: true});
    // Into a temp dir, then rename: an interrupted initdb never leaves a half cluster in place.
    const r = await run(tools.bin.initdb, ['-D', tmp, '-U', this.pg.user, '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${this.pg.passwordFile}`, '--no-locale', '-E', 'UTF8'], {env: tools.env});
    appendLog(this.l.logFile, `--- devenv: initdb (${new Date().toISOString()})\n${r.all}\n`);
    if (r.exitCode !== 0) {
      rmSync(tmp, {recursive: true, force: true});
      throw new ServiceError(`initdb failed (exit code ${r.exitCode}):\n    ${tail(r)}`, "fix the cause above, then run 'devenv up' again");
    }
    writeMarker(tmp, this.o.root, this.name);
    rmSync(this.l.dataDir, {recursive: true, force: true}); // empty (checkDataDir), or only our marker
    renameSync(tmp, this.l.dataDir);
  }

  /** Create the databases from devenv.toml (and PGDATABASE's) that do not exist yet. */
  private async createDatabases(): Promise<string[]> {
    const wanted = wantedDatabases(this.p.databases, this.pg.database);
    if (!wanted.length) return [];
    const ask = (sql: string) => pgAsk(this.l.socket, this.pg.user, 'postgres', [sql]);
    const q = await ask(missingDatabasesQuery(wanted));
    if (q.error || !q.up) throw new ServiceError(`could not list databases: ${q.error?.message ?? 'no answer on its socket'}`);
    const missing = q.rows.map((r) => r[0] ?? '').filter(Boolean);
    for (const d of missing) {
      const c = await ask(`CREATE DATABASE ${sqlIdent(d)}`);
      // 42P04: duplicate_database (created meanwhile).
      if (c.error && c.error.code !== '42P04') throw new ServiceError(`could not create database ${d}: ${c.error.message}`);
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
  private async seedFrom(tools: Tools, seed: string): Promise<string[]> {
    const {resolveSeedSource, pipe} = await import('./seed.js');
    const {devSocketDir} = await import('./instance.js');
    const {findPort} = await import('./ports.js');
    const notes: string[] = [];
    const src = await resolveSeedSource(this.o.root, seed, (m) => notes.push(m));
    if (!src) return notes;
    const port = findPort(src, 'postgres');
    const sock = devSocketDir(src, 'postgres');
    const up = port && (await pgAsk(join(sock, `.s.PGSQL.${port}`), this.pg.user, 'postgres')).up;
    if (!up) throw new ServiceError(`cannot seed from ${src}: its PostgreSQL is not running`, `start it there ('devenv up -d' in ${src}), then run 'devenv up' here again`);
    const bin = dirname(tools.bin.psql);
    const steps: string[] = [];
    for (const d of wantedDatabases(this.p.databases, this.pg.database)) {
      await pipe(
        {cmd: join(bin, 'pg_dump'), args: ['-h', sock, '-p', String(port), '-U', this.pg.user, '-d', d, '--no-owner', '--no-privileges']},
        {cmd: tools.bin.psql, args: ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', this.l.socketDir, '-p', String(this.l.port), '-U', this.pg.user, '-d', d]},
        tools.env,
      ).catch((e) => {
        throw new ServiceError(`seeding database ${d} from ${src} failed: ${(e as Error).message}`, `fix the cause, then run 'devenv up' again (the fresh cluster was removed)`);
      });
      steps.push(`seeded database ${d} from ${src}`);
    }
    return steps;
  }

  /** Processes of the server's group that still work in our data dir: given a moment, then SIGKILL. */
  private async ownLeftovers(pgid: number): Promise<number> {
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
}
