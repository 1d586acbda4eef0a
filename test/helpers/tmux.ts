// Drive a real interactive bash, zsh or fish in a private tmux server (one socket per session).
// The rc file counts prompts into a file with builtins only, so a test waits for "the next
// prompt has been drawn" (the hook has run) by polling that file, never by fixed sleeps.
// DEVENV_TEST_BASH, DEVENV_TEST_ZSH, DEVENV_TEST_FISH name another binary (an old shell checked by hand).
import {spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {DEVENV} from './env.js';

export type ShellKind = 'bash' | 'zsh' | 'fish';

export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Poll `cond` every 20 ms; on timeout throw with `context()` in the message. */
export function waitUntil(cond: () => boolean, timeoutMs: number, what: string, context: () => string): void {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (cond()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${context()}`);
    sleepMs(20);
  }
}

/** bash/zsh single-quoted literal; fish single quotes escape \ too. Test paths are ASCII. */
export function shq(kind: ShellKind, s: string): string {
  return kind === 'fish' ? `'${s.replace(/[\\']/g, (c) => '\\' + c)}'` : `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface StartOptions {
  /** The sandbox environment (isolated XDG dirs, DEVENV_NIXPKGS, PATH with spies). */
  env: NodeJS.ProcessEnv;
  /** Scratch directory of this session (rc file, prompt counter, spy logs, dumps). */
  dir: string;
  cwd: string;
  /** Shell code before the hook is installed (e.g. `set -u`, a PROMPT_COMMAND array). */
  before?: string;
  /** How many times the rc installs the hook (installing twice must be harmless). */
  hookTimes?: number;
  /** bash: PROMPT_COMMAND is an array holding these entries (the prompt counter is added last). */
  promptCommandArray?: string[];
  /** argv prefix for the shell (e.g. strace). */
  wrap?: string[];
}

let socketSeq = 0;
const RUN_ID = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;

export class ShellSession {
  readonly socket: string;
  private seq = 0;
  private dumps = 0;
  readonly promptFile: string;
  readonly nodeLog: string;

  private constructor(
    readonly kind: ShellKind,
    readonly dir: string,
    private readonly baseEnv: NodeJS.ProcessEnv,
  ) {
    // Unique across test files too: jest runs every file in the same worker (same pid) and each
    // file restarts socketSeq, so a server another file left alive (a killed shell stays under
    // remain-on-exit) would be reused, with its old environment and rc.
    this.socket = `dv-${process.pid}-${RUN_ID}-${++socketSeq}-${kind}`;
    this.promptFile = join(dir, 'prompts');
    this.nodeLog = join(dir, 'node-calls.log');
  }

