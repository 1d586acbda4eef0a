// `devenv up` in the foreground: start the services, stream their logs with a "name | " prefix,
// and on Ctrl-C (SIGINT), SIGTERM or SIGHUP stop what this run started. Services that were
// already running are followed but left running (they belong to an earlier `up -d`).
import {ServiceError} from '../errors.js';
import {fileSize, followFile, sleep} from './process.js';
import type {Service, StartResult} from './service.js';

export interface ForegroundIO {
  /** A log line, already prefixed. */
  line(text: string): void;
  /** A devenv note (stderr). */
  note(text: string): void;
}

export async function runForeground(services: Service[], io: ForegroundIO, describe: (r: StartResult) => string): Promise<number> {
  const width = Math.max(...services.map((s) => s.name.length));
  const offsets = new Map(services.map((s) => [s.name, fileSize(s.logFile)]));
  const started: Service[] = [];
  // `done` ends the wait; `follow` ends log streaming, only after the stop, so the shutdown lines show.
  const abort = new AbortController();
  const follow = new AbortController();
  let stopping: Promise<void> | undefined;
  let signalled: NodeJS.Signals | undefined;

  const stopStarted = () =>
    (stopping ??= (async () => {
      for (const s of [...started].reverse()) {
        try {
          const r = await s.stop();
          io.note(`${s.name}: ${r.stopped ? `stopped (pid ${r.pid})` : 'was not running'}`);
        } catch (e) {
          io.note(`${s.name}: could not stop: ${(e as Error).message}`);
        }
      }
    })());

  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) {
      io.note(`still stopping (${sig} again ignored; the servers must shut down cleanly)`);
      return;
    }
    signalled = sig;
    if (started.length) io.note(`${sig}: stopping ${started.map((s) => s.name).join(', ')}`);
    else io.note(`${sig}: stopped following; the services keep running ('devenv down' stops them)`);
    abort.abort();
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);

  const follows: Promise<void>[] = [];
  try {
    for (const s of services) {
      if (signalled) break;
      let r: StartResult;
      try {
        r = await s.start({onProgress: (m) => io.note(`${s.name}: ${m}`)});
      } catch (e) {
        await stopStarted();
        throw e;
      }
      if (r.started) started.push(s);
      io.note(describe(r) + (r.started ? '' : "; following its log (Ctrl-C stops following, 'devenv down' stops it)"));
      const prefix = `${s.name.padEnd(width)} | `;
      follows.push(followFile(s.logFile, r.started ? offsets.get(s.name)! : fileSize(s.logFile), (l) => io.line(prefix + l), follow.signal));
    }
    // Watch for a service dying under us while the logs stream.
    let died: string | undefined;
    while (!abort.signal.aborted) {
      await sleep(250);
      for (const s of services) {
        const st = await s.status();
        if (abort.signal.aborted || ['running', 'starting', 'stopping'].includes(st.state)) continue;
        // Stopped by `devenv down` elsewhere: a normal end. Anything else is a failure.
        if (st.state === 'stopped') io.note(`${s.name} was stopped`);
        else died = `${s.name} is ${st.state}${st.detail ? ` (${st.detail})` : ''}`;
        abort.abort();
      }
    }
    await stopStarted();
    follow.abort();
    await Promise.all(follows);
    if (died) throw new ServiceError(`${died}; stopped the others`, "see 'devenv logs', then run 'devenv up' again");
    return 0;
  } finally {
    abort.abort();
    follow.abort();
    for (const s of signals) process.off(s, onSignal);
  }
}
