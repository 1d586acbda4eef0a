// A project's units: its services (from the registry), its user processes and its tasks, in
// one dependency graph. Each service and process implements the Service interface
// (service.ts), so the commands and `status` handle them all alike; tasks run once, in order.
import type {Project} from '../project/project.js';
import {createHash} from 'node:crypto';
import {existsSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import {DevenvError, ManifestError, UsageError} from '../errors.js';
import type {Manifest, ProcessConfig, TaskConfig} from '../manifest/model.js';
import {runtimeDir} from '../paths.js';
import {manifestFilesLenient, manifestFingerprint} from '../manifest/files.js';
import {readFileOrNull, readJson, readMemo, writeMemo} from '../util/fs.js';
import type {KeeperSpec} from './keeper.js';
import {findPort} from './ports.js';
import {ProcessUnit} from './proc-unit.js';
import {realRoot, userName} from './account.js';
import {memberPortEnv} from './members.js';
import {CADDY, MYSQL, type PostgresLayout, portVar, processPort, REDIS, redisPasswordFile, SERVICES, type ServiceName} from './registry.js';
import {type CaddyLayout, processUrls} from './caddy.js';
import type {Service, ServiceStatus, ToolsEnv} from './service.js';
import type {TaskSpec} from './tasks.js';
import {DEFAULT_POSTGRES, SERVICE_NAMES} from '../manifest/model.js';

export type {Service, ServiceState, ServiceStatus, StartResult, StopResult} from './service.js';

/**
 * The project's environment as a process env (environment.ts: the one every command uses), and
 * the PATH entries its Nix env adds: service binaries are looked up there only, never on the
 * host's PATH.
 */
export async function projectToolsEnv(p: Project): Promise<ToolsEnv> {
  const {ensureEnvironment} = await import('../evaluation/evaluate.js');
  const {entry} = await ensureEnvironment(p, {progress: true});
  const {projectEnvironment} = await import('./environment.js');
  const env = (await projectEnvironment(p, entry)).toProcessEnv();
  const own = entry.spec.prepend.PATH ?? (entry.spec.vars.PATH ? entry.spec.vars.PATH.split(':') : []);
  return {env, path: own.filter(Boolean)};
}

interface UnitsConfig {
  services: {name: ServiceName; layout: unknown; cfg: Record<string, unknown>}[];
  processes: {name: string; cfg: ProcessConfig; port?: number}[];
  tasks: {name: string; cfg: TaskConfig}[];
}

const serviceEnabledRoutes = (m: Manifest): Record<string, string> => (m.services?.caddy && m.services.caddy.enable !== false ? (m.services.caddy.routes ?? {}) : {});

/** Process names, task names and service names share one namespace; `after` must name them, without cycles. */
export function checkGraph(m: Manifest, file = 'devenv.toml'): void {
  const kinds = new Map<string, string>();
  for (const d of SERVICES) if (d.enabled(m)) kinds.set(d.name, 'service');
  for (const n of Object.keys(m.tasks ?? {})) kinds.set(n, 'task');
  for (const n of Object.keys(m.processes ?? {})) {
    if (kinds.get(n) === 'task') throw new ManifestError(`'${n}' is both a process and a task`, {location: file, hint: 'rename one of them; after = [...] names them in one namespace'});
    kinds.set(n, 'process');
  }
  // A process's own PORT (or <NAME>_PORT) next to a `port` devenv chooses or checks: devenv would
  // set its own over it, so the process would listen where it was not told. Say so instead.
  for (const [n, p] of Object.entries(m.processes ?? {})) {
    if (p.port === undefined) continue;
    for (const v of ['PORT', portVar(n)]) {
      const own = p.env?.[v];
      if (own === undefined || (p.port !== 'auto' && own === String(p.port))) continue;
      throw new ManifestError(`processes.${n}.env.${v} = "${own}" disagrees with port = ${JSON.stringify(p.port)}, which devenv passes to the process as ${v}`, {
        location: file,
        keyPath: `processes.${n}.env.${v}`,
        hint: /^\d+$/.test(own) ? `set port = ${own} instead (devenv then checks it is free and passes it as PORT and ${portVar(n)}), or remove env.${v}` : `remove env.${v}; the process reads its port from $${v}`,
      });
    }
  }
  // The front door's routes name processes that listen on a port.
  for (const [path, proc] of Object.entries(serviceEnabledRoutes(m))) {
    const p = m.processes?.[proc];
    if (p?.port !== undefined) continue;
    throw new ManifestError(`services.caddy.routes."${path}" names '${proc}', which is ${p ? 'a process without a port' : 'no process of this project'}`, {
      location: file,
      keyPath: 'services.caddy.routes',
      hint: p ? `give [processes.${proc}] port = "auto"` : `processes with a port: ${Object.entries(m.processes ?? {}).filter(([, c]) => c.port !== undefined).map(([n]) => n).join(', ') || '(none)'}`,
    });
  }
  const deps = new Map<string, string[]>();
  const services = Object.fromEntries(SERVICES.filter((d) => d.enabled(m)).map((d) => [d.name, (m.services as Record<string, {after?: string[]}>)[d.name]]));
  for (const [sect, units] of [['services', services], ['processes', m.processes ?? {}], ['tasks', m.tasks ?? {}]] as const) {
    for (const [n, u] of Object.entries(units)) {
      for (const a of u.after ?? []) {
        if (a.includes(':')) continue; // another member's unit: checked when the monorepo's units are joined
        if (!kinds.has(a)) {
          throw new ManifestError(`${sect}.${n}.after names '${a}', which is no service, process or task of this project`, {location: file, keyPath: `${sect}.${n}.after`, hint: `known names: ${[...kinds.keys()].join(', ') || '(none)'}`});
        }
        if (a === n) throw new ManifestError(`${sect}.${n} cannot start after itself`, {location: file, keyPath: `${sect}.${n}.after`});
      }
      deps.set(n, (u.after ?? []).filter((a) => !a.includes(':')));
    }
  }
  const state = new Map<string, 1 | 2>();
  const visit = (n: string, path: string[]) => {
    if (state.get(n) === 2) return;
    if (state.get(n) === 1) throw new ManifestError(`'after' makes a cycle: ${[...path.slice(path.indexOf(n)), n].join(' -> ')}`, {location: file, hint: 'remove one of these after = [...] entries'});
    state.set(n, 1);
    for (const d of deps.get(n) ?? []) visit(d, [...path, n]);
    state.set(n, 2);
  };
  for (const n of deps.keys()) visit(n, []);
}

/**
 * devenv.toml's services, processes and tasks, memoized by its content (and what layouts depend
 * on): validating the manifest costs ~0.1 s of ajv, more than starting a server.
 */
async function unitsConfig(p: Project): Promise<UnitsConfig> {
  const {root} = p;
  const files = manifestFilesLenient(p.real);
  if (!files.length) return {services: [], processes: [], tasks: []};
  const digest = createHash('sha256').update(JSON.stringify([manifestFingerprint(files), runtimeDir(), userName(), p.real, p.instance])).digest('hex');
  const memoFile = join(p.stateDir, 'services', p.instance.tag ? `config-${p.instance.tag}.json` : 'units.json');
  const memo = readMemo<UnitsConfig>(memoFile, digest);
  if (memo) return memo;
  const {manifestOf} = await import('../project/manifest.js');
  const manifest = manifestOf(p)!.manifest;
  checkGraph(manifest, join(root, 'devenv.toml'));
  const config: UnitsConfig = {services: [], processes: [], tasks: []};
  for (const d of SERVICES) {
    if (!d.enabled(manifest)) continue;
    const cfg = (manifest.services as Record<string, Record<string, unknown>>)[d.name];
    if (cfg.settings) cfg.settings = rootRelative(root, cfg.settings as Record<string, unknown>);
    config.services.push({name: d.name, layout: await d.layout(p, manifest), cfg});
  }
  for (const [name, cfg] of Object.entries(manifest.processes ?? {})) config.processes.push({name, cfg, port: processPort(p, name, cfg)});
  for (const [name, cfg] of Object.entries(manifest.tasks ?? {})) config.tasks.push({name, cfg});
  writeMemo(memoFile, digest, config);
  return config;
}

/**
 * A settings value written "./x" or "../x" is relative to the project root, not to the server's
 * data dir (its cwd): the same file for the developer's servers and devenv test's throwaway ones.
 */
function rootRelative(root: string, settings: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(settings)) out[k] = typeof v === 'string' && /^\.\.?\//.test(v) ? join(realRoot(root), v) : v;
  return out;
}

