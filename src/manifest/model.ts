// The validated shape of devenv.toml (see schema/devenv.schema.json).
import {attrFor, CHANNEL, DEFAULT_ATTRS} from './channel.js';

export interface PostgresConfig {
  enable?: boolean;
  /** Tasks (or other units) to run first, e.g. one that makes TLS certificates. */
  after?: string[];
  version?: number;
  databases?: string[];
  port?: number;
  settings?: Record<string, string | number | boolean>;
  seed?: string;
}

// --- issue 12: more services, processes, tasks ---
export interface RedisConfig {
  enable?: boolean;
  after?: string[];
  port?: number;
  settings?: Record<string, string | number | boolean>;
}

export interface MysqlConfig {
  enable?: boolean;
  after?: string[];
  databases?: string[];
  port?: number;
  settings?: Record<string, string | number | boolean>;
  seed?: string;
}

/** The front door: a reverse proxy on the checkout's own port (src/services/caddy.ts). */
export interface CaddyConfig {
  enable?: boolean;
  after?: string[];
  port?: number;
  /** Path prefix -> a [processes.*] name that has a port. */
  routes?: Record<string, string>;
}

export type ReadyCheck = 'tcp' | 'http' | {tcp?: number; http?: string; exec?: string};

export interface ProcessConfig {
  exec: string;
  port?: 'auto' | number;
  ready?: ReadyCheck;
  after?: string[];
  restart?: 'never' | 'on-failure' | 'always';
  max_restarts?: number;
  /** Seconds `up` waits for readiness (default 120). */
  ready_timeout?: number;
  env?: Record<string, string>;
}

export interface TaskConfig {
  exec: string;
  after?: string[];
  sources?: string[];
  env?: Record<string, string>;
}

export const serviceEnabled = (s: {enable?: boolean} | undefined): boolean => !!s && s.enable !== false;
// --- end issue 12 ---

/**
 * The client variables devenv sets for each service: per checkout (its port, socket, password),
 * so `[env]` (committed, shared) may not set them while the service is on; a `[dotenv]` file can.
 * src/services/registry.ts sets exactly these (a unit test holds the two together).
 */
export const SERVICE_VARS: Record<'postgres' | 'redis' | 'mysql', string[]> = {
  postgres: ['PGHOST', 'PGPORT', 'PGDATA', 'PGUSER', 'PGDATABASE', 'PGPASSFILE', 'DATABASE_URL'],
  redis: ['REDIS_URL', 'REDIS_HOST', 'REDIS_PORT', 'REDIS_SOCKET'],
  mysql: ['MYSQL_HOST', 'MYSQL_TCP_PORT', 'MYSQL_PORT', 'MYSQL_PWD', 'MYSQL_UNIX_PORT', 'MYSQL_HOME', 'MYSQL_USER', 'MYSQL_DATABASE', 'MYSQL_URL', 'DATABASE_URL'],
};

/** `<NAME>_PORT` for a process name (web-api -> WEB_API_PORT). */
export const processPortVar = (name: string): string => `${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_PORT`;

/** Which service or process sets `name` in this manifest (its devenv.toml section), if any. */
export function serviceVarOwner(m: Manifest, name: string): string | undefined {
  for (const s of ['postgres', 'redis', 'mysql'] as const) {
    if (serviceEnabled(m.services?.[s]) && SERVICE_VARS[s].includes(name)) return `services.${s}`;
  }
  for (const [p, cfg] of Object.entries(m.processes ?? {})) if (cfg.port !== undefined && processPortVar(p) === name) return `processes.${p}`;
  // <NAME>_URL of each process with a port, through the front door.
  if (serviceEnabled(m.services?.caddy)) for (const [p, cfg] of Object.entries(m.processes ?? {})) if (cfg.port !== undefined && processPortVar(p).replace(/_PORT$/, '_URL') === name) return 'services.caddy';
  return undefined;
}

/** `[nixpkgs.config]`: passed to `import nixpkgs { config = ...; }`. */
export interface NixpkgsConfig {
  allowUnfree?: boolean;
  allowBroken?: boolean;
  allowUnsupportedSystem?: boolean;
  permittedInsecurePackages?: string[];
}

