// The service registry: every kind of server devenv runs per checkout (PostgreSQL, Redis,
// MariaDB/MySQL) described along one interface: its devenv.toml section, the nixpkgs packages
// it needs, where its files and port are (its layout), the variables that make the plain
// clients reach it, and how to build its Service. User processes and tasks are built here too,
// so `up` sees the whole project as one graph.
import {mkdirSync} from 'node:fs';
import {dirname, join} from 'node:path';
import type {CaddyConfig, Manifest, MysqlConfig, ProcessConfig, RedisConfig, ServiceName, TaskConfig} from '../manifest/model.js';
import {DEFAULT_POSTGRES, serviceEnabled} from '../manifest/model.js';
import {portVar} from '../manifest/port-vars.js';
import type {Project} from '../project/project.js';
import {readFileOrNull, writeFileAtomic} from '../util/fs.js';
import {projectPassword, userName} from './account.js';
import {caddyEnv, type CaddyLayout, CaddyService, checkoutLabel, dnsLabel} from './caddy.js';
import {MysqlService, type MysqlLayout, mysqlEnv} from './mysql.js';
import {projectPort} from './ports.js';
import {type RedisLayout, RedisService, redisEnv} from './redis.js';
import type {Service, ToolsEnv} from './service.js';
import {MEMCACHED} from './memcached.js';
import {MOSQUITTO} from './mosquitto.js';
import {NATS} from './nats.js';
import {RABBITMQ} from './rabbitmq.js';

export type {ServiceName} from '../manifest/model.js';

export interface ServiceDefinition<L> {
  name: ServiceName;
  /** Its devenv.toml section, for messages. */
  section: string;
  enabled(m: Manifest): boolean;
  /** nixpkgs attributes it needs in the environment. */
  packages(m: Manifest): string[];
  layout(p: Project, m: Manifest): Promise<L>;
  /**
   * Variables that let the plain clients (psql, redis-cli, mysql) reach this checkout's server:
   * exactly the names of SERVICE_VARS[name], which [env] may not set while the service is on.
   * A name two services set (DATABASE_URL) is the one of the first in SERVICES.
   */
  env(l: L): Record<string, string>;
  /** The layout of a server still running after its section left devenv.toml (`down` stops it). */
  leftover?(p: Project): L;
  /** `cfg` is its devenv.toml section (databases, settings, seed). */
  create(p: Project, l: L, toolsEnv: () => Promise<ToolsEnv>, cfg: Record<string, unknown>): Service;
}

/** A fixed port from devenv.toml is the port, for devenv test too: its tests connect there. */
const portFor = (p: Project, name: string, fixed: number | undefined): number => fixed ?? projectPort(p.layout.portKey, name);

export function redisLayout(p: Project, cfg: RedisConfig): RedisLayout {
  const state = p.layout.serviceState;
  const sock = p.layout.socketDir('redis');
  const passwordFile = redisPasswordFile(p);
  return {port: portFor(p, 'redis', cfg.port), dataDir: join(state, 'redis'), logFile: join(state, 'redis.log'), socketDir: sock, socket: join(sock, 'redis.sock'), pidFile: join(sock, 'redis.pid'), settings: cfg.settings, passwordFile, password: projectPassword(passwordFile)};
}

/** Redis's requirepass, one per checkout (shared by its `devenv test` instances), in the user's state dir. */
export const redisPasswordFile = (p: Project): string => join(p.stateDir, 'redis.password');

export function mysqlLayout(p: Project, m: Manifest, cfg: MysqlConfig): MysqlLayout {
  const state = p.layout.serviceState;
  const sock = p.layout.socketDir('mysql');
  const own = p.stateDir;
  const database = cfg.databases?.[0] ?? (m.name ? m.name.replace(/[^A-Za-z0-9_]/g, '_') : 'app');
  const databases = [...new Set([...(cfg.databases ?? []), database])];
  return {
    port: portFor(p, 'mysql', cfg.port),
    dataDir: join(state, 'mysql'),
    logFile: join(state, 'mysql.log'),
    socketDir: sock,
    socket: join(sock, 'mysqld.sock'),
    pidFile: join(sock, 'mysqld.pid'),
    user: userName(),
    password: projectPassword(join(own, 'mysql.password')),
    database,
    databases,
    home: join(own, p.layout.own('mysql-home')),
    settings: cfg.settings,
  };
}

export interface PostgresLayout {
  port: number;
  dataDir: string;
  socketDir: string;
  logFile: string;
  user: string;
  database: string;
  version: number;
  /** Password for TCP connections (scram-sha-256); the socket, private to the user, needs none. */
  passwordFile: string;
  password: string;
  /** libpq's password file (PGPASSFILE) for this server's TCP address: a plain postgres://localhost/<db> connects. */
  pgpassFile: string;
}

/** A field of a .pgpass line (':' and '\\' are escaped there). */
const pgpassField = (s: string): string => s.replace(/[\\:]/g, (c) => '\\' + c);

