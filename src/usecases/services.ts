// `devenv up`, `down`, `ps`, `logs`, `run`, `test`: the project's services, processes and
// tasks, of the project the command opened.
import {SERVICE_NAMES} from '../manifest/model.js';
import type {Project} from '../project/project.js';
import {type Units, projectUnits, selectServices, servicesStatus, type Service, type ServiceStatus, type StartResult, type StopResult} from '../services/index.js';
import type {UpIO, UpOptions} from '../services/orchestrate.js';
import type {TaskResult} from '../services/tasks.js';
import type {RemovedCheckout} from '../services/leftovers.js';
import {DevenvError, ServiceError, UsageError} from '../errors.js';
import {tailLines as readTail} from '../services/process.js';

export type {Service, ServiceStatus, StartResult, StopResult, TaskResult, UpIO};
export type {AutoStartStatus} from './autostart-state.js';
import type {AutoStartStatus} from './autostart-state.js';
export {fileSize, followFile, tailLines} from '../services/process.js';

/** The project's named services and processes (all when none named). */
export async function projectServicesAt(p: Project, names: string[] = [], opts: {running?: boolean} = {}): Promise<{root: string; services: Service[]}> {
  const {root} = p;
  return {root, services: await selectServices(p, names, opts)};
}

async function unitsAt(p: Project, opts: {running?: boolean; starting?: boolean} = {}): Promise<Units> {
  if (opts.starting) {
    // So that a removed checkout's servers can be found from the others (ps, gc).
    const {recordCheckout} = await import('../services/leftovers.js');
    recordCheckout(p.real, p.git?.commonDir);
  }
  return monorepoUnits(p, opts);
}

/** A unit of a member, named member:unit; what it does is the member's own (its state, ports, logs). */
function memberService(s: Service, prefix: string): Service {
  const name = `${prefix}:${s.name}`;
  return {
    name,
    after: s.after?.map((a) => (a.includes(':') ? a : `${prefix}:${a}`)),
    logFile: s.logFile,
    start: async (o) => ({...(await s.start(o)), name}),
    ready: () => s.ready(),
    stop: async (why) => ({...(await s.stop(why)), name}),
    status: async () => ({...(await s.status()), name}),
  };
}

/**
 * The project's units and, for a root with [project] members, every member's, named
 * member:unit, in one graph: `after = ["api:postgres"]` orders across members.
 */
async function monorepoUnits(p: Project, opts: {running?: boolean} = {}): Promise<Units> {
  const {root} = p;
  const units = await projectUnits(p, opts);
  const {projectMembers} = await import('../services/members.js');
  let members: {name: string; root: string; project: Project}[] = [];
  try {
    members = await projectMembers(p);
  } catch (e) {
    if (!opts.running) throw e;
  }
  if (!members.length) return units;
  const taskRoots = new Map<string, Project>();
  const services = [...units.services];
  const deps = new Map(units.deps);
  for (const m of members) {
    const u = await projectUnits(m.project, opts);
    const ren = (n: string) => `${m.name}:${n}`;
    for (const s of u.services) services.push(memberService(s, m.name));
    for (const [n, t] of u.tasks) {
      units.tasks.set(ren(n), {...t, name: ren(n), after: t.after.map(ren)});
      taskRoots.set(ren(n), m.project);
    }
    for (const [n, k] of u.kind) units.kind.set(ren(n), k);
    for (const [n, d] of u.deps) deps.set(ren(n), [...d.map(ren), ...(u.crossDeps.get(n) ?? [])]);
    for (const [n, p] of u.fixedPorts) units.fixedPorts.set(ren(n), p);
  }
  for (const [n, cross] of units.crossDeps) deps.set(n, [...(deps.get(n) ?? []), ...cross]);
  for (const [n, d] of deps) {
    const unknown = d.filter((x) => !units.kind.has(x));
    if (unknown.length) throw new UsageError(`${n} starts after ${unknown.join(', ')}, which no member defines`, `units here: ${[...units.kind.keys()].join(', ')}`);
  }
  // Dependants after what they need, across members too (down stops in reverse).
  const {topoOrder} = await import('../services/index.js');
  const byName = new Map(services.map((s) => [s.name, s]));
  const ordered = topoOrder(services.map((s) => s.name), deps).filter((n) => byName.has(n)).map((n) => byName.get(n)!);
  return {...units, services: ordered, deps, taskRoots};
}

