// The one place an error reaches the user: every command (oclif's parse errors and unknown
// commands included), exec and the hook's internal calls end here. Text goes to stderr as
// "devenv: message" + hint; with --json the same short object goes to stdout. Exit codes follow
// README's table (src/errors.ts ExitCode). Imports nothing but errors.ts: the hot path uses it.
import {DevenvError, ExitCode, UsageError} from '../errors.js';

interface OclifLike {
  message?: string;
  stack?: string;
  code?: string;
  oclif?: {exit?: number};
  parse?: {input?: {context?: {id?: string}}};
}

/** `--json` given before any `--` (what follows `--` belongs to another program). */
export function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** oclif's ExitError: `this.exit(code)`, nothing to print. */
export function isExit(err: unknown): err is {oclif: {exit: number}} {
  const e = err as OclifLike | null;
  return !!e && e.code === 'EEXIT' && typeof e.oclif?.exit === 'number';
}

const help = (id?: string): string => (id ? `see 'devenv ${id.replace(/:/g, ' ')} --help'` : "see 'devenv --help' for the commands");

/** oclif's usage errors say "Nonexistent flag: --x\nSee more help with --help"; say it our way. */
function usageMessage(raw: string): string {
  const lines = raw.split('\n').map((l) => l.trim()).filter((l) => l && !/^See more help with/i.test(l));
  const first = lines[0] ?? 'invalid usage';
  let m;
  if ((m = /^Nonexistent flags?: (.*)$/.exec(first))) return `unknown flag${m[1].includes(',') ? 's' : ''} ${m[1]}`;
  if ((m = /^Unexpected arguments?: (.*)$/.exec(first))) return `unexpected argument${m[1].includes(',') ? 's' : ''}: ${m[1]}`;
  if (/^Missing \d+ required args?:?$/.test(first)) {
    const args = lines.slice(1).map((l) => l.split(/\s{2,}/)[0]);
    return `missing argument${args.length > 1 ? 's' : ''}: ${args.map((a) => `<${a}>`).join(' ') || '?'}`;
  }
  const text = [first, ...lines.slice(1)].join('; ').replace(/^Error: /, '').replace(/^Parsing (--[\w-]+);? */, '$1: ');
  return text.replace(/^[A-Z](?=[a-z])/, (c) => c.toLowerCase()).replace(/; ([A-Z])(?=[a-z])/g, (_, c: string) => `; ${c.toLowerCase()}`);
}

/** The command an argv names: the longest run of leading words that is a command id. */
export function commandOf(argv: string[], commands: string[]): string | undefined {
  const words: string[] = [];
  for (const a of argv) {
    if (a.startsWith('-')) break;
    words.push(a);
  }
  for (let n = words.length; n > 0; n--) {
    const id = words.slice(0, n).join(':');
    if (commands.includes(id)) return id;
  }
  return undefined;
}

/**
 * Any thrown value as a DevenvError. `commands` (ids from oclif.manifest.json) lets an unknown
 * command that starts with a real one be told as an extra argument (`templates extra`).
 */
export function toDevenvError(err: unknown, commands: string[] = [], argv: string[] = []): DevenvError {
  if (err instanceof DevenvError) return err;
  const e = (err ?? {}) as OclifLike;
  const message = typeof e.message === 'string' ? e.message : String(err);
  const notFound = /^command (\S+) not found\.?$/i.exec(message.trim());
  if (notFound?.[1].startsWith('-')) return new UsageError(`unknown flag ${notFound[1]}`, help());
  if (notFound) {
    const parts = notFound[1].split(':');
    for (let n = parts.length - 1; n > 0; n--) {
      const id = parts.slice(0, n).join(':');
      if (commands.includes(id)) return new UsageError(`unexpected argument${parts.length - n > 1 ? 's' : ''}: ${parts.slice(n).join(' ')}`, help(id));
    }
    return new UsageError(`unknown command '${parts.join(' ')}'`, help());
  }
  if (e.oclif?.exit === ExitCode.usage || e.parse) return new UsageError(usageMessage(message), help(e.parse?.input?.context?.id ?? commandOf(argv, commands)));
  // A file system fault (ENOTDIR, EACCES, ENOSPC...) is the machine's, not a bug: say which path.
  const sys = err as NodeJS.ErrnoException;
  if (typeof sys.code === 'string' && /^E[A-Z]+$/.test(sys.code) && sys.syscall) {
    return new DevenvError(message.split('\n')[0], {code: 'io_error', hint: 'a file or directory devenv needs cannot be used: check that it exists with the right type and that you may write it'});
  }
  const wrapped = new DevenvError(`unexpected error: ${message.split('\n')[0]}`, {
    code: 'internal',
    hint: process.env.DEVENV_DEBUG ? undefined : 'this is a bug in devenv; DEVENV_DEBUG=1 shows where it happened',
  });
  if (process.env.DEVENV_DEBUG && e.stack) wrapped.stack = e.stack;
  return wrapped;
}

/** The text form: "devenv: message" and an indented hint. */
export function formatError(err: DevenvError): string {
  const debugStack = err.code === 'internal' && process.env.DEVENV_DEBUG && err.stack ? `\n${err.stack}` : '';
  return `devenv: ${err.message}` + (err.hint ? `\n  hint: ${err.hint}` : '') + debugStack;
}

export function errorJson(err: DevenvError): {ok: false; error: string; message: string; hint: string | null; exitCode: number} {
  return {ok: false, error: err.code, message: err.message, hint: err.hint ?? null, exitCode: err.exitCode};
}

/** Print `err` for the user and return the exit code to use. */
export function presentError(err: unknown, opts: {json?: boolean; commands?: string[]; argv?: string[]} = {}): number {
  if (isExit(err)) return err.oclif.exit;
  // oclif's way of saying the user pressed Ctrl-C: nothing to explain.
  if ((err as Error | undefined)?.message === 'SIGINT') return 130;
  const e = toDevenvError(err, opts.commands, opts.argv);
  if (opts.json) process.stdout.write(JSON.stringify(errorJson(e), null, 2) + '\n');
  else process.stderr.write(formatError(e) + '\n');
  return e.exitCode;
}
