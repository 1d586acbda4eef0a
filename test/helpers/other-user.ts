// "Another local user": commands run as devenv-other, a second unprivileged user, through the
// agent scripts/run-jest.sh starts (scripts/other-user-agent.mjs). For tests of what other
// users of the machine can see (/proc/*/cmdline) or reach (a server on 127.0.0.1).
import {createConnection, type Socket} from 'node:net';

export interface OtherRun {
  /** Its pid, once running. */
  started: Promise<number>;
  /** Resolves when it has ended. */
  done: Promise<{status: number | null; signal: string | null; stdout: string; stderr: string}>;
  /** Output so far. */
  stdout(): string;
  /** Resolves once its stdout matches (rejects after `ms`). */
  waitFor(re: RegExp, ms?: number): Promise<void>;
  /** Close its stdin. */
  end(): void;
}

function agentSocket(): string {
  const s = process.env.DEVENV_OTHER_AGENT;
  if (!s) throw new Error('DEVENV_OTHER_AGENT is not set: run the tests through scripts/run-tests.sh, which starts an agent as the second user (devenv-other)');
  return s;
}

/** Run `cmd args` as the other user; `input` goes to its stdin (which stays open until end()). */
export function asOtherUser(cmd: string, args: string[], opts: {env?: Record<string, string>; input?: string; keepStdin?: boolean} = {}): OtherRun {
  const sock: Socket = createConnection(agentSocket());
  let out = '';
  let err = '';
  let pending = '';
  const waiters: {re: RegExp; resolve: () => void}[] = [];
  let onStart!: (pid: number) => void;
  let onFail!: (e: Error) => void;
  const started = new Promise<number>((resolve, reject) => {
    onStart = resolve;
    onFail = reject;
  });
  const done = new Promise<{status: number | null; signal: string | null; stdout: string; stderr: string}>((resolve, reject) => {
    let exit: {status: number | null; signal: string | null} | undefined;
    sock.on('data', (d) => {
      pending += d.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const ev = JSON.parse(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        if (ev.started) onStart(ev.started);
        if (ev.out) out += ev.out;
        if (ev.err) err += ev.err;
        if (ev.error) onFail(new Error(`as the other user: ${ev.error}`));
        if ('exit' in ev) exit = {status: ev.exit, signal: ev.signal};
      }
      for (const w of waiters.filter((w) => w.re.test(out))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    });
    sock.once('error', (e) => {
      onFail(e);
      reject(e);
    });
    sock.once('close', () => {
      if (exit) resolve({...exit, stdout: out, stderr: err});
      else {
        const e = new Error(`the other-user agent hung up: ${err}`);
        onFail(e);
        reject(e);
      }
    });
  });
  sock.write(JSON.stringify({cmd, args, env: opts.env}) + '\n' + (opts.input ?? ''));
  if (!opts.keepStdin) sock.end();
  return {
    started,
    done,
    stdout: () => out,
    waitFor: (re, ms = 30_000) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(out)) return resolve();
        const t = setTimeout(() => reject(new Error(`the other user's command did not print ${re} within ${ms} ms; it printed: ${out}${err}`)), ms);
        waiters.push({re, resolve: () => (clearTimeout(t), resolve())});
      }),
    end: () => sock.end(),
  };
}

/** Node as the other user, running `script` (CommonJS, -e). */
export const nodeAsOtherUser = (script: string, opts: {input?: string; keepStdin?: boolean; args?: string[]} = {}): OtherRun =>
  asOtherUser(process.execPath, ['-e', script, ...(opts.args ?? [])], {input: opts.input, keepStdin: opts.keepStdin});

/**
 * Watches every process's command line as the other user (as any local user can, through /proc)
 * until end(); `done` then prints them, one JSON array of distinct command lines. A forked child
 * shows its parent's command line until it execs, so a pid is re-read for 3 s after it appears
 * (again when it is reused); older ones are skipped (a pass stays short, and short-lived clients are not missed).
 */
export function watchCommandLines(): OtherRun {
  const script = `
const fs = require('fs');
const seen = new Set();
const born = new Map();
let stop = false, passes = 0;
process.stdin.on('end', () => { stop = true; });
process.stdin.resume();
function pass() {
  const now = Date.now();
  const list = fs.readdirSync('/proc');
  if (passes % 100 === 0) { const live = new Set(list); for (const k of born.keys()) if (!live.has(k)) born.delete(k); }
  for (const e of list) {
    if (e.charCodeAt(0) > 57) continue;
    const b = born.get(e);
    if (b === undefined) born.set(e, now);
    else if (now - b > 3000) continue;
    try { const c = fs.readFileSync('/proc/' + e + '/cmdline', 'latin1'); if (c) seen.add(c.replace(/\\0/g, ' ').trim()); } catch {}
  }
  passes++;
}
function loop() {
  pass();
  if (passes === 1) process.stdout.write('watching\\n');
  if (stop) { process.stdout.write(JSON.stringify({passes, cmdlines: [...seen]}) + '\\n'); return; }
  setImmediate(loop);
}
loop();`;
  return nodeAsOtherUser(script, {keepStdin: true});
}
