// The one way devenv runs a program to its end and collects what it said, with one result
// shape: on execa, loaded on first use. Not for the hot path (exec, the hook): importing execa
// costs more than a warm exec, so those spawn with node:child_process themselves, as do the
// long-lived children (a server's detached group, a keeper, a streamed task or process).

export interface RunResult {
  /** Its exit code; 127 when it could not be started, 128 + n when a signal ended it. */
  exitCode: number;
  /** The signal that ended it (a timeout's SIGTERM, a Ctrl-C). */
  signal?: string;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they came. */
  all: string;
  /** Why it did not end on its own: it was not found (ENOENT), it timed out. */
  error?: string;
}

export interface RunOptions {
  cwd?: string;
  /** Its whole environment; ours when not given. */
  env?: NodeJS.ProcessEnv;
  /** Written to its stdin (statements with a password stay off the command line); else stdin is empty. */
  input?: string;
  timeoutMs?: number;
  maxBuffer?: number;
  /** stdin, stdout and stderr are ours (an interactive engine); nothing is collected. */
  inherit?: boolean;
  /** Ctrl-C and SIGTERM of devenv reach it as well (a foreground container). */
  forwardSignals?: boolean;
}

const SIGNALS: Record<string, number> = {SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function options(o: RunOptions): any {
  return {
    cwd: o.cwd,
    ...(o.env ? {env: o.env, extendEnv: false} : {}),
    ...(o.input !== undefined ? {input: o.input} : {stdin: o.inherit ? 'inherit' : 'ignore'}),
    ...(o.inherit ? {stdout: 'inherit', stderr: 'inherit'} : {all: true}),
    timeout: o.timeoutMs,
    maxBuffer: o.maxBuffer ?? 64 * 1024 * 1024,
    reject: false,
    stripFinalNewline: false,
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function result(r: any): RunResult {
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  const signal: string | undefined = r.signal ?? undefined;
  const started = typeof r.exitCode === 'number' || signal !== undefined;
  const exitCode = typeof r.exitCode === 'number' ? r.exitCode : signal ? 128 + (SIGNALS[signal] ?? 15) : 127;
  const error = r.timedOut ? 'timed out' : !started ? (r.code ?? r.shortMessage ?? 'failed to start') : undefined;
  return {exitCode, ...(signal ? {signal} : {}), stdout: text(r.stdout), stderr: text(r.stderr) || (!started ? String(r.shortMessage ?? '') : ''), all: text(r.all), ...(error ? {error} : {})};
}

/** Run `cmd` (no shell) to its end. Never throws for the program's failure: look at exitCode. */
export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const {execa} = await import('execa');
  const sub = execa(cmd, args, options(opts));
  const fwd = (sig: NodeJS.Signals) => sub.kill(sig);
  if (opts.forwardSignals) {
    process.on('SIGTERM', fwd);
    process.on('SIGINT', fwd);
  }
  try {
    return result(await sub);
  } finally {
    process.off('SIGTERM', fwd);
    process.off('SIGINT', fwd);
  }
}

/** `from | to`, both without a shell: the results of both (the pipe failed when either failed). */
export async function runPipe(from: {cmd: string; args: string[]}, to: {cmd: string; args: string[]}, opts: RunOptions = {}): Promise<{from: RunResult; to: RunResult}> {
  const {execa} = await import('execa');
  const o = options(opts);
  // A dump can be larger than any buffer: what flows through the pipe is not kept.
  const a = execa(from.cmd, from.args, {...o, all: false, buffer: {stdout: false}});
  const b = execa(to.cmd, to.args, {...o, all: false, stdin: 'pipe', stdout: 'ignore'});
  a.stdout!.pipe(b.stdin!);
  b.stdin!.on('error', () => {}); // a reader that exits early: its exit code tells
  const [ra, rb] = await Promise.all([a, b]);
  return {from: result(ra), to: result(rb)};
}

/** The last `n` non-empty lines of a result's output, for an error message. */
export const tail = (r: RunResult, n = 8): string =>
  (r.all || r.stderr || r.stdout || r.error || '')
    .trim()
    .split('\n')
    .slice(-n)
    .join('\n    ');