/**
 * Processes and tasks run in the project's venv and node_modules: like exec, wait for a running
 * setup or run a pending one (in the foreground, output on stderr) before starting them.
 * Services alone (PostgreSQL, ...) do not wait.
 */
async function setupFirst(p: Project, units: Units, order: string[]): Promise<void> {
  if (!order.some((n) => units.kind.get(n) !== 'service')) return;
  const {activationConfig} = await import('../project/dotenv.js');
  const c = activationConfig(p);
  if (!c.python?.venv && !c.node?.install) return;
  const {ensureEnvironment} = await import('../evaluation/evaluate.js');
  const {runningSetup, setupPlan} = await import('../languages/setup.js');
  const {entry} = await ensureEnvironment(p, {progress: true});
  if (!setupPlan(p, entry.spec).steps.length && !runningSetup(p)) return;
  const {setupBeforeExec} = await import('./setup.js');
  await setupBeforeExec(p, entry);
}

function checkPlan(units: Units, order: string[]): void {
  if (!order.length) throw new DevenvError(`this project (${units.root}) defines no services or processes to start`, {hint: "add [services.postgres], [services.redis], [services.mysql] or [processes.<name>] to devenv.toml; tasks run with 'devenv run <task>'", code: 'no_services'});
}

function checkNames(units: Units, names: string[]): void {
  const unknown = names.filter((n) => !units.kind.has(n));
  if (unknown.length) throw new UsageError(`unknown service: ${unknown.join(', ')} (no service, process or task of this project has that name)`, `this project has: ${[...units.kind.keys()].join(', ') || 'none (see devenv.toml)'}`);
  if (!units.kind.size) {
    throw new DevenvError(`this project (${units.root}) defines no services, processes or tasks`, {hint: 'add [services.postgres], [services.redis], [services.mysql], [processes.<name>] or [tasks.<name>] to devenv.toml, then run this again', code: 'no_services'});
  }
}

/** `up -d`: start the plan and return once every service and process is ready. */
export async function upDetached(p: Project, names: string[], io: UpIO, opts: UpOptions = {}): Promise<{root: string; services: StartResult[]; tasks: TaskResult[]}> {
  const units = await unitsAt(p, {starting: true});
  checkNames(units, names);
  const {plan, startUnits} = await import('../services/orchestrate.js');
  const order = plan(units, names);
  checkPlan(units, order);
  await setupFirst(p, units, order);
  const {results, tasks} = await startUnits(units, order, io, opts);
  return {root: units.root, services: results, tasks};
}

export async function upForeground(p: Project, names: string[], io: UpIO, describe: (r: StartResult) => string, opts: UpOptions = {}): Promise<number> {
  const units = await unitsAt(p, {starting: true});
  checkNames(units, names);
  const {plan, runForeground} = await import('../services/orchestrate.js');
  const order = plan(units, names);
  checkPlan(units, order);
  await setupFirst(p, units, order);
  return runForeground(units, order, io, describe, opts);
}

/** `devenv run <task> [-- args]`: what the task needs (services started, tasks run), then the task itself, always. */
export async function runTaskAt(p: Project, task: string, args: string[], io: UpIO, force = false): Promise<{root: string; services: StartResult[]; tasks: TaskResult[]}> {
  const units = await unitsAt(p, {starting: true});
  if (!units.tasks.has(task)) throw new UsageError(`unknown task: ${task}`, units.tasks.size ? `this project's tasks: ${[...units.tasks.keys()].join(', ')}` : 'tasks are declared in devenv.toml as [tasks.<name>] with exec = "..."');
  const {plan, startUnits} = await import('../services/orchestrate.js');
  const order = plan(units, [task]);
  await setupFirst(p, units, order);
  const {results, tasks} = await startUnits(units, order, io, {taskArgs: {name: task, args}, ...(force ? {forceTask: task} : {})});
  return {root: units.root, services: results, tasks};
}

