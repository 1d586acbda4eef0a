// Services of a project. PostgreSQL is the first; each service implements the Service interface
// (service.ts), so the commands and `status` handle them all alike.
import {createHash} from 'node:crypto';
import {join} from 'node:path';
import {DevenvError, UsageError} from '../errors.js';
import {projectStateDir, runtimeDir} from '../paths.js';
import {readFileOrNull, readMemo, writeMemo} from '../util/fs.js';
import {PostgresService} from './postgres.js';
import {DEFAULT_POSTGRES} from '../manifest/model.js';
import {findPort} from './ports.js';
import {type PostgresLayout, postgresLayout, projectEnv, realRoot, socketDirFor, userName} from './project-env.js';
import type {Service, ServiceStatus, ToolsEnv} from './service.js';

export type {Service, ServiceState, ServiceStatus, StartResult, StopResult} from './service.js';

/**
 * The project's environment as a process env (its Nix env, evaluated or cached, plus PG* vars),
 * and the PATH entries that env itself adds: service binaries are looked up there only, never
 * on the host's PATH.
 */
export async function projectToolsEnv(root: string): Promise<ToolsEnv> {
  const {ensureEnvironment} = await import('../evaluation/evaluate.js');
  const {applyToEnv} = await import('../env/spec.js');
  const {entry} = await ensureEnvironment(root, {progress: true});
  const {withLanguages} = await import('../project/languages.js');
  const env = applyToEnv(process.env, withLanguages(entry.spec, root), {...(await projectEnv(root)), DEVENV_ROOT: root});
  const own = entry.spec.prepend.PATH ?? (entry.spec.vars.PATH ? entry.spec.vars.PATH.split(':') : []);
  return {env, path: own.filter(Boolean)};
}

interface ServicesConfig {
  postgres?: {layout: PostgresLayout; databases?: string[]; settings?: Record<string, string | number | boolean>};
}

/**
 * The services part of devenv.toml, memoized by its content (and what the layout depends on):
 * validating the manifest costs ~0.1 s of ajv, more than starting PostgreSQL.
 */
async function servicesConfig(root: string): Promise<ServicesConfig> {
  const toml = readFileOrNull(join(root, 'devenv.toml'));
  if (toml === null) return {};
  const digest = createHash('sha256').update(JSON.stringify([toml, runtimeDir(), userName(), realRoot(root)])).digest('hex');
  const memoFile = join(projectStateDir(root), 'services', 'config.json');
  const memo = readMemo<ServicesConfig>(memoFile, digest);
  if (memo) return memo;
  const {parseManifest} = await import('../manifest/parse.js');
  const manifest = parseManifest(toml, join(root, 'devenv.toml'));
  const pg = manifest.services?.postgres ?? {};
  const layout = await postgresLayout(root, manifest);
  const config: ServicesConfig = layout ? {postgres: {layout, databases: pg.databases, settings: pg.settings}} : {};
  writeMemo(memoFile, digest, config);
  return config;
}

/**
 * The services devenv.toml enables, in start order. Building them runs no nix. With `running`,
 * also a server still running from before its section was removed, so `down` can stop it.
 */
export async function projectServices(root: string, opts: {running?: boolean} = {}): Promise<Service[]> {
  const out: Service[] = [];
  let config: ServicesConfig;
  try {
    config = await servicesConfig(root);
  } catch (e) {
    // A broken devenv.toml must not keep `down` from stopping what runs.
    if (!opts.running) throw e;
    config = {};
  }
  const {postgres} = config;
  if (postgres) out.push(new PostgresService({root, ...postgres, toolsEnv: () => projectToolsEnv(root)}));
  else if (opts.running && readFileOrNull(join(root, '.devenv', 'state', 'postgres', 'postmaster.pid')) !== null) {
    const real = realRoot(root);
    const layout: PostgresLayout = {
      port: findPort(real, 'postgres') ?? 0,
      dataDir: join(root, '.devenv', 'state', 'postgres'),
      socketDir: socketDirFor(real),
      logFile: join(root, '.devenv', 'state', 'postgres.log'),
      user: userName(),
      database: 'postgres',
      version: DEFAULT_POSTGRES,
      // Only used to stop a leftover server: no password is needed or created.
      passwordFile: '',
      password: '',
    };
    out.push(new PostgresService({root, layout, toolsEnv: () => projectToolsEnv(root)}));
  }
  return out;
}

/** The named services (all when `names` is empty); a clear user error when there are none. */
export async function selectServices(root: string, names: string[] = [], opts: {running?: boolean} = {}): Promise<Service[]> {
  const all = await projectServices(root, opts);
  if (!all.length) {
    const hasToml = readFileOrNull(join(root, 'devenv.toml')) !== null;
    throw new DevenvError(`this project (${root}) defines no services`, {
      hint: hasToml
        ? 'add a [services.postgres] section to devenv.toml (e.g. version = 15 and databases = ["app"]), then run this again'
        : // A flake of the user's own: init would refuse to overwrite it, so do not suggest it.
          'services are declared in devenv.toml: create one next to your flake.nix holding a [services.postgres] section (e.g. version = 15); devenv leaves your flake.nix alone, so add pkgs.postgresql_15 to its packages too',
      code: 'no_services',
    });
  }
  if (!names.length) return all;
  const unknown = names.filter((n) => !all.some((s) => s.name === n));
  if (unknown.length) throw new UsageError(`unknown service: ${unknown.join(', ')}`, `this project's services: ${all.map((s) => s.name).join(', ')}`);
  return all.filter((s) => names.includes(s.name));
}

export async function servicesStatus(root: string): Promise<ServiceStatus[]> {
  const services = await projectServices(root, {running: true});
  return Promise.all(services.map((s) => s.status()));
}
