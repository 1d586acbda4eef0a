// `devenv up`, `down`, `ps`, `logs`: the project's services, found from the cwd.
import {openProject} from '../project/project.js';
import {selectServices, servicesStatus, type Service, type ServiceStatus, type StartResult, type StopResult} from '../services/index.js';

export type {Service, ServiceStatus, StartResult, StopResult};
export {fileSize, followFile, tailLines} from '../services/process.js';

/** The named services of the project around `cwd` (all when none named). */
export async function projectServicesAt(cwd: string, names: string[] = [], opts: {running?: boolean} = {}): Promise<{root: string; services: Service[]}> {
  const {root} = openProject(cwd);
  return {root, services: await selectServices(root, names, opts)};
}

export async function startServices(services: Service[], onStarted: (r: StartResult) => void, onProgress?: (s: Service, m: string) => void): Promise<StartResult[]> {
  const results: StartResult[] = [];
  for (const s of services) {
    const r = await s.start({onProgress: (m) => onProgress?.(s, m)});
    results.push(r);
    onStarted(r);
  }
  return results;
}

/** Reverse start order: dependants first. */
export async function stopServices(services: Service[], onStopped: (r: StopResult) => void): Promise<StopResult[]> {
  const results: StopResult[] = [];
  for (const s of [...services].reverse()) {
    const r = await s.stop();
    results.push(r);
    onStopped(r);
  }
  return results;
}

export async function listServices(cwd: string): Promise<{root: string; services: ServiceStatus[]}> {
  const {root} = openProject(cwd);
  return {root, services: await servicesStatus(root)};
}

export async function runServicesForeground(services: Service[], io: {line: (l: string) => void; note: (n: string) => void}, describe: (r: StartResult) => string): Promise<number> {
  const {runForeground} = await import('../services/foreground.js');
  return runForeground(services, io, describe);
}
