// `devenv watch`: service printing, the per-user lock, signals; the watcher itself is watch/watcher.ts.
import {homedir} from 'node:os';
import {join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {DevenvError, UsageError} from '../errors.js';
import {tilde} from '../paths.js';
import {findRoot} from '../project/find.js';
import {exists} from '../util/fs.js';
import {type ServiceFormat, renderLaunchdPlist, renderSystemdUnit, serviceEnv} from '../watch/service.js';
import {acquireWatchLock} from '../watch/state.js';
import {Watcher, stamp} from '../watch/watcher.js';
import {refresh} from './refresh.js';

export interface RunWatchOptions {
  dirs: string[];
  cwd: string;
  printService?: boolean;
  quietMs?: number;
  out: (s: string) => void;
}

const FORMATS: ServiceFormat[] = ['systemd', 'launchd'];

export function printService(args: string[], cwd: string): string {
  let format: ServiceFormat = process.platform === 'darwin' ? 'launchd' : 'systemd';
  const rest = [...args];
  if (FORMATS.includes(rest[0] as ServiceFormat)) format = rest.shift() as ServiceFormat;
  else if (rest[0] && !exists(resolve(cwd, rest[0]))) throw new UsageError(`unknown service format '${rest[0]}'`, "use 'systemd' (a systemd user unit) or 'launchd' (a macOS launch agent)");
  const roots = rest.map((d) => projectRoot(d, cwd));
  const spec = {
    node: process.execPath,
    bin: fileURLToPath(new URL('../../bin/run.js', import.meta.url)),
    args: roots,
    env: serviceEnv(process.env),
    logFile: join(homedir(), 'Library', 'Logs', 'devenv-watch.log'),
  };
  return format === 'systemd' ? renderSystemdUnit(spec) : renderLaunchdPlist(spec);
}

function projectRoot(dir: string, cwd: string): string {
  const abs = resolve(cwd, dir);
  if (!exists(abs)) throw new UsageError(`${dir}: no such directory`, 'pass project directories, or no argument to watch every allowed project');
  const root = findRoot(abs);
  if (!root) throw new UsageError(`${dir} is not inside a devenv project (no devenv.toml or flake.nix)`, "pass project directories, or no argument to watch every allowed project");
  return root;
}

/** Runs until SIGINT/SIGTERM; returns the exit code. */
export async function runWatch(o: RunWatchOptions): Promise<number> {
  if (o.printService) {
    o.out(printService(o.dirs, o.cwd));
    return 0;
  }
  const roots = o.dirs.length ? [...new Set(o.dirs.map((d) => projectRoot(d, o.cwd)))] : undefined;
  const lock = acquireWatchLock();
  if (!lock.ok) {
    const {pid, since} = lock.owner;
    throw new DevenvError(`a watcher is already running (pid ${pid}${since ? `, since ${since}` : ''})`, {
      hint: `one watcher serves every allowed project; stop it with 'kill ${pid}' to start another`,
      code: 'watcher_running',
    });
  }
  const log = (line: string) => o.out(line + '\n');
  const watcher = new Watcher({roots, quietMs: o.quietMs, log, refresh: (p) => refresh(p), onState: (s) => lock.update(s)});
  let stopping: Promise<number> | undefined;
  const done = new Promise<number>((res) => {
    const stop = (sig: string) => {
      stopping ??= (async () => {
        log(`${stamp()} devenv watch: ${sig}, stopping`);
        await watcher.stop();
        lock.release();
        return 0;
      })();
      void stopping.then(res);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGHUP', () => stop('SIGHUP'));
  });
  try {
    await watcher.start();
  } catch (e) {
    await watcher.stop();
    lock.release();
    throw e;
  }
  const list = watcher.roots.map(tilde);
  log(`${stamp()} devenv watch (pid ${process.pid}): watching ${list.length} project${list.length === 1 ? '' : 's'}${list.length ? ': ' + list.join(', ') : ''}${roots ? '' : '; projects allowed later are added'}`);
  const code = await done;
  // Evaluations still running belong to nix children; do not wait for them.
  process.exit(code);
}
