// MariaDB/MySQL as a per-project service: data in <state>/mysql, TCP on 127.0.0.1 at the
// checkout's own port, a private socket, a user named after you (socket auth; a per-checkout
// password over TCP) and the databases devenv.toml lists. The plain clients find it through
// MYSQL_HOME/my.cnf, which devenv writes into your state dir (it holds the password).
import {existsSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {ServiceError} from '../errors.js';
import {writeFileAtomic} from '../util/fs.js';
import {DaemonService, type DaemonLayout, type DaemonOptions, type Tools} from './daemon.js';
import {createConnection} from 'node:net';
import {appendLog, readMarker, writeMarker} from './marker.js';
import {run, type RunResult, tail} from '../util/run.js';
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

/** The clients' own variables would send them over TCP (MYSQL_HOST), where this user has a password. */
function socketEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = {...env};
  for (const k of ['MYSQL_HOST', 'MYSQL_TCP_PORT', 'MYSQL_PORT', 'MYSQL_HOME', 'MYSQL_PWD']) delete out[k];
  return out;
}

/**
 * MYSQL_PWD and MYSQL_PORT are what the mariadb/mysql clients and most drivers' test suites read
 * (node-mysql2's among them); MYSQL_TCP_PORT is the clients' own name for the port.
 */
export function mysqlEnv(l: MysqlLayout): Record<string, string> {
  return {
    MYSQL_HOST: '127.0.0.1',
    MYSQL_TCP_PORT: String(l.port),
    MYSQL_PORT: String(l.port),
    MYSQL_PWD: l.password,
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

/** A client protocol packet: 3-byte little-endian length, sequence id, payload. */
const packet = (seq: number, payload: Buffer): Buffer => Buffer.concat([Buffer.from([payload.length & 0xff, (payload.length >> 8) & 0xff, payload.length >> 16, seq]), payload]);

/**
 * Is the server alive: does it send its handshake (protocol version 10) on the socket? A client
 * that then hangs up unauthenticated costs an "Aborted connection" warning in the server's log
 * at every check, so the probe logs in as `user` (socket auth, no password) and says COM_QUIT.
 */
export function mysqlProbe(path: string, user: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let alive = false;
    let sentLogin = false;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(t);
      s.destroy();
      resolve(alive);
    };
    const s = createConnection(path);
    const t = setTimeout(finish, timeoutMs);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 4) return;
      const len = buf[0] | (buf[1] << 8) | (buf[2] << 16);
      if (buf.length < 4 + len) return;
      const body = buf.subarray(4, 4 + len);
      buf = buf.subarray(4 + len);
      if (!sentLogin) {
        if (body[0] !== 10) return finish();
        alive = true;
        sentLogin = true;
        // HandshakeResponse41: LONG_PASSWORD | PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH, an empty
        // mysql_native_password answer; the account's unix_socket alternative then lets us in.
        const caps = Buffer.alloc(4);
        caps.writeUInt32LE(0x1 | 0x200 | 0x8000 | 0x80000);
        const max = Buffer.alloc(4);
        max.writeUInt32LE(1 << 24);
        const login = Buffer.concat([caps, max, Buffer.from([33]), Buffer.alloc(23), Buffer.from(user + '\0'), Buffer.from([0]), Buffer.from('mysql_native_password\0')]);
        s.write(packet(1, login));
        return;
      }
      // OK: a clean goodbye (COM_QUIT), which the server does not log. Anything else: hang up.
      if (body[0] === 0) s.end(packet(0, Buffer.from([1])), finish);
      else finish();
    });
    s.once('error', finish);
    s.once('close', finish);
  });
}

export class MysqlService extends DaemonService {
  readonly name = 'mysql';
  protected readonly programs = ['mariadbd', 'mysqld'];
  protected readonly toolNames = ['mariadbd', 'mariadb-install-db', 'mariadb', 'mariadb-dump'];
  private readonly m: MysqlLayout;