/** Keepers' specs, state and locks: the user's state dir, per checkout and instance. */
export const processRunDir = (p: Project): string => p.layout.runDir;

const readyCheck = (p: ProcessConfig, port: number | undefined): KeeperSpec['ready'] => {
  const r = p.ready;
  if (!r) return undefined;
  const need = () => {
    if (!port) throw new ManifestError(`processes: ready = "${r}" needs a port (port = "auto")`, {location: 'devenv.toml', hint: 'add port = "auto" to the process, or give ready = {tcp = <port>}'});
    return port;
  };
  if (r === 'tcp') return {tcp: need()};
  if (r === 'http') return {http: `http://127.0.0.1:${need()}/`};
  if (r.http) return {http: r.http.startsWith('/') ? `http://127.0.0.1:${need()}${r.http}` : r.http};
  return r;
};

export interface Units {
  root: string;
  project: Project;
  /** Services and processes, in an order where each comes after what it names in `after`. */
  services: Service[];
  tasks: Map<string, TaskSpec>;
  /** Every unit's `after`. */
  deps: Map<string, string[]>;
  kind: Map<string, 'service' | 'process' | 'task'>;
  /** devenv.toml could not be read (with `running`, what still runs is listed anyway). */
  configError?: Error;
  /** Ports devenv.toml fixes (port = N), by unit name: `devenv test` uses them too. */
  fixedPorts: Map<string, number>;
  /** Monorepo up: a member's task runs in its own project (by prefixed name). */
  taskRoots?: Map<string, Project>;
  /** `after` entries naming another member's unit (member:unit): honoured by a monorepo up only. */
  crossDeps: Map<string, string[]>;
}