/** Reverse start order: dependants first. Keeps going past one that fails to stop. */
export async function downAt(p: Project, names: string[], onStopped: (r: StopResult) => void): Promise<{root: string; services: StopResult[]; errors: string[]}> {
  const {root} = p;
  const units = await monorepoUnits(p, {running: true});
  if (names.length) checkNames(units, names);
  const chosen = names.length ? units.services.filter((s) => names.includes(s.name)) : units.services;
  if (!units.services.length) {
    throw new DevenvError(`this project (${root}) defines no services or processes`, {hint: 'add [services.postgres], [services.redis], [services.mysql] or [processes.<name>] to devenv.toml', code: 'no_services'});
  }
  const {stopAll} = await import('../services/orchestrate.js');
  const errors: string[] = [];
  const results = await stopAll(chosen, onStopped, (s, e) => errors.push(`${s.name}: ${e.message}`));
  return {root, services: results, errors};
}

export async function listServices(p: Project): Promise<{root: string; services: ServiceStatus[]; removed: RemovedCheckout[]; manifestError?: {message: string; hint?: string}; autoStart?: AutoStartStatus}> {
  const {removedCheckouts} = await import('../services/leftovers.js');
  // Another checkout of this repository, removed while its servers ran: they run on, unreachable from there.
  const removed = p.git ? await removedCheckouts(p.git.commonDir) : [];
  const units = await monorepoUnits(p, {running: true});
  const services = await Promise.all(units.services.map(async (s) => ({kind: 'service' as const, ...(await s.status())})));
  const configError = units.configError;
  const manifestError = configError ? {message: configError.message, hint: (configError as {hint?: string}).hint} : undefined;
  // [services] auto-start: which shells keep the units up (only while a supervisor runs).
  const {autoStartStatus} = await import('./autostart-state.js');
  const autoStart = autoStartStatus(p);
  return {root: p.root, services, removed, ...(manifestError ? {manifestError} : {}), ...(autoStart ? {autoStart} : {})};
}

/** Log files to show: services', processes' and tasks' (all when none named). */
export async function logFilesAt(p: Project, name?: string): Promise<{name: string; logFile: string}[]> {
  const units = await unitsAt(p, {running: true});
  const all = [...units.services.map((s) => ({name: s.name, logFile: s.logFile})), ...[...units.tasks.values()].map((t) => ({name: t.name, logFile: t.logFile}))];
  if (!all.length) throw new DevenvError(`this project (${units.root}) defines no services, processes or tasks`, {code: 'no_services', hint: 'see devenv.toml'});
  if (!name) return all;
  const one = all.filter((x) => x.name === name);
  if (!one.length) throw new UsageError(`unknown service: ${name} (no service, process or task of this project has that name)`, `this project has: ${all.map((x) => x.name).join(', ')}`);
  return one;
}

/**
 * A fixed port (port = N) is the port the tests connect to, so a test instance takes it or
 * does not run: never a silent remap that would leave the tests talking to the developer's server.
 */
async function refuseTakenFixedPorts(units: Units, order: string[], mine: ServiceStatus[]): Promise<void> {
  const {portFree} = await import('../services/process.js');
  const {portTaker} = await import('../services/ports.js');
  for (const n of order) {
    const port = units.fixedPorts.get(n);
    if (port === undefined || (await portFree(port)).free) continue;
    const own = mine.find((s) => s.port === port && s.pid && !['stopped', 'crashed', 'failed', 'exited'].includes(s.state));
    const taker = own ? undefined : portTaker(port);
    const who = own ? `your running ${own.name} (pid ${own.pid})` : taker ? `pid ${taker.pid}${taker.command ? ` (${taker.command.slice(0, 60)})` : ''}` : 'another program';
    const section = units.kind.get(n) === 'service' ? `services.${n}` : `processes.${n}`;
    throw new ServiceError(
      `devenv test: ${n} needs port ${port} (fixed in devenv.toml), which ${who} holds; a throwaway ${n} cannot take it, and the tests would reach that one instead`,
      `${own ? `stop yours first ('devenv down ${own.name}')` : `stop ${taker ? `pid ${taker.pid}` : 'it'}`}, or remove port = ${port} from [${section}] so devenv test gets a port of its own`,
    );
  }
}

