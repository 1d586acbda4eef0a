// The service registry: every kind of server devenv runs per checkout (PostgreSQL, Redis,
// MariaDB/MySQL) described along one interface: its devenv.toml section, the nixpkgs packages
// it needs, where its files and port are (its layout), the variables that make the plain
// clients reach it, and how to build its Service. User processes and tasks are built here too,
// so `up` sees the whole project as one graph.
import {join} from 'node:path';
import type {CaddyConfig, Manifest, MysqlConfig, ProcessConfig, RedisConfig, TaskConfig} from '../manifest/model.js';
import {serviceEnabled} from '../manifest/model.js';
import {portVar} from '../manifest/port-vars.js';
import {projectStateDir} from '../paths.js';
import {mkdirSync} from 'node:fs';
import {readFileOrNull, realPath, writeFileAtomic} from '../util/fs.js';
import {instance, portKey, serviceStateDir, socketDir} from './instance.js';
import {caddyEnv, type CaddyLayout, CaddyService, checkoutLabel, dnsLabel} from './caddy.js';
import {MysqlService, type MysqlLayout, mysqlEnv} from './mysql.js';
import {projectPort} from './ports.js';
import {type PostgresLayout, postgresEnv, postgresLayout, projectPassword, realRoot, userName} from './project-env.js';
import {type RedisLayout, RedisService, redisEnv} from './redis.js';
import type {Service, ToolsEnv} from './service.js';

export type ServiceName = 'postgres' | 'redis' | 'mysql' | 'caddy';

export interface ServiceDefinition<L> {
  name: ServiceName;
  /** Its devenv.toml section, for messages. */
  section: string;
  enabled(m: Manifest): boolean;
  /** nixpkgs attributes it needs in the environment. */
  packages(m: Manifest): string[];
  layout(root: string, m: Manifest): Promise<L>;
  /** Variables that let the plain clients (psql, redis-cli, mysql) reach this checkout's server. */
  env(l: L): Record<string, string>;
  /** `cfg` is its devenv.toml section (databases, settings, seed). */
  create(root: string, l: L, toolsEnv: () => Promise<ToolsEnv>, cfg: Record<string, unknown>): Service;
}

/** A fixed port from devenv.toml is the port, for devenv test too: its tests connect there. */
const portFor = (root: string, name: string, fixed: number | undefined): number => fixed ?? projectPort(portKey(root), name);

export function redisLayout(root: string, cfg: RedisConfig): RedisLayout {
  const state = serviceStateDir(root);
  const sock = socketDir(root, 'redis');
  const passwordFile = redisPasswordFile(root);
  return {port: portFor(root, 'redis', cfg.port), dataDir: join(state, 'redis'), logFile: join(state, 'redis.log'), socketDir: sock, socket: join(sock, 'redis.sock'), pidFile: join(sock, 'redis.pid'), settings: cfg.settings, passwordFile, password: projectPassword(passwordFile)};
}

/** Redis's requirepass, one per checkout (shared by its `devenv test` instances), in the user's state dir. */
export const redisPasswordFile = (root: string): string => join(projectStateDir(realRoot(root)), 'redis.password');

export function mysqlLayout(root: string, m: Manifest, cfg: MysqlConfig): MysqlLayout {
  const state = serviceStateDir(root);
  const sock = socketDir(root, 'mysql');
  const own = projectStateDir(realRoot(root));
  const database = cfg.databases?.[0] ?? (m.name ? m.name.replace(/[^A-Za-z0-9_]/g, '_') : 'app');
  const databases = [...new Set([...(cfg.databases ?? []), database])];
  return {
    port: portFor(root, 'mysql', cfg.port),
    dataDir: join(state, 'mysql'),
    logFile: join(state, 'mysql.log'),
    socketDir: sock,
    socket: join(sock, 'mysqld.sock'),
    pidFile: join(sock, 'mysqld.pid'),
    user: userName(),
    password: projectPassword(join(own, 'mysql.password')),
    database,
    databases,
    home: join(own, instance().tag ? `mysql-home-${instance().tag}` : 'mysql-home'),
    settings: cfg.settings,
  };
}