/**
 * The units devenv.toml defines. Building them runs no nix. With `running`, also a server or
 * process still running from before its section was removed, so `down` can stop it.
 */
export async function projectUnits(p: Project, opts: {running?: boolean} = {}): Promise<Units> {
  const project = p;
  const {root} = p;
  let config: UnitsConfig;
  let configError: Error | undefined;
  try {
    config = await unitsConfig(p);
  } catch (e) {
    // A broken devenv.toml must not keep `down` from stopping what runs.
    if (!opts.running) throw e;
    config = {services: [], processes: [], tasks: []};
    configError = e as Error;
  }
  // One evaluation (or cache check) per command, shared by every unit that starts.
  let tools: Promise<ToolsEnv> | undefined;
  const toolsEnv = () => (tools ??= projectToolsEnv(project));
  const kind = new Map<string, 'service' | 'process' | 'task'>();
  const deps = new Map<string, string[]>();
  const byName = new Map<string, Service>();
  const fixedPorts = new Map<string, number>();
  const crossDeps = new Map<string, string[]>();
  // `after` within the project; member:unit entries apart (see members.ts).
  const local = (n: string, after: string[] | undefined): string[] => {
    const cross = (after ?? []).filter((a) => a.includes(':'));
    if (cross.length) crossDeps.set(n, cross);
    return (after ?? []).filter((a) => !a.includes(':'));
  };
  for (const s of config.services) {
    const d = SERVICES.find((x) => x.name === s.name)!;
    byName.set(s.name, d.create(project, s.layout, toolsEnv, s.cfg));
    kind.set(s.name, 'service');
    deps.set(s.name, local(s.name, s.cfg.after as string[] | undefined));
    if (typeof s.cfg.port === 'number') fixedPorts.set(s.name, s.cfg.port);
  }
  const runDir = processRunDir(project);
  const logDir = join(project.layout.serviceState, 'processes');
  const door = config.services.find((s) => s.name === 'caddy')?.layout as CaddyLayout | undefined;
  const urls = door ? processUrls(door) : {};
  for (const p of config.processes) {
    const envFor = async () => {
      const {env} = await toolsEnv();
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
      Object.assign(out, await memberPortEnv(project, crossDeps.get(p.name) ?? []));
      Object.assign(out, p.cfg.env ?? {});
      if (p.port) Object.assign(out, {PORT: String(p.port), [portVar(p.name)]: String(p.port)});
      return out;
    };
    const after = local(p.name, p.cfg.after);
    const unit = new ProcessUnit({root, name: p.name, exec: p.cfg.exec, after, runDir, logFile: join(logDir, `${p.name}.log`), port: p.port, ready: readyCheck(p.cfg, p.port), restart: p.cfg.restart ?? 'on-failure', maxRestarts: p.cfg.max_restarts ?? 5, readyTimeoutMs: p.cfg.ready_timeout ? p.cfg.ready_timeout * 1000 : undefined, env: envFor});
    byName.set(p.name, withUrl(unit, urls[p.name]));
    kind.set(p.name, 'process');
    deps.set(p.name, after);
    if (typeof p.cfg.port === 'number') fixedPorts.set(p.name, p.cfg.port);
  }
  const tasks = new Map<string, TaskSpec>();
  for (const t of config.tasks) {
    const after = local(t.name, t.cfg.after);
    tasks.set(t.name, {name: t.name, exec: t.cfg.exec, after, sources: t.cfg.sources, logFile: join(project.layout.serviceState, 'tasks', `${t.name}.log`), memoFile: join(project.stateDir, project.layout.own('tasks'), `${t.name}.json`), env: t.cfg.env} as TaskSpec);
    kind.set(t.name, 'task');
    deps.set(t.name, after);
  }
  if (opts.running) addLeftovers(project, byName, kind, deps, toolsEnv, runDir, logDir);
  const services = topoOrder([...byName.keys(), ...tasks.keys()], deps)
    .filter((n) => byName.has(n))
    .map((n) => byName.get(n)!);
  return {root, project, services, tasks, deps, kind, fixedPorts, crossDeps, configError};
}