export interface Manifest {
  name?: string;
  /** What nix may read beyond the default inputs (see project/inputs.ts). */
  project?: {inputs?: string[]; members?: string[]};
  packages?: string[];
  nixpkgs?: {url?: string; config?: NixpkgsConfig};
  languages?: {
    python?: {version?: string; venv?: boolean; requirements?: string; manager?: 'pip' | 'poetry'};
    node?: {version?: string; install?: string};
    rust?: Record<string, never>;
    go?: Record<string, never>;
  };
  services?: {postgres?: PostgresConfig; redis?: RedisConfig; mysql?: MysqlConfig; caddy?: CaddyConfig};
  processes?: Record<string, ProcessConfig>;
  tasks?: Record<string, TaskConfig>;
  env?: Record<string, string>;
  /** Read at activation only; never part of the flake (see project/dotenv.ts). */
  dotenv?: {files?: string[]};
  /** aliases and functions: defined while inside an allowed project, reverted on leave (shells/logic.ts). */
  shell?: {hook?: string; aliases?: Record<string, string>; functions?: Record<string, string> & {fish?: Record<string, string>}};
  // Teams (src/teams): binary caches and remote builders, passed to nix only once allowed.
  cache?: CacheConfig;
  nix?: NixConfig;
  /** `devenv container build`: the image's name, tag, extra ports and user. */
  container?: ContainerConfig;
}

export interface ContainerConfig {
  name?: string;
  tag?: string;
  ports?: number[];
  user?: string;
}

export interface CacheConfig {
  substituters?: string[];
  'trusted-public-keys'?: string[];
  push?: string;
}

export interface NixConfig {
  builders?: string[];
  'builders-use-substitutes'?: boolean;
}

export const DEFAULT_NIXPKGS_URL = CHANNEL.url;
export const DEFAULT_PYTHON = '3.11';
export const DEFAULT_POSTGRES = 15;

export function postgresEnabled(m: Manifest): boolean {
  const pg = m.services?.postgres;
  return !!pg && pg.enable !== false;
}

/** nixpkgs attributes the manifest asks for, in a stable order: languages, services, then packages. */
export function nixAttributes(m: Manifest): string[] {
  const out: string[] = [];
  const py = m.languages?.python;
  if (py) out.push(attrFor('python', py.version ?? DEFAULT_PYTHON));
  if (py?.manager === 'poetry') out.push('poetry');
  const node = m.languages?.node;
  if (node) out.push(node.version ? attrFor('node', node.version) : DEFAULT_ATTRS.node);
  if (m.languages?.rust) out.push('rustc', 'cargo');
  if (m.languages?.go) out.push('go');
  if (postgresEnabled(m)) out.push(attrFor('postgres', m.services!.postgres!.version ?? DEFAULT_POSTGRES));
  if (serviceEnabled(m.services?.redis)) out.push('redis');
  if (serviceEnabled(m.services?.mysql)) out.push('mariadb');
  if (serviceEnabled(m.services?.caddy)) out.push('caddy');
  for (const p of m.packages ?? []) if (!out.includes(p)) out.push(p);
  return out;
}

/** Human summary used in messages: "python3 3.11, postgresql 15". */
export function summary(m: Manifest): string {
  const parts: string[] = [];
  if (m.languages?.python) parts.push(`python3 ${m.languages.python.version ?? DEFAULT_PYTHON}`);
  if (m.languages?.node) parts.push(`node${m.languages.node.version ? ' ' + m.languages.node.version : ''}`);
  if (m.languages?.rust) parts.push('rust');
  if (m.languages?.go) parts.push('go');
  if (postgresEnabled(m)) parts.push(`postgresql ${m.services!.postgres!.version ?? DEFAULT_POSTGRES}`);
  if (serviceEnabled(m.services?.redis)) parts.push('redis');
  if (serviceEnabled(m.services?.mysql)) parts.push('mariadb');
  return parts.join(', ');
}