/** The front door: its port, the checkout's label, a host per process with a port, `routes`. */
export function caddyLayout(root: string, m: Manifest, cfg: CaddyConfig): CaddyLayout {
  const state = serviceStateDir(root);
  const sock = socketDir(root, 'caddy');
  const ports = new Map<string, number>();
  for (const [name, p] of Object.entries(m.processes ?? {})) {
    const port = processPort(root, name, p);
    if (port) ports.set(name, port);
  }
  const routes = Object.entries(cfg.routes ?? {})
    .filter(([, proc]) => ports.has(proc))
    .map(([path, proc]) => ({path: path.length > 1 ? path.replace(/\/+$/, '') : path, process: proc, port: ports.get(proc)!}))
    .sort((a, b) => b.path.length - a.path.length);
  return {
    port: portFor(root, 'caddy', cfg.port),
    dataDir: join(state, 'caddy'),
    logFile: join(state, 'caddy.log'),
    socketDir: sock,
    socket: join(sock, 'admin.sock'),
    pidFile: join(sock, 'caddy.pid'),
    configFile: join(state, 'caddy', 'caddy.json'),
    label: checkoutLabel(root),
    hosts: [...ports].map(([name, port]) => ({name, host: dnsLabel(name), port})),
    routes,
  };
}

export const POSTGRES: ServiceDefinition<PostgresLayout> = {
  name: 'postgres',
  section: 'services.postgres',
  enabled: (m) => serviceEnabled(m.services?.postgres),
  packages: (m) => [`postgresql_${m.services?.postgres?.version ?? 15}`],
  layout: async (root, m) => (await postgresLayout(root, m))!,
  env: postgresEnv,
  create: (root, layout, toolsEnv, cfg) => {
    // Lazy: the PostgreSQL module is large and most commands never start it.
    const holder: {svc?: Service} = {};
    return lazyService('postgres', layout.logFile, async () => {
      if (!holder.svc) {
        const {PostgresService} = await import('./postgres.js');
        holder.svc = new PostgresService({root, layout, toolsEnv, databases: cfg.databases as string[] | undefined, settings: cfg.settings as Record<string, string> | undefined, seed: cfg.seed as string | undefined});
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
  layout: async (root, m) => redisLayout(root, m.services!.redis!),
  env: redisEnv,
  create: (root, layout, toolsEnv) => new RedisService({root, layout, toolsEnv, section: 'services.redis'}),
};

export const MYSQL: ServiceDefinition<MysqlLayout> = {
  name: 'mysql',
  section: 'services.mysql',
  enabled: (m) => serviceEnabled(m.services?.mysql),
  packages: () => ['mariadb'],
  layout: async (root, m) => mysqlLayout(root, m, m.services!.mysql!),
  env: mysqlEnv,
  create: (root, layout, toolsEnv, cfg) => new MysqlService({root, layout, toolsEnv, section: 'services.mysql'}, cfg.seed as string | undefined),
};

export const CADDY: ServiceDefinition<CaddyLayout> = {
  name: 'caddy',
  section: 'services.caddy',
  enabled: (m) => serviceEnabled(m.services?.caddy),
  packages: () => ['caddy'],
  layout: async (root, m) => caddyLayout(root, m, m.services!.caddy!),
  env: caddyEnv,
  create: (root, layout, toolsEnv) => new CaddyService({root, layout, toolsEnv, section: 'services.caddy'}),
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const SERVICES: ServiceDefinition<any>[] = [POSTGRES, REDIS, MYSQL, CADDY];

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

export function processPort(root: string, name: string, p: ProcessConfig): number | undefined {
  if (p.port === undefined) return undefined;
  return p.port === 'auto' ? projectPort(portKey(root), `process:${name}`) : p.port;
}

/** Variables of the services other than PostgreSQL (its own are set by postgresEnv), and process ports. */
export async function registryEnv(root: string): Promise<Record<string, string>> {
  const {loadManifest} = await import('../manifest/load.js');
  const m = loadManifest(realPath(root))?.manifest;
  if (!m) return {};
  const env: Record<string, string> = {};
  for (const d of [REDIS, MYSQL, CADDY] as ServiceDefinition<any>[]) if (d.enabled(m)) Object.assign(env, d.env(await d.layout(root, m))); // eslint-disable-line @typescript-eslint/no-explicit-any
  if (REDIS.enabled(m)) env.DEVENV_SERVICE_BIN = writeClientWrappers(root);
  for (const [name, p] of Object.entries(m.processes ?? {})) {
    const port = processPort(root, name, p);
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
export function writeClientWrappers(root: string): string {
  const bin = join(projectStateDir(realRoot(root)), 'bin');
  const file = join(bin, 'redis-cli');
  const pwFile = redisPasswordFile(root).replace(/'/g, `'\\''`);
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