/** A process as seen through the front door: its URL in what `up` and `ps` report. */
function withUrl(s: Service, url: string | undefined): Service {
  if (!url) return s;
  const o = Object.create(s) as Service;
  return Object.assign(o, {start: async (opts?: Parameters<Service['start']>[0]) => ({...(await s.start(opts)), url}), status: async () => ({...(await s.status()), url})});
}

/** Servers and keepers still running although devenv.toml no longer names them: `down` stops them too. */
function addLeftovers(p: Project, byName: Map<string, Service>, kind: Map<string, string>, deps: Map<string, string[]>, toolsEnv: () => Promise<ToolsEnv>, runDir: string, logDir: string): void {
  const {root} = p;
  const state = p.layout.serviceState;
  // Its data dir gone (a removed worktree), a postmaster still has its socket lock file.
  const pgLock = (() => {
    try {
      return readdirSync(p.layout.socketDir('postgres')).find((f) => /^\.s\.PGSQL\.\d+\.lock$/.test(f));
    } catch {
      return undefined;
    }
  })();
  if (!byName.has('postgres') && (readFileOrNull(join(state, 'postgres', 'postmaster.pid')) !== null || pgLock)) {
    const layout: PostgresLayout = {
      port: findPort(p.layout.portKey, 'postgres') ?? Number(pgLock?.split('.')[3] ?? 0),
      dataDir: join(state, 'postgres'),
      socketDir: p.layout.socketDir('postgres'),
      logFile: join(state, 'postgres.log'),
      user: userName(),
      database: 'postgres',
      version: DEFAULT_POSTGRES,
      passwordFile: '',
      password: '',
      pgpassFile: '',
    };
    byName.set('postgres', SERVICES[0].create(p, layout, toolsEnv, {}));
  }
  for (const d of SERVICES) {
    if (byName.has(d.name) || !d.leftover) continue;
    const layout = d.leftover(p);
    if (!existsSync(layout.pidFile)) continue;
    byName.set(d.name, d.create(p, layout, toolsEnv, {}));
  }
  for (const d of [REDIS, MYSQL]) {
    if (byName.has(d.name)) continue;
    const sock = p.layout.socketDir(d.name);
    const pidFile = join(sock, d.name === 'redis' ? 'redis.pid' : 'mysqld.pid');
    if (!existsSync(pidFile)) continue;
    const layout = {port: findPort(p.layout.portKey, d.name) ?? 0, dataDir: join(state, d.name), logFile: join(state, `${d.name}.log`), socketDir: sock, socket: join(sock, d.name === 'redis' ? 'redis.sock' : 'mysqld.sock'), pidFile, user: userName(), password: '', passwordFile: redisPasswordFile(p), database: '', databases: [], home: ''};
    byName.set(d.name, d.create(p, layout, toolsEnv, {}));
  }
  const doorSock = p.layout.socketDir('caddy');
  if (!byName.has('caddy') && existsSync(join(doorSock, 'caddy.pid'))) {
    const layout: CaddyLayout = {port: findPort(p.layout.portKey, 'caddy') ?? 0, dataDir: join(state, 'caddy'), logFile: join(state, 'caddy.log'), socketDir: doorSock, socket: join(doorSock, 'admin.sock'), pidFile: join(doorSock, 'caddy.pid'), configFile: join(state, 'caddy', 'caddy.json'), label: '', hosts: [], routes: []};
    byName.set('caddy', CADDY.create(p, layout, toolsEnv, {}));
  }
  let files: string[] = [];
  try {
    files = readdirSync(runDir);
  } catch {}
  for (const f of files) {
    const m = /^(.+)\.state\.json$/.exec(f);
    if (!m || byName.has(m[1])) continue;
    const spec = readJson<KeeperSpec>(join(runDir, `${m[1]}.spec.json`));
    byName.set(m[1], new ProcessUnit({root, name: m[1], exec: spec?.exec ?? '', after: [], runDir, logFile: spec?.logFile ?? join(logDir, `${m[1]}.log`), restart: 'never', maxRestarts: 0, env: async () => ({})}));
  }
  for (const n of byName.keys()) {
    if (!kind.has(n)) {
      kind.set(n, (SERVICE_NAMES as readonly string[]).includes(n) ? 'service' : 'process');
      deps.set(n, []);
    }
  }
}