/**
 * Entries for this server only (localhost, which also covers the socket, and 127.0.0.1 at its
 * port), never `*`: the password is not offered to any other server the developer connects to.
 */
export function writePgpass(file: string, port: number, user: string, password: string): void {
  const body = ['localhost', '127.0.0.1'].map((h) => [h, String(port), '*', user, password].map(pgpassField).join(':')).join('\n') + '\n';
  if (readFileOrNull(file) !== body) writeFileAtomic(file, body, 0o600);
}

/** `manifest`, when the caller has parsed devenv.toml already (it is read otherwise). */
export async function postgresLayout(p: Project, manifest?: Manifest): Promise<PostgresLayout | undefined> {
  const m = manifest ?? (await import('../project/manifest.js')).manifestOf(p)?.manifest;
  if (!m || !POSTGRES.enabled(m)) return undefined;
  const pg = m.services!.postgres!;
  const passwordFile = join(p.stateDir, 'postgres.password');
  const state = p.layout.serviceState;
  const password = projectPassword(passwordFile);
  const port = portFor(p, 'postgres', pg.port);
  // Secrets stay out of the checkout; a throwaway instance's goes with its temp state dir.
  const pgpassFile = p.instance.tag ? join(state, 'pgpass') : join(p.stateDir, 'pgpass');
  mkdirSync(dirname(pgpassFile), {recursive: true, mode: 0o700});
  writePgpass(pgpassFile, port, userName(), password);
  return {
    passwordFile,
    password,
    pgpassFile,
    port,
    dataDir: join(state, 'postgres'),
    socketDir: p.layout.socketDir('postgres'),
    logFile: join(state, 'postgres.log'),
    user: userName(),
    database: pg.databases?.[0] ?? m.name ?? 'postgres',
    version: pg.version ?? DEFAULT_POSTGRES,
  };
}

export function postgresEnv(l: PostgresLayout): Record<string, string> {
  return {
    PGHOST: l.socketDir,
    PGPORT: String(l.port),
    PGDATA: l.dataDir,
    PGUSER: l.user,
    PGDATABASE: l.database,
    PGPASSFILE: l.pgpassFile,
    DATABASE_URL: `postgresql://${encodeURIComponent(l.user)}:${encodeURIComponent(l.password)}@127.0.0.1:${l.port}/${encodeURIComponent(l.database)}`,
  };
}

/** The front door: its port, the checkout's label, a host per process with a port, `routes`. */
export function caddyLayout(p: Project, m: Manifest, cfg: CaddyConfig): CaddyLayout {
  const state = p.layout.serviceState;
  const sock = p.layout.socketDir('caddy');
  const ports = new Map<string, number>();
  for (const [name, proc] of Object.entries(m.processes ?? {})) {
    const port = processPort(p, name, proc);
    if (port) ports.set(name, port);
  }
  const routes = Object.entries(cfg.routes ?? {})
    .filter(([, proc]) => ports.has(proc))
    .map(([path, proc]) => ({path: path.length > 1 ? path.replace(/\/+$/, '') : path, process: proc, port: ports.get(proc)!}))
    .sort((a, b) => b.path.length - a.path.length);
  return {
    port: portFor(p, 'caddy', cfg.port),
    dataDir: join(state, 'caddy'),
    logFile: join(state, 'caddy.log'),
    socketDir: sock,
    socket: join(sock, 'admin.sock'),
    pidFile: join(sock, 'caddy.pid'),
    configFile: join(state, 'caddy', 'caddy.json'),
    label: checkoutLabel(p.real),
    hosts: [...ports].map(([name, port]) => ({name, host: dnsLabel(name), port})),
    routes,
  };
}

export const POSTGRES: ServiceDefinition<PostgresLayout> = {
  name: 'postgres',
  section: 'services.postgres',
  enabled: (m) => serviceEnabled(m.services?.postgres),
  packages: (m) => [`postgresql_${m.services?.postgres?.version ?? 15}`],
  layout: async (p, m) => (await postgresLayout(p, m))!,
  env: postgresEnv,
  create: (p, layout, toolsEnv, cfg) => {
    // Lazy: the PostgreSQL module is large and most commands never start it.
    const holder: {svc?: Service} = {};
    return lazyService('postgres', layout.logFile, async () => {
      if (!holder.svc) {
        const {PostgresService} = await import('./postgres.js');
        holder.svc = new PostgresService({root: p.root, layout, toolsEnv, databases: cfg.databases as string[] | undefined, settings: cfg.settings as Record<string, string> | undefined, seed: cfg.seed as string | undefined});
      }
      return holder.svc;
    });
  },
};

export const REDIS: ServiceDefinition<RedisLayout> = {
  name: 'redis',
  section: 'services.redis',
  enabled: (m) => serviceEnabled(m.services?.redis),
  packages: () => ['redis'],
  layout: async (p, m) => redisLayout(p, m.services!.redis!),
  env: redisEnv,
  create: (p, layout, toolsEnv) => new RedisService({root: p.root, layout, toolsEnv, section: 'services.redis'}),
};

