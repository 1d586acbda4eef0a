// `up` for the whole project: services, processes and tasks started in dependency order
// (each after what its `after` names is ready or done), stopped in reverse. In the foreground
// every log streams with a coloured name prefix; Ctrl-C stops what this run started.
import {DevenvError, ServiceError} from '../errors.js';
import {closure, type Units, projectToolsEnv, topoOrder} from './index.js';
import {fileSize, followFile, sleep, tailLines} from './process.js';
import type {Service, StartOptions, StartResult, StopResult} from './service.js';
import {runTask, type TaskResult} from './tasks.js';

export interface UpIO {
  /** A log line, already prefixed. */
  line(text: string): void;
  /** A devenv note (stderr). */
  note(text: string): void;
  started?(r: StartResult): void;
  task?(r: TaskResult): void;
  /** Colour the name prefixes. */
  colour?: boolean;
}

export interface UpOptions extends Pick<StartOptions, 'seedFrom'> {
  /** Extra arguments for the one task `devenv run` names. */
  taskArgs?: {name: string; args: string[]};
  /** This task runs even when its sources are unchanged (the one `devenv run` names). */
  forceTask?: string;
  /** Aborted on Ctrl-C: readiness waits and tasks end, what was started is stopped. */
  signal?: AbortSignal;
}

const COLOURS = [36, 33, 35, 32, 34, 31, 96, 93, 95, 92, 94, 91];

export function prefixer(names: string[], colour: boolean): (name: string) => string {
  const width = Math.max(0, ...names.map((n) => n.length));
  return (name) => {
    const i = Math.max(0, names.indexOf(name));
    const p = `${name.padEnd(width)} | `;
    return colour ? `\x1b[${COLOURS[i % COLOURS.length]}m${p}\x1b[0m` : p;
  };
}

/** What `up names...` runs, in order: the named units (default: every service and process) and what they need. */
export function plan(units: Units, names: string[]): string[] {
  const all = [...units.services.map((s) => s.name)];
  const wanted = closure(names.length ? names : all, units.deps);
  return topoOrder([...units.services.map((s) => s.name), ...units.tasks.keys()], units.deps).filter((n) => wanted.has(n));
}

export class TaskFailed extends DevenvError {
  constructor(
    readonly task: string,
    readonly exitCode: number,
  ) {
    super(`task ${task} failed (exit code ${exitCode})`, {hint: `see its output above (also in .devenv/state/tasks/${task}.log)`, code: 'task_failed', exitCode: exitCode > 0 && exitCode < 256 ? exitCode : 1});
  }
}

/**
 * Start the plan's units, each as soon as what its `after` names is ready (or done): units
 * that do not depend on each other start in parallel. On a failure, what this run started is
 * stopped again (in reverse) and the first error rethrown. Returns what was started.
 */
export async function startUnits(units: Units, order: string[], io: UpIO, opts: UpOptions = {}, started: Service[] = []): Promise<{results: StartResult[]; tasks: TaskResult[]}> {
  const byName = new Map(units.services.map((s) => [s.name, s]));
  const results: StartResult[] = [];
  const tasks: TaskResult[] = [];
  const pre = prefixer(order, !!io.colour);
  // A member's task (monorepo up) runs in its own project's directory and environment.
  const envs = new Map<string, Promise<NodeJS.ProcessEnv>>();
  const envOf = (root: string) => envs.get(root) ?? envs.set(root, projectToolsEnv(root).then((x) => x.env)).get(root)!;
  let failed = false;
  const done = new Map<string, Promise<void>>();
  const startOne = async (n: string): Promise<void> => {
    const deps = (units.deps.get(n) ?? []).filter((d) => done.has(d));
    await Promise.all(deps.map((d) => done.get(d)));
    if (failed || opts.signal?.aborted) return;
    const s = byName.get(n);
    if (s) {
      const r = await s.start({onProgress: (m) => io.note(`${n}: ${m}`), seedFrom: opts.seedFrom, signal: opts.signal});
      if (r.started) started.push(s);
      results.push(r);
      io.started?.(r);
      return;
    }
    const t = units.tasks.get(n)!;
    const root = units.taskRoots?.get(n) ?? units.root;
    const args = opts.taskArgs?.name === n ? opts.taskArgs.args : [];
    const r = await runTask(root, t, {...(await envOf(root)), ...(t.env ?? {})}, (l) => io.line(pre(n) + l), args, opts.forceTask === n, opts.signal);
    tasks.push(r);
    io.task?.(r);
    if (r.exitCode !== 0) throw new TaskFailed(n, r.exitCode);
  };
  // `order` is topological: a unit's dependencies are registered before it.
  for (const n of order) {
    const p = startOne(n);
    p.catch(() => (failed = true));
    done.set(n, p);
  }
  const settled = await Promise.allSettled(done.values());
  // Stopping goes in reverse dependency order, not in the order the parallel starts finished.
  started.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  const err = settled.find((x) => x.status === 'rejected') as PromiseRejectedResult | undefined;
  if (err) {
    if (started.length) {
      io.note(`stopping what this run started: ${[...started].reverse().map((s) => s.name).join(', ')}`);
      await stopAll(started, () => {}, undefined, String(opts.signal?.reason ?? 'devenv up (a unit it needed failed)'));
      started.length = 0;
    }
    throw err.reason;
  }
  return {results, tasks};
}

