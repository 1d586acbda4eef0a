// MariaDB/MySQL as a per-project service: data in <state>/mysql, TCP on 127.0.0.1 at the
// checkout's own port, a private socket, a user named after you (socket auth; a per-checkout
// password over TCP) and the databases devenv.toml lists. The plain clients find it through
// MYSQL_HOME/my.cnf, which devenv writes into your state dir (it holds the password).
import {existsSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {ServiceError} from '../errors.js';
import {writeFileAtomic} from '../util/fs.js';
import {DaemonService, type DaemonLayout, type DaemonOptions, socketProbe, type Tools} from './daemon.js';
import {appendLog, readMarker, writeMarker} from './marker.js';
import {runTool} from './process.js';
import type {StartOptions} from './service.js';

export interface MysqlLayout extends DaemonLayout {
  user: string;
  password: string;
  database: string;
  databases: string[];
  /** Dir holding my.cnf for the clients (MYSQL_HOME). */
  home: string;
  settings?: Record<string, string | number | boolean>;
}

const MANAGED = ['datadir', 'socket', 'port', 'bind-address', 'pid-file', 'basedir', 'skip-name-resolve', 'user'];
const ident = (s: string): string => '`' + s.replace(/`/g, '``') + '`';
const literal = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function mysqlArgs(l: MysqlLayout): string[] {
  const args = ['--no-defaults', `--datadir=${l.dataDir}`, `--socket=${l.socket}`, `--port=${l.port}`, '--bind-address=127.0.0.1', '--skip-name-resolve', `--pid-file=${l.pidFile}`];
  for (const [k, v] of Object.entries(l.settings ?? {})) if (!MANAGED.includes(k)) args.push(`--${k}=${typeof v === 'boolean' ? (v ? 'ON' : 'OFF') : String(v)}`);
  return args;
}

export function mysqlEnv(l: MysqlLayout): Record<string, string> {
  return {
    MYSQL_HOST: '127.0.0.1',
    MYSQL_TCP_PORT: String(l.port),
    MYSQL_UNIX_PORT: l.socket,
    MYSQL_HOME: l.home,
    MYSQL_USER: l.user,
    MYSQL_DATABASE: l.database,
    MYSQL_URL: `mysql://${encodeURIComponent(l.user)}:${encodeURIComponent(l.password)}@127.0.0.1:${l.port}/${encodeURIComponent(l.database)}`,
  };
}

/** my.cnf for the clients: `mysql` with no arguments reaches this checkout's server. */
export function writeClientConfig(l: MysqlLayout): void {
  mkdirSync(l.home, {recursive: true, mode: 0o700});
  const body = ['# Written by devenv: the clients of this checkout reach its own server.', '[client]', `user=${l.user}`, `password=${l.password}`, `port=${l.port}`, `socket=${l.socket}`, 'host=127.0.0.1', '', '[mysql]', `database=${l.database}`, ''].join('\n');
  writeFileAtomic(join(l.home, 'my.cnf'), body, 0o600);
}

export class MysqlService extends DaemonService {
  readonly name = 'mysql';
  protected readonly programs = ['mariadbd', 'mysqld'];
  protected readonly toolNames = ['mariadbd', 'mariadb-install-db', 'mariadb', 'mariadb-dump'];
  private readonly m: MysqlLayout;

  private fresh = false;

  constructor(o: DaemonOptions & {layout: MysqlLayout}, private readonly seed?: string) {
    super(o);
    this.m = o.layout;
  }

  protected ping(): Promise<boolean> {
    // The server speaks first: a handshake packet whose protocol version byte is 10.
    return socketProbe(this.l.socket, undefined, (b) => b.length >= 5 && b[4] === 10);
  }

  protected initialized(): boolean {
    return existsSync(join(this.l.dataDir, 'mysql')) && !!readMarker(this.l.dataDir);
  }

  protected async init(tools: Tools): Promise<string[]> {
    const tmp = `${this.l.dataDir}.init-tmp`;
    rmSync(tmp, {recursive: true, force: true});
    mkdirSync(dirname(tmp), {recursive: true});
    // The install script finds share/ and the server relative to --basedir.
    const basedir = dirname(dirname(realpathSync(tools.bin.mariadbd)));
    const r = await runTool(tools.bin['mariadb-install-db'], ['--no-defaults', `--datadir=${tmp}`, `--basedir=${basedir}`, '--auth-root-authentication-method=socket', '--skip-test-db', '--skip-name-resolve'], tools.env);
    appendLog(this.l.logFile, `--- devenv: mariadb-install-db (${new Date().toISOString()})\n${r.stdout}${r.stderr}\n`);
    if (r.exitCode !== 0) {
      rmSync(tmp, {recursive: true, force: true});
      throw new ServiceError(`mariadb-install-db failed (exit code ${r.exitCode}):\n    ${(r.stderr || r.stdout).trim().split('\n').slice(-8).join('\n    ')}`, "fix the cause above, then run 'devenv up' again");
    }
    const created = readMarker(this.l.dataDir)?.createdAt;
    writeMarker(tmp, this.o.root, this.name, created);
    // Only our marker can be in the empty data dir: replace it whole.
    if (readdirSync(this.l.dataDir).length <= 1) rmSync(this.l.dataDir, {recursive: true, force: true});
    renameSync(tmp, this.l.dataDir);
    this.fresh = true;
    return ['mariadb-install-db'];
  }

  protected command(tools: Tools): {cmd: string; args: string[]} {
    return {cmd: tools.bin.mariadbd, args: mysqlArgs(this.m)};
  }

  /** SQL as this user over the socket (socket auth, no password). */
  async sql(tools: Tools, statement: string): Promise<{exitCode: number; stdout: string; stderr: string}> {
    // The clients' own variables (MYSQL_HOST=127.0.0.1) would send it over TCP, where this user has a password.
    const env = {...tools.env};
    for (const k of ['MYSQL_HOST', 'MYSQL_TCP_PORT', 'MYSQL_HOME', 'MYSQL_PWD']) delete env[k];
    return runTool(tools.bin.mariadb, ['--no-defaults', '--protocol=SOCKET', '-h', 'localhost', '-S', this.l.socket, '-u', this.m.user, '-N', '-B', '-e', statement], env);
  }

  protected async afterReady(tools: Tools, opts: StartOptions): Promise<string[]> {
    const steps: string[] = [];
    writeClientConfig(this.m);
    const have = await this.sql(tools, 'SHOW DATABASES');
    if (have.exitCode !== 0) throw new ServiceError(`could not list MariaDB databases: ${have.stderr.trim()}`);
    const existing = new Set(have.stdout.split('\n').map((s) => s.trim()));
    const missing = this.m.databases.filter((d) => !existing.has(d));
    const u = `${literal(this.m.user)}@'127.0.0.1'`;
    const stmts = [
      ...missing.map((d) => `CREATE DATABASE IF NOT EXISTS ${ident(d)}`),
      `CREATE USER IF NOT EXISTS ${u} IDENTIFIED BY ${literal(this.m.password)}`,
      `ALTER USER ${u} IDENTIFIED BY ${literal(this.m.password)}`,
      `GRANT ALL PRIVILEGES ON *.* TO ${u} WITH GRANT OPTION`,
    ];
    const r = await this.sql(tools, stmts.join('; '));
    if (r.exitCode !== 0) throw new ServiceError(`could not set up MariaDB's databases and user: ${r.stderr.trim()}`);
    for (const d of missing) steps.push(`created database ${d}`);
    const seed = opts.seedFrom ?? this.seed;
    if (opts.seedFrom && !this.fresh) steps.push(`not seeded from ${opts.seedFrom}: the databases already have data (seeding is for the first start; remove ${this.l.dataDir} to start again from a copy)`);
    if (seed && this.fresh) {
      try {
        steps.push(...(await this.seedFrom(tools, seed)));
      } catch (e) {
        // Not half-seeded next time: the fresh data dir goes (the caller stops the server).
        this.dropOnStop = true;
        throw e;
      }
    }
    return steps;
  }

  private dropOnStop = false;

  protected afterFailedSetup(): void {
    if (this.dropOnStop) rmSync(this.l.dataDir, {recursive: true, force: true});
  }

  /** Copy the source checkout's databases (mariadb-dump --single-transaction | mariadb), the source running. */
  private async seedFrom(tools: Tools, seed: string): Promise<string[]> {
    const {resolveSeedSource, pipe} = await import('./seed.js');
    const {devSocketDir} = await import('./instance.js');
    const notes: string[] = [];
    const src = resolveSeedSource(this.o.root, seed, (m) => notes.push(m));
    if (!src) return notes;
    const sock = join(devSocketDir(src, 'mysql'), 'mysqld.sock');
    if (!(await socketProbe(sock, undefined, (b) => b.length >= 5 && b[4] === 10))) {
      throw new ServiceError(`cannot seed from ${src}: its MariaDB is not running`, `start it there ('devenv up -d' in ${src}), then run 'devenv up' here again`);
    }
    const env = {...tools.env};
    for (const k of ['MYSQL_HOST', 'MYSQL_TCP_PORT', 'MYSQL_HOME', 'MYSQL_PWD']) delete env[k];
    const client = ['--no-defaults', '--protocol=SOCKET', '-h', 'localhost', '-u', this.m.user];
    await pipe({cmd: tools.bin['mariadb-dump'], args: [...client, '-S', sock, '--single-transaction', '--databases', ...this.m.databases]}, {cmd: tools.bin.mariadb, args: [...client, '-S', this.l.socket]}, env).catch((e) => {
      throw new ServiceError(`seeding MariaDB from ${src} failed: ${(e as Error).message}`, "fix the cause, then run 'devenv up' again (the fresh data dir was removed)");
    });
    return [`seeded databases ${this.m.databases.join(', ')} from ${src}`];
  }
}