export const MYSQL: ServiceDefinition<MysqlLayout> = {
  name: 'mysql',
  section: 'services.mysql',
  enabled: (m) => serviceEnabled(m.services?.mysql),
  packages: () => ['mariadb'],
  layout: async (p, m) => mysqlLayout(p, m, m.services!.mysql!),
  // The database URL too when PostgreSQL, first in SERVICES, does not set it.
  env: (l) => {
    const e = mysqlEnv(l);
    return {...e, DATABASE_URL: e.MYSQL_URL};
  },
  create: (p, layout, toolsEnv, cfg) => new MysqlService({root: p.root, layout, toolsEnv, section: 'services.mysql'}, cfg.seed as string | undefined),
};

export const CADDY: ServiceDefinition<CaddyLayout> = {
  name: 'caddy',
  section: 'services.caddy',
  enabled: (m) => serviceEnabled(m.services?.caddy),
  packages: () => ['caddy'],
  layout: async (p, m) => caddyLayout(p, m, m.services!.caddy!),
  env: caddyEnv,
  create: (p, layout, toolsEnv) => new CaddyService({root: p.root, layout, toolsEnv, section: 'services.caddy'}),
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const SERVICES: ServiceDefinition<any>[] = [POSTGRES, REDIS, MYSQL, CADDY, MEMCACHED, MOSQUITTO, NATS, RABBITMQ];

/** A Service whose implementation is loaded on first use. */
function lazyService(name: string, logFile: string, load: () => Promise<Service>): Service {
  return {
    name,
    logFile,
    start: async (o) => (await load()).start(o),
    stop: async (why) => (await load()).stop(why),
    status: async () => ({...(await (await load()).status()), kind: 'service'}),
    ready: async () => (await load()).ready(),
  };
}

export {portVar};

export function processPort(project: Project, name: string, p: ProcessConfig): number | undefined {
  if (p.port === undefined) return undefined;
  return p.port === 'auto' ? projectPort(project.layout.portKey, `process:${name}`) : p.port;
}

/**
 * What the project's services and processes contribute to its environment: each enabled
 * service's client variables (a name two set, DATABASE_URL, from the first in SERVICES), the
 * redis-cli wrapper's directory and every process's <NAME>_PORT.
 */
export async function serviceVariables(p: Project, m: Manifest): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const d of SERVICES) {
    if (!d.enabled(m)) continue;
    for (const [k, v] of Object.entries(d.env(await d.layout(p, m)))) if (!(k in env)) env[k] = v;
  }
  if (REDIS.enabled(m)) env.DEVENV_SERVICE_BIN = writeClientWrappers(p);
  for (const [name, proc] of Object.entries(m.processes ?? {})) {
    const port = processPort(p, name, proc);
    if (port) env[portVar(name)] = String(port);
  }
  return env;
}

/**
 * redis-cli reads no variable for its port, so a small wrapper, first on the project's PATH,
 * adds -p $REDIS_PORT and the checkout's password (REDISCLI_AUTH, from its 0600 file: never on
 * a command line). When the user names a server (-h, -p, -s, -u) or a password (-a, --user,
 * --pass, --askpass), the arguments go through untouched: the password is never offered to
 * another server.
 */
export function writeClientWrappers(p: Project): string {
  const bin = join(p.stateDir, 'bin');
  const file = join(bin, 'redis-cli');
  const pwFile = redisPasswordFile(p).replace(/'/g, `'\\''`);
  const body = [
    '#!/bin/sh',
    "# Written by devenv: redis-cli reaches this checkout's Redis ($REDIS_PORT) with no arguments.",
    'self=$(dirname "$0")',
    'own=1',
    'for a in "$@"; do',
    '  case $a in -h|-p|-s|-u|-a|--user|--pass|--askpass|-h?*|-p?*|-s?*|-u?*|-a?*) own=0 ;; esac',
    'done',
    'IFS=:',
    'for d in $PATH; do',
    '  [ "$d" = "$self" ] && continue',
    '  if [ -x "$d/redis-cli" ]; then',
    '    unset IFS',
    '    [ $own = 1 ] || exec "$d/redis-cli" "$@"',
    `    if [ -z "\${REDISCLI_AUTH:-}" ] && [ -r '${pwFile}' ]; then REDISCLI_AUTH=$(cat '${pwFile}'); export REDISCLI_AUTH; fi`,
    '    exec "$d/redis-cli" -p "${REDIS_PORT:-6379}" "$@"',
    '  fi',
    'done',
    'echo "redis-cli: not found on PATH (is redis in this project\'s environment?)" >&2',
    'exit 127',
    '',
  ].join('\n');
  if (readFileOrNull(file) !== body) {
    mkdirSync(bin, {recursive: true, mode: 0o700});
    writeFileAtomic(file, body, 0o755);
  }
  return bin;
}

export type {ProcessConfig, TaskConfig};