  static start(kind: ShellKind, opts: StartOptions): ShellSession {
    mkdirSync(opts.dir, {recursive: true});
    const s = new ShellSession(kind, opts.dir, opts.env);
    writeFileSync(s.nodeLog, '');
    // The hook calls node by absolute path; the rc points it at this logging wrapper instead.
    const spy = join(opts.dir, 'node-spy');
    writeFileSync(spy, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${s.nodeLog}'\nexec '${process.execPath}' "$@"\n`, {mode: 0o755});
    const conf = join(opts.dir, 'tmux.conf');
    writeFileSync(conf, 'set -g history-limit 100000\nset -g status off\nset -g remain-on-exit on\n');
    const argv = s.writeRc(spy, opts);
    const r = s.tmux(['-f', conf, 'new-session', '-d', '-s', 'main', '-x', '300', '-y', '50', '-c', opts.cwd, '--', ...(opts.wrap ?? []), ...argv]);
    if (r.status !== 0) throw new Error(`tmux new-session failed: ${r.stderr}`);
    // Under strace -f on a loaded machine the first prompt can take longer than 30 s.
    s.waitPrompts(1, opts.wrap ? 120_000 : 30_000);
    // tmux draws the pty on its own schedule: the prompt counter is written before the prompt shows.
    for (const end = Date.now() + 10_000; !/\$\s*$/.test(s.pane()) && Date.now() < end; ) sleepMs(20);
    return s;
  }

  private writeRc(spy: string, o: StartOptions): string[] {
    const node = process.execPath;
    const times = o.hookTimes ?? 1;
    const pf = this.promptFile;
    if (this.kind === 'bash') {
      const rc = join(this.dir, 'bashrc');
      const pc = o.promptCommandArray ? `PROMPT_COMMAND=(${[...o.promptCommandArray, '_t_prompt'].join(' ')})` : 'PROMPT_COMMAND=_t_prompt';
      writeFileSync(
        rc,
        [
          "PS1='$ '; PS2='> '; unset HISTFILE",
          '_t_n=0',
          `_t_prompt() { _t_n=$((_t_n + 1)); printf '%s' "$_t_n" >| '${pf}'; }`,
          pc,
          o.before ?? '',
          ...Array(times).fill(`eval "$('${node}' '${DEVENV}' hook bash)"`),
          `_devenv_node='${spy}'`,
          `devenv() { '${node}' '${DEVENV}' "$@"; }`,
        ].join('\n') + '\n',
      );
      return [process.env.DEVENV_TEST_BASH ?? 'bash', '--noprofile', '--rcfile', rc, '-i'];
    }
    if (this.kind === 'zsh') {
      const zdot = join(this.dir, 'zdotdir');
      mkdirSync(zdot, {recursive: true});
      writeFileSync(
        join(zdot, '.zshrc'),
        [
          "PROMPT='$ '; PS2='> '",
          'setopt interactivecomments',
          'autoload -Uz compinit && compinit -D -u',
          o.before ?? '',
          ...Array(times).fill(`eval "$('${node}' '${DEVENV}' hook zsh)"`),
          '_t_n=0',
          `_t_prompt() { _t_n=$((_t_n + 1)); print -rn -- "$_t_n" >| '${pf}'; }`,
          'precmd_functions+=(_t_prompt)',
          `_devenv_node='${spy}'`,
          `devenv() { '${node}' '${DEVENV}' "$@"; }`,
        ].join('\n') + '\n',
      );
      this.envExtra = {ZDOTDIR: zdot};
      // -d: no global rc files (like -f), but our ZDOTDIR/.zshrc is read.
      return [process.env.DEVENV_TEST_ZSH ?? 'zsh', '-d', '-i'];
    }
    const init = join(this.dir, 'init.fish');
    writeFileSync(
      init,
      [
        "set -g fish_greeting ''",
        "function fish_prompt; printf '$ '; end",
        'function fish_title; end',
        o.before ?? '',
        ...Array(times).fill(`'${node}' '${DEVENV}' hook fish | source`),
        // Defined after the hook's handler: fish runs event handlers in definition order.
        'set -g _t_n 0',
        `function _t_prompt --on-event fish_prompt; set -g _t_n (math $_t_n + 1); printf '%s' $_t_n > '${pf}'; end`,
        `set -g _devenv_node '${spy}'`,
        `function devenv; '${node}' '${DEVENV}' $argv; end`,
      ].join('\n') + '\n',
    );
    return [process.env.DEVENV_TEST_FISH ?? 'fish', '--no-config', '-i', '-C', `source '${init}'`];
  }

  private envExtra: NodeJS.ProcessEnv = {};

  private tmux(args: string[]) {
    return spawnSync('tmux', ['-L', this.socket, ...args], {encoding: 'utf8', env: {...this.baseEnv, ...this.envExtra, TMUX: ''}, timeout: 20_000});
  }

  prompts(): number {
    try {
      return Number(readFileSync(this.promptFile, 'utf8')) || 0;
    } catch {
      return 0;
    }
  }

  /** Everything the terminal showed (scrollback included), wrapped lines joined. */
  pane(): string {
    return this.tmux(['capture-pane', '-p', '-J', '-S', '-', '-t', 'main']).stdout.replace(/\s+$/, '');
  }

  nodeCalls(): string[] {
    return readFileSync(this.nodeLog, 'utf8').split('\n').filter(Boolean);
  }

  debug(): string {
    return `--- ${this.kind} pane ---\n${this.pane()}\n--- node calls ---\n${this.nodeCalls().join('\n')}`;
  }

  waitPrompts(n: number, timeoutMs = 60_000): void {
    waitUntil(() => this.prompts() >= n, timeoutMs, `prompt #${n} of ${this.kind}`, () => this.debug());
  }

  waitForPane(re: RegExp, timeoutMs = 60_000): void {
    waitUntil(() => re.test(this.pane()), timeoutMs, `${re} in the ${this.kind} pane`, () => this.debug());
  }

  /** Type a line and press Enter, without waiting. */
  type(line: string): void {
    if (line) this.tmux(['send-keys', '-t', 'main', '-l', '--', line]);
    this.tmux(['send-keys', '-t', 'main', 'Enter']);
  }

  keys(...keys: string[]): void {
    this.tmux(['send-keys', '-t', 'main', ...keys]);
  }

  /**
   * Run a command line and wait until the following prompt has been drawn (so the hook has
   * run). Returns what the terminal showed between the command line and that prompt.
   */
  run(line: string, timeoutMs = 60_000): string {
    const n = this.prompts();
    const tag = `#t${++this.seq}`;
    this.type(line ? `${line} ${tag}` : '');
    this.waitPrompts(n + 1, timeoutMs);
    if (!line) return '';
    // tmux reads the pty on its own schedule: the output is complete once the new prompt, which
    // the shell writes after the hook's messages, shows below the command line.
    const after = (text: string): string[] | undefined => {
      const i = text.lastIndexOf(tag);
      if (i < 0) return undefined;
      // Trailing blanks: zsh's PROMPT_SP pads lines with spaces.
      const rest = text.slice(i + tag.length).split('\n').slice(1).map((l) => l.trimEnd());
      return rest.length && rest[rest.length - 1] === '$' ? rest.slice(0, -1) : undefined;
    };
    let lines: string[] | undefined;
    waitUntil(() => (lines = after(this.pane())) !== undefined, 5_000, `the prompt after ${tag}`, () => this.debug());
    return lines!.join('\n');
  }

  /** The shell's exported environment, read with `env -0` (exact bytes). */
  env(): Record<string, string> {
    const file = join(this.dir, `env-${++this.dumps}`);
    this.run(`command env -0 > ${shq(this.kind, file)}`);
    waitUntil(() => existsSync(file), 5_000, file, () => this.debug());
    const out: Record<string, string> = {};
    for (const kv of readFileSync(file, 'utf8').split('\0')) {
      const i = kv.indexOf('=');
      if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
    }
    return out;
  }

  close(): void {
    this.tmux(['kill-server']);
  }
}

/** The environment without what a shell itself changes on every command or cd. */
export function comparableEnv(env: Record<string, string>): Record<string, string> {
  const out = {...env};
  for (const k of ['_', 'PWD', 'OLDPWD']) delete out[k];
  return out;
}