/** Names in an order where each follows its `after`; services first, then as declared. */
export function topoOrder(names: string[], deps: Map<string, string[]>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (n: string) => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const d of deps.get(n) ?? []) visit(d);
    out.push(n);
  };
  for (const n of names) visit(n);
  return out;
}

/** `names` and everything they need (their `after`, transitively). */
export function closure(names: string[], deps: Map<string, string[]>): Set<string> {
  const out = new Set<string>();
  const visit = (n: string) => {
    if (out.has(n)) return;
    out.add(n);
    for (const d of deps.get(n) ?? []) visit(d);
  };
  for (const n of names) visit(n);
  return out;
}

/** The named services/processes (all when `names` is empty); a clear user error when there are none. */
export async function selectServices(p: Project, names: string[] = [], opts: {running?: boolean} = {}): Promise<Service[]> {
  const {root} = p;
  const {services: all, tasks} = await projectUnits(p, opts);
  if (!all.length) {
    const hasToml = readFileOrNull(join(root, 'devenv.toml')) !== null;
    throw new DevenvError(`this project (${root}) defines no services or processes`, {
      hint: hasToml
        ? 'add a [services.postgres], [services.redis], [services.mysql] or [processes.<name>] section to devenv.toml, then run this again'
        : // A flake of the user's own: init would refuse to overwrite it, so do not suggest it.
          'services are declared in devenv.toml: create one next to your flake.nix holding a [services.postgres] section (e.g. version = 15); devenv leaves your flake.nix alone, so add pkgs.postgresql_15 to its packages too',
      code: 'no_services',
    });
  }
  if (!names.length) return all;
  const unknown = names.filter((n) => !all.some((s) => s.name === n) && !tasks.has(n));
  if (unknown.length) throw new UsageError(`unknown service: ${unknown.join(', ')} (no service or process of this project has that name)`, `this project's services and processes: ${all.map((s) => s.name).join(', ')}`);
  return all.filter((s) => names.includes(s.name));
}

export async function servicesStatus(p: Project): Promise<ServiceStatus[]> {
  return (await servicesStatusOf(p)).services;
}

/** The statuses, and why devenv.toml could not be read when it could not (only what runs is listed then). */
export async function servicesStatusOf(p: Project): Promise<{services: ServiceStatus[]; configError?: Error}> {
  const {services, configError} = await projectUnits(p, {running: true});
  return {services: await Promise.all(services.map(async (s) => ({kind: 'service' as const, ...(await s.status())}))), configError};
}
