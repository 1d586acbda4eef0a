// The keeper of one user process ([processes.<name>]): started detached by `devenv up`, it runs
// the command in a process group of its own, checks readiness, restarts it per its policy with
// backoff and a limit, and records what it sees in a state file that `ps` and `up` read. It
// outlives `up -d`; `down` sends it SIGTERM and it stops its process group before it exits.
// Node built-ins only: it must start fast, and it must not need /proc.
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {closeSync, constants, openSync, readFileSync, renameSync, writeFileSync, writeSync} from 'node:fs';
import {request} from 'node:http';
import {createConnection} from 'node:net';
import {restartBackoffMs} from './restart.js';
import {identityOf, type ProcIdentity} from '../util/proc.js';
import {groupAlive, killGroup, stopLadder} from './ladder.js';

export interface KeeperSpec {
  name: string;
  exec: string;
  env: Record<string, string>;
  cwd: string;
  logFile: string;
  stateFile: string;
  restart: 'never' | 'on-failure' | 'always';
  maxRestarts: number;
  ready?: {tcp?: number; http?: string; exec?: string};
  port?: number;
}

export interface KeeperState {
  keeperPid: number;
  /** Proof that keeperPid is still this keeper (pids get reused, and the state outlives a reboot). */
  keeperId?: ProcIdentity;
  pid?: number;
  /** The same for the process (the leader of its group). */
  pidId?: ProcIdentity;
  state: 'starting' | 'running' | 'backoff' | 'failed' | 'exited' | 'stopping' | 'stopped';
  ready: boolean;
  restarts: number;
  port?: number;
  lastExit?: {code: number | null; signal: string | null; at: string};
  startedAt: string;
  /** Why it gave up, for `up` and `ps`. */
  detail?: string;
}

/** How long a process without a ready check must stay up to count as ready. */
const SETTLE_MS = 500;

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({host: '127.0.0.1', port});
    const t = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 1000);
    s.once('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve(true);
    });
    s.once('error', () => {
      clearTimeout(t);
      resolve(false);
    });
  });
}

function httpOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, {method: 'GET', timeout: 2000}, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 400);
    });
    req.once('error', () => resolve(false));
    req.once('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

async function main(specFile: string): Promise<void> {
  const spec: KeeperSpec = JSON.parse(readFileSync(specFile, 'utf8'));
  const logFd = openSync(spec.logFile, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  const note = (msg: string) => writeSync(logFd, `--- devenv: ${msg} (${new Date().toISOString()})\n`);
  const st: KeeperState = {keeperPid: process.pid, keeperId: identityOf(process.pid), state: 'starting', ready: false, restarts: 0, port: spec.port, startedAt: new Date().toISOString()};
  const save = () => {
    const tmp = `${spec.stateFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(st) + '\n', {mode: 0o600});
    renameSync(tmp, spec.stateFile);
  };
  let child: ChildProcess | undefined;
  let stopping = false;
  let wake: (() => void) | undefined;

  const onStop = () => {
    if (stopping) return;
    stopping = true;
    st.state = 'stopping';
    save();
    wake?.();
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', () => {});

  let spawnedAt = 0;
  const ready = async (): Promise<boolean> => {
    const r = spec.ready;
    // Without a check: ready once it has stayed up a moment (a crash loop is not "ready").
    if (!r) return Date.now() - spawnedAt >= SETTLE_MS;
    if (r.tcp) return tcpOpen(r.tcp);
    if (r.http) return httpOk(r.http);
    if (r.exec) return spawnSync('bash', ['-c', r.exec], {env: spec.env, cwd: spec.cwd, stdio: 'ignore', timeout: 10_000}).status === 0;
    return true;
  };

  let failuresInARow = 0;
  for (;;) {
    if (stopping) break;
    note(`starting ${spec.name}: ${spec.exec}`);
    const t0 = Date.now();
    child = spawn('bash', ['-c', spec.exec], {cwd: spec.cwd, env: spec.env, detached: true, stdio: ['ignore', logFd, logFd]});
    let exit: {code: number | null; signal: string | null} | undefined;
    const exited = new Promise<void>((resolve) => {
      child!.once('exit', (code, signal) => {
        exit = {code, signal};
        wake?.();
        resolve();
      });
      child!.once('error', (e) => {
        exit = {code: 127, signal: null};
        note(`cannot start: ${e.message}`);
        wake?.();
        resolve();
      });
    });
    spawnedAt = Date.now();
    st.pid = child.pid;
    st.pidId = child.pid ? identityOf(child.pid) : undefined;
    st.state = 'running';
    st.ready = false;
    save();
    // Readiness, until it passes or the process ends.
    while (!exit && !stopping && !st.ready) {
      if (await ready()) {
        st.ready = true;
        save();
        break;
      }
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50);
      });
    }
    while (!exit && !stopping) {
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 1000);
      });
    }
    if (stopping) break;
    await exited;
    const ranMs = Date.now() - t0;
    st.lastExit = {...exit!, at: new Date().toISOString()};
    st.ready = false;
    // Whatever the shell left behind in its group goes too.
    if (child.pid) await killGroup(child.pid);
    const failed = exit!.code !== 0;
    note(`${spec.name} exited (${exit!.signal ? `signal ${exit!.signal}` : `exit code ${exit!.code}`}) after ${(ranMs / 1000).toFixed(1)}s`);
    const again = spec.restart === 'always' || (spec.restart === 'on-failure' && failed);
    if (!again) {
      st.state = failed ? 'failed' : 'exited';
      save();
      return;
    }
    failuresInARow = ranMs > 10_000 ? 0 : failuresInARow + 1;
    if (failuresInARow > spec.maxRestarts) {
      st.state = 'failed';
      st.detail = `exited ${failuresInARow} times in a row; gave up (max_restarts = ${spec.maxRestarts})`;
      note(`${spec.name} ${st.detail}`);
      save();
      return;
    }
    const backoff = restartBackoffMs(failuresInARow);
    st.state = 'backoff';
    st.restarts++;
    save();
    note(`restarting ${spec.name} in ${backoff} ms (restart ${st.restarts})`);
    await new Promise<void>((r) => {
      wake = r;
      setTimeout(r, backoff);
    });
  }
  // Stopping: SIGTERM to the group, then SIGKILL what is left.
  if (child?.pid && groupAlive(child.pid)) {
    const said: string[] = [];
    await stopLadder({group: child.pid}, [{signal: 'SIGTERM', waitMs: 10_000}, {signal: 'SIGKILL', waitMs: 10_000, note: `${spec.name} ignored SIGTERM for 10s; killed it`}], said);
    for (const n of said) note(n);
  }
  st.state = 'stopped';
  st.ready = false;
  save();
  note(`stopped ${spec.name}`);
  closeSync(logFd);
}

if (process.argv[2]) {
  main(process.argv[2]).then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`devenv keeper: ${(e as Error).stack}\n`);
      process.exit(1);
    },
  );
}