/**
 * `devenv test`: a throwaway instance (temp state dir, ports of its own), every service and
 * process started, [tasks.test] run, everything stopped and removed; resolves to the task's
 * exit code. The developer's running servers are never touched.
 */
export async function testAt(p: Project, io: UpIO): Promise<{root: string; exitCode: number; services: StartResult[]; tasks: TaskResult[]}> {
  const {root} = p;
  const {randomBytes} = await import('node:crypto');
  const {mkdtempSync, rmSync} = await import('node:fs');
  const {tmpdir} = await import('node:os');
  const {join} = await import('node:path');
  const {releasePorts} = await import('../services/ports.js');
  const {withInstance} = await import('../project/project.js');
  // The developer's own units, to say who holds a fixed port a test instance needs.
  const mine = await servicesStatus(p).catch(() => [] as ServiceStatus[]);
  const tag = `test-${randomBytes(4).toString('hex')}`;
  const stateBase = mkdtempSync(join(tmpdir(), 'devenv-test-state-'));
  // The throwaway instance is a handle of its own: every path and port below follows from it.
  const t = withInstance(p, {tag, stateBase});
  const started: Service[] = [];
  try {
    const units = await projectUnits(t);
    if (!units.tasks.has('test')) throw new UsageError('this project has no [tasks.test]', 'add one to devenv.toml, e.g.\n  [tasks.test]\n  exec = "pytest"\n  after = ["postgres"]');
    const {plan, startUnits, stopAll, TaskFailed} = await import('../services/orchestrate.js');
    const {closure} = await import('../services/index.js');
    // "Against throwaway servers" means they are up: the test task comes after every service
    // and process (except one that itself comes after the test task).
    const servers = units.services.map((s) => s.name).filter((n) => !closure([n], units.deps).has('test'));
    units.deps.set('test', [...new Set([...(units.deps.get('test') ?? []), ...servers])]);
    const order = plan(units, [...servers, 'test']);
    await refuseTakenFixedPorts(units, order, mine);
    await setupFirst(p, units, order);
    try {
      const {results, tasks} = await startUnits(units, order, io, {forceTask: 'test'}, started);
      return {root, exitCode: 0, services: results, tasks};
    } catch (e) {
      if (e instanceof TaskFailed && e.task === 'test') return {root, exitCode: e.exitCode, services: [], tasks: []};
      throw e;
    } finally {
      await stopAll(started, (r) => io.note(`${r.name}: stopped${r.pid ? ` (pid ${r.pid})` : ''}`), (s, e) => io.note(`${s.name}: could not stop: ${e.message}`));
    }
  } finally {
    const key = `#${tag}`;
    releasePorts((r) => r.endsWith(key));
    rmSync(stateBase, {recursive: true, force: true});
    for (const s of SERVICE_NAMES) rmSync(t.layout.socketDir(s), {recursive: true, force: true});
    const own = p.stateDir;
    for (const f of [`processes-${tag}`, `tasks-${tag}`, `mysql-home-${tag}`, `project-env-${tag}.json`, join('services', `config-${tag}.json`)]) rmSync(join(own, f), {recursive: true, force: true});
  }
}

/** `devenv logs --json`: the last `lines` lines of each log (all of them when not given). */
export async function readLogsAt(p: Project, name?: string, lines?: number): Promise<{root: string; logs: {name: string; logFile: string; lines: string[]}[]}> {
  const {root} = p;
  const logs = (await logFilesAt(p, name)).map((l) => ({...l, lines: readTail(l.logFile, lines ?? Number.MAX_SAFE_INTEGER, true)}));
  return {root, logs};
}