/** Reverse order: dependants first. Errors are collected, never stop the others from stopping. */
export async function stopAll(services: Service[], onStopped: (r: StopResult) => void, onError?: (s: Service, e: Error) => void, why?: string): Promise<StopResult[]> {
  const out: StopResult[] = [];
  for (const s of [...services].reverse()) {
    try {
      const r = await s.stop(why);
      out.push(r);
      onStopped(r);
    } catch (e) {
      onError?.(s, e as Error);
    }
  }
  return out;
}

/**
 * Foreground `up`: follow the logs from before the start (so start-up lines show), start the
 * plan, then wait. On SIGINT/SIGTERM/SIGHUP stop what this run started, in reverse order.
 * A service that dies, or a process that gives up restarting, stops the others.
 */
export async function runForeground(units: Units, order: string[], io: UpIO, describe: (r: StartResult) => string, opts: UpOptions = {}): Promise<number> {
  const byName = new Map(units.services.map((s) => [s.name, s]));
  const followed = order.filter((n) => byName.has(n)).map((n) => byName.get(n)!);
  const pre = prefixer(order, !!io.colour);
  const offsets = new Map(followed.map((s) => [s.name, fileSize(s.logFile)]));
  const started: Service[] = [];
  const abort = new AbortController();
  const follow = new AbortController();
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) {
      io.note(`still stopping (${sig} again ignored; the servers must shut down cleanly)`);
      return;
    }
    signalled = sig;
    io.note(started.length || starting ? `${sig}: stopping ${[...started].reverse().map((s) => s.name).join(', ') || 'what this run was starting'}` : `${sig}: stopped following; what was already running keeps running ('devenv down' stops it)`);
    abort.abort(sig === 'SIGINT' ? 'Ctrl-C of devenv up' : `${sig} to devenv up`);
  };
  let starting = true;
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  // A unit's log streams once it is up (from where it stood before the start, so nothing is
  // missed): its "ready" line then means ready, databases created and all.
  const follows: Promise<void>[] = [];
  const followOne = (r: StartResult) => {
    const s = byName.get(r.name);
    if (!s) return;
    follows.push(followFile(s.logFile, r.started ? offsets.get(s.name)! : fileSize(s.logFile), (l) => io.line(pre(s.name) + l), follow.signal));
  };
  const finish = async () => {
    started.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
    const why = abort.signal.reason && signalled ? String(abort.signal.reason) : 'devenv up (another unit ended)';
    await stopAll(started, (r) => io.note(`${r.name}: ${r.stopped ? `stopped${r.pid ? ` (pid ${r.pid})` : ''}` : 'was not running'}`), (s, e) => io.note(`${s.name}: could not stop: ${e.message}`), why);
    follow.abort();
    await Promise.all(follows);
  };
  try {
    try {
      await startUnits(
        units,
        order,
        {
          ...io,
          started: (r) => {
            io.note(describe(r) + (r.started ? '' : "; following its log (Ctrl-C stops following, 'devenv down' stops it)"));
            followOne(r);
          },
        },
        {...opts, signal: abort.signal},
        started,
      );
    } catch (e) {
      follow.abort();
      await Promise.all(follows);
      // Ctrl-C while starting: what this run started is stopped already (startUnits did).
      if (signalled) {
        io.note(`${signalled}: interrupted while starting; stopped what this run had started`);
        return 130;
      }
      throw e;
    }
    starting = false;
    // Ctrl-C between two units: the rest were not started; those that were are stopped below.
    const cutShort = !!signalled;
    let died: string | undefined;
    // Only tasks (up <task>): they are done, nothing to follow.
    if (!followed.length) abort.abort();
    while (!abort.signal.aborted) {
      await sleep(250);
      for (const s of followed) {
        if (abort.signal.aborted) break;
        const st = await s.status();
        if (['running', 'starting', 'stopping', 'backoff', 'deleted'].includes(st.state)) continue;
        if (st.state === 'exited') continue; // a process that finished cleanly with restart = "never"
        if (st.state === 'stopped') {
          io.note(`${s.name} was stopped`);
          abort.abort();
          break;
        }
        died = `${s.name} is ${st.state}${st.detail ? ` (${st.detail})` : ''}; the end of its log:\n    ${tailLines(s.logFile, 10).join('\n    ')}`;
        abort.abort();
      }
    }
    await finish();
    if (died) throw new ServiceError(`${died}\nstopped the others`, "see 'devenv logs', then run 'devenv up' again");
    return cutShort ? 130 : 0;
  } finally {
    abort.abort();
    follow.abort();
    for (const s of signals) process.off(s, onSignal);
  }
}