  constructor(o: DaemonOptions & {layout: MysqlLayout}, private readonly seed?: string) {
    super(o);
    this.m = o.layout;
  }

  protected ping(): Promise<boolean> {
    return mysqlProbe(this.l.socket, this.m.user);
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
    const r = await run(tools.bin['mariadb-install-db'], ['--no-defaults', `--datadir=${tmp}`, `--basedir=${basedir}`, '--auth-root-authentication-method=socket', `--auth-root-socket-user=${this.m.user}`, '--skip-test-db', '--skip-name-resolve'], {env: tools.env});
    appendLog(this.l.logFile, `--- devenv: mariadb-install-db (${new Date().toISOString()})\n${r.all}\n`);
    if (r.exitCode !== 0) {
      rmSync(tmp, {recursive: true, force: true});
      throw new ServiceError(`mariadb-install-db failed (exit code ${r.exitCode}):\n    ${tail(r)}`, "fix the cause above, then run 'devenv up' again");
    }
    const created = readMarker(this.l.dataDir)?.createdAt;
    writeMarker(tmp, this.o.root, this.name, created);
    // Only our marker can be in the empty data dir: replace it whole.
    if (readdirSync(this.l.dataDir).length <= 1) rmSync(this.l.dataDir, {recursive: true, force: true});
    renameSync(tmp, this.l.dataDir);
    return ['mariadb-install-db'];
  }

  protected command(tools: Tools): {cmd: string; args: string[]} {
    return {cmd: tools.bin.mariadbd, args: mysqlArgs(this.m)};
  }

  /** SQL as this user over the socket (socket auth, no password), on stdin: never on a command line. */
  async sql(tools: Tools, statement: string): Promise<RunResult> {
    return run(tools.bin.mariadb, ['--no-defaults', '--protocol=SOCKET', '-h', 'localhost', '-S', this.l.socket, '-u', this.m.user, '-N', '-B'], {env: socketEnv(tools.env), input: statement + ';\n'});
  }

  protected async afterReady(tools: Tools, opts: StartOptions, fresh: boolean): Promise<string[]> {
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
    if (opts.seedFrom && !fresh) steps.push(`not seeded from ${opts.seedFrom}: the databases already have data (seeding is for the first start; remove ${this.l.dataDir} to start again from a copy)`);
    if (seed && fresh) {
      try {
        steps.push(...(await this.seedFrom(tools, seed)));
      } catch (e) {
        // Not half-seeded next time: the fresh data dir goes (the engine stops the server).
        this.dropDataOnFailure = true;
        throw e;
      }
    }
    return steps;
  }

  /** Copy the source checkout's databases (mariadb-dump --single-transaction | mariadb), the source running. */
  private async seedFrom(tools: Tools, seed: string): Promise<string[]> {
    const {resolveSeedSource, pipe} = await import('./seed.js');
    const {devSocketDir} = await import('./instance.js');
    const notes: string[] = [];
    const src = await resolveSeedSource(this.o.root, seed, (m) => notes.push(m));
    if (!src) return notes;
    const sock = join(devSocketDir(src, 'mysql'), 'mysqld.sock');
    if (!(await mysqlProbe(sock, this.m.user))) {
      throw new ServiceError(`cannot seed from ${src}: its MariaDB is not running`, `start it there ('devenv up -d' in ${src}), then run 'devenv up' here again`);
    }
    const env = socketEnv(tools.env);
    const client = ['--no-defaults', '--protocol=SOCKET', '-h', 'localhost', '-u', this.m.user];
    await pipe({cmd: tools.bin['mariadb-dump'], args: [...client, '-S', sock, '--single-transaction', '--databases', ...this.m.databases]}, {cmd: tools.bin.mariadb, args: [...client, '-S', this.l.socket]}, env).catch((e) => {
      throw new ServiceError(`seeding MariaDB from ${src} failed: ${(e as Error).message}`, "fix the cause, then run 'devenv up' again (the fresh data dir was removed)");
    });
    return [`seeded databases ${this.m.databases.join(', ')} from ${src}`];
  }
}
