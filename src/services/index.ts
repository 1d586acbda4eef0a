// Services of a project. PostgreSQL is the first; each service implements the Service interface
// (service.ts), so the commands and `status` handle them all alike.
import {join} from 'node:path';
import {DevenvError, UsageError} from '../errors.js';
import {readFileOrNull} from '../util/fs.js';
import {PostgresService} from './postgres.js';
import {postgresLayout, projectEnv} from './project-env.js';
import type {Service, ServiceStatus} from './service.js';

export type {Service, ServiceState, ServiceStatus, StartResult, StopResult} from './service.js';

/** The project's environment as a process env: its Nix env (evaluated or cached) plus PG* vars. */
export async function projectToolsEnv(root: string): Promise<NodeJS.ProcessEnv> {
  const {ensureEnvironment} = await import('../evaluation/evaluate.js');
  const {applyToEnv} = await import('../env/spec.js');
  const {entry} = await ensureEnvironment(root, {progress: true});
  return applyToEnv(process.env, entry.spec, {...(await projectEnv(root)), DEVENV_ROOT: root});
}

/** The services devenv.toml enables, in start order. Building them runs no nix. */
export async function projectServices(root: string): Promise<Service[]> {
  const out: Service[] = [];
  const layout = await postgresLayout(root);
  if (layout) {
    const {readManifest} = await import('../manifest/parse.js');
    const pg = readManifest(join(root, 'devenv.toml')).services?.postgres ?? {};
    out.push(new PostgresService({root, layout, databases: pg.databases, settings: pg.settings, toolsEnv: () => projectToolsEnv(root)}));
  }
  return out;
}

/** The named services (all when `names` is empty); a clear user error when there are none. */
export async function selectServices(root: string, names: string[] = []): Promise<Service[]> {
  const all = await projectServices(root);
  if (!all.length) {
    const hasToml = readFileOrNull(join(root, 'devenv.toml')) !== null;
    throw new DevenvError(`this project (${root}) defines no services`, {
      hint: hasToml ? 'add a [services.postgres] section to devenv.toml (e.g. version = 15 and databases = ["app"]), then run this again' : 'services are declared in devenv.toml ([services.postgres]); create one with \'devenv init postgres\'',
      code: 'no_services',
    });
  }
  if (!names.length) return all;
  const unknown = names.filter((n) => !all.some((s) => s.name === n));
  if (unknown.length) throw new UsageError(`unknown service: ${unknown.join(', ')}`, `this project's services: ${all.map((s) => s.name).join(', ')}`);
  return all.filter((s) => names.includes(s.name));
}

export async function servicesStatus(root: string): Promise<ServiceStatus[]> {
  const services = await projectServices(root);
  return Promise.all(services.map((s) => s.status()));
}
