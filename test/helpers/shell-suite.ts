// The shell-integration scenario, run the same way through real interactive bash, zsh and fish
// (test/integration/shell-{bash,zsh,fish}.test.ts). One evaluated project per file: the sibling
// is a byte-identical copy, which hits the same content-keyed cache entry.
// The tests of one file share one shell session and run in order; each leaves the shell outside
// every project.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {makeSandbox, nixSpy, type Sandbox} from './env.js';
import {hostileValues, tomlString} from './hostile.js';
import {comparableEnv, ShellSession, type ShellKind, shq, waitUntil} from './tmux.js';

const EVAL_TIMEOUT = 240_000;
const ALLOW_HINT = "run 'devenv allow' to trust what nix reads of it";

export interface SuiteOptions {
  /** Shell code before the hook in the hardened session (e.g. `set -u`). */
  hardenedBefore?: string;
  /** bash: PROMPT_COMMAND as an array in the hardened session. */
  promptCommandArray?: string[];
  /** Extra tests for this shell, run in the main session after the shared ones. */
  extra?: (ctx: SuiteContext) => void;
  /** Extra rc code in the main session (e.g. a chpwd logger). */
  mainBefore?: (dir: string) => string;
}

export interface SuiteContext {
  kind: ShellKind;
  sb: () => Sandbox;
  sh: () => ShellSession;
  app: () => string;
  work: () => string;
  loading: (root: string) => string;
}

/** Lines of command output, trailing blanks trimmed. */
export const lines = (out: string): string[] => out.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');

function appToml(hostile: Record<string, string>): string {
  return [
    '# written by hand (not by devenv init): untrusted until allowed',
    'name = "app"',
    'packages = []',
    '',
    '[languages.python]',
    'version = "3.11"',
    '',
    '[env]',
    ...Object.entries(hostile).map(([k, v]) => `${k} = ${tomlString(v)}`),
    '',
    '[shell]',
    `hook = ${tomlString("export FROM_HOOK='hook ran'")}`,
    '',
  ].join('\n');
}

/** A flake with a malicious shellHook, plus a planted .devenv/ that imitates devenv's own files. */
function plantEvil(evil: string, marker: string): void {
  mkdirSync(evil, {recursive: true});
  const touch = `touch '${marker}'`;
  writeFileSync(
    join(evil, 'flake.nix'),
    `{\n  outputs = { self }: {\n    devShells.x86_64-linux.default = derivation {\n      name = "evil"; system = "x86_64-linux"; builder = "/bin/sh";\n      args = [ "-c" "${touch}" ];\n      shellHook = "${touch}";\n    };\n  };\n}\n`,
  );
  writeFileSync(join(evil, '.envrc'), `${touch}\n`);
  const planted = [join(evil, '.devenv'), join(evil, '.devenv', 'roots', evil, '@devenv@'), join(evil, '.devenv', 'state')];
  for (const d of planted) {
    mkdirSync(d, {recursive: true});
    for (const s of ['bash', 'zsh', 'fish']) writeFileSync(join(d, `activate.${s}`), `${touch}\nexport DEVENV_ROOT=pwned\n`, {mode: 0o755});
  }
  writeFileSync(join(evil, '.devenv', 'entries.json'), JSON.stringify({spec: {vars: {PWNED: '1'}, prepend: {}, shellHook: touch}}));
}

export function shellSuite(kind: ShellKind, opts: SuiteOptions = {}): void {
  let sb: Sandbox;
  let spy: ReturnType<typeof nixSpy>;
  let sh: ShellSession;
  let work: string, app: string, app2: string, inner: string, evil: string, stash: string, marker: string;
  let hostile: Record<string, string>;
  let startPane: string;
  /** Environment outside any project before the first entry; inside app after it loaded. */
  let outside: Record<string, string>;
  let insideApp: Record<string, string>;
  let appToml0: string;

  const loading = (root: string) => `devenv: loading ${root} (python3 3.11)`;
  const blocked = (root: string, why = 'is not allowed') => `devenv: ${root} ${why}; ${ALLOW_HINT}`;
  const cd = (dir: string, timeout?: number) => sh.run(`cd ${shq(kind, dir)}`, timeout);
  const nixEvals = () => spy.calls().filter((c) => c.includes('print-dev-env')).length;
  const shellEnv = () => sh.env();

  beforeAll(() => {
    sb = makeSandbox(`devenv-sh-${kind}-`);
    spy = nixSpy(sb);
    work = join(sb.dir, 'work');
    app = join(work, 'app');
    app2 = join(work, 'app2');
    inner = join(app, 'inner');
    evil = join(work, 'evil');
    stash = join(work, 'stash');
    marker = join(sb.dir, 'PWNED');
    hostile = hostileValues(marker, {viaNix: true});
    for (const d of [app, inner, stash]) mkdirSync(d, {recursive: true});
    appToml0 = appToml(hostile);
    writeFileSync(join(app, 'devenv.toml'), appToml0);
    writeFileSync(join(inner, 'devenv.toml'), 'packages = []\n');
    plantEvil(evil, marker);
    const env: NodeJS.ProcessEnv = {...sb.env, ...spy.env, LANG: 'C.UTF-8'};
    // Variables the project sets that were set before: one exported, one exported but empty,
    // one a shell variable only (it must not come back exported).
    const pre =
      kind === 'fish'
        ? "set -gx EMPTY_VAL 'was set before'; set -gx UNICODE_VAL ''; set -g DASH_VAL 'shell only'"
        : "export EMPTY_VAL='was set before' UNICODE_VAL=; DASH_VAL='shell only'";
    sh = ShellSession.start(kind, {env, dir: join(sb.dir, `session-${kind}`), cwd: work, before: [pre, opts.mainBefore?.(join(sb.dir, `session-${kind}`)) ?? ''].join('\n')});
    startPane = sh.pane();
  }, 60_000);

  afterAll(() => {
    sh?.close();
    sb?.cleanup();
  });

  describe(`${kind}: cd in loads, cd out restores, nothing runs until allowed`, () => {
    test('prints nothing while the shell starts', () => {
      expect(startPane.trim()).toBe('$');
      expect(sh.nodeCalls()).toEqual([]);
    });

    test('a hand-written project is blocked with one line, runs no nix, and stays quiet on idle prompts', () => {
      outside = shellEnv();
      expect(outside.EMPTY_VAL).toBe('was set before');
      expect(outside.DASH_VAL).toBeUndefined();
      expect(cd(app)).toBe(blocked(app));
      expect(sh.nodeCalls()).toEqual([expect.stringMatching(new RegExp(`/bin/run\\.js __hook ${kind} ${app}$`))]);
      expect(sh.run('true')).toBe('');
      expect(sh.run('')).toBe('');
      expect(sh.nodeCalls().length).toBe(1);
      expect(spy.calls()).toEqual([]);
      const env = shellEnv();
      expect(env.DEVENV_ROOT).toBeUndefined();
      expect(env.NL_VAL).toBeUndefined();
    });

    test("'devenv allow' and the next prompt loads it", () => {
      const out = lines(sh.run('devenv allow', EVAL_TIMEOUT));
      expect(out).toContain(`devenv: allowed ${app}`);
      expect(out).toContain(loading(app));
      expect(out.filter((l) => l.startsWith('devenv: loading'))).toHaveLength(1);
      expect(nixEvals()).toBe(1);
    }, EVAL_TIMEOUT);

    test('python3 resolves into /nix/store and is 3.11', () => {
      const where = lines(sh.run('command -v python3'));
      expect(where).toHaveLength(1);
      expect(where[0]).toMatch(/^\/nix\/store\/[0-9a-z]{32}-[^/]+\/bin\/python3$/);
      expect(lines(sh.run('python3 --version'))).toEqual([expect.stringMatching(/^Python 3\.11\.\d+$/)]);
    });

    test('hostile [env] values arrive byte for byte; nothing in them runs', () => {
      insideApp = shellEnv();
      for (const [k, v] of Object.entries(hostile)) expect([k, insideApp[k]]).toEqual([k, v]);
      expect(insideApp.FROM_HOOK).toBe('hook ran');
      expect(insideApp.DEVENV_ROOT).toBe(app);
      expect(insideApp.DEVENV_STATE).toBe(join(app, '.devenv', 'state'));
      const entries = insideApp.PATH.split(':');
      expect(entries[0]).toMatch(/^\/nix\/store\/[0-9a-z]{32}-python3-3\.11\/bin$/);
      expect(entries.slice(1).join(':')).toBe(outside.PATH);
      expect(existsSync(marker)).toBe(false);
    });

    test('leaving restores the environment exactly', () => {
      expect(cd(work)).toBe('devenv: unloading');
      expect(comparableEnv(shellEnv())).toEqual(comparableEnv(outside));
      expect(sh.run('echo "[$DASH_VAL]"')).toBe('[shell only]');
    });

    test('entering again with a fresh cache starts no process but the shell', () => {
      const calls = sh.nodeCalls().length;
      expect(cd(app)).toBe(loading(app));
      expect(sh.nodeCalls().length).toBe(calls);
      expect(comparableEnv(shellEnv())).toEqual(comparableEnv(insideApp));
    });

    test('PATH entries the user adds inside survive leaving', () => {
      sh.run(kind === 'fish' ? 'set -gx PATH /opt/user-first $PATH /opt/user-last' : 'export PATH="/opt/user-first:$PATH:/opt/user-last"');
      expect(cd(work)).toBe('devenv: unloading');
      const env = shellEnv();
      expect(env.PATH).toBe(`/opt/user-first:${outside.PATH}:/opt/user-last`);
      sh.run(kind === 'fish' ? `set -gx PATH (string split : -- ${shq(kind, outside.PATH)})` : `export PATH=${shq(kind, outside.PATH)}`);
      expect(comparableEnv(shellEnv())).toEqual(comparableEnv(outside));
    });

    test('a copy at another path is untrusted; sibling to sibling unloads one and loads the other', () => {
      mkdirSync(app2);
      // Every file nix copies, the nested project's too (the content keys the cache), so the entry is shared.
      for (const f of ['devenv.toml', 'flake.nix', 'inner/devenv.toml']) cpSync(join(app, f), join(app2, f), {preserveTimestamps: true});
      expect(cd(app)).toBe(loading(app));
      expect(lines(cd(app2))).toEqual(['devenv: unloading', blocked(app2)]);
      expect(comparableEnv(shellEnv())).toEqual(comparableEnv(outside));
      const evals = nixEvals();
      const out = lines(sh.run('devenv allow', EVAL_TIMEOUT));
      expect(out).toContain(loading(app2));
      expect(nixEvals()).toBe(evals); // same content: the cache entry is shared
      const in2 = shellEnv();
      expect(in2.DEVENV_ROOT).toBe(app2);
      expect(in2.DEVENV_STATE).toBe(join(app2, '.devenv', 'state'));
      for (const [k, v] of Object.entries(hostile)) expect([k, in2[k]]).toEqual([k, v]);
      // Straight into the sibling: exactly the environment of a plain entry, no residue.
      expect(cd(app)).toBe(loading(app));
      expect(comparableEnv(shellEnv())).toEqual(comparableEnv(insideApp));
      const calls = sh.nodeCalls().length;
      expect(cd(app2)).toBe(loading(app2));
      expect(cd(app)).toBe(loading(app));
      expect(sh.nodeCalls().length).toBe(calls);
      expect(comparableEnv(shellEnv())).toEqual(comparableEnv(insideApp));
      expect(cd(work)).toBe('devenv: unloading');
    }, EVAL_TIMEOUT);

    test('a nested untrusted project keeps the parent loaded and says so', () => {
      expect(cd(app)).toBe(loading(app));
      expect(cd(inner)).toBe(`${blocked(inner)} (keeping ${app} loaded)`);
      const env = shellEnv();
      expect(env.DEVENV_ROOT).toBe(app);
      expect(comparableEnv(env)).toEqual(comparableEnv(insideApp));
      expect(spy.calls().filter((c) => c.includes(inner))).toEqual([]);
      const calls = sh.nodeCalls().length;
      expect(sh.run('true')).toBe('');
      expect(cd(app)).toBe('');
      expect(sh.nodeCalls().length).toBe(calls);
      expect(cd(work)).toBe('devenv: unloading');
    });

    test('a planted .devenv/ and a malicious shellHook run nothing before allow', () => {
      const calls = spy.calls().length;
      expect(cd(evil)).toBe(blocked(evil));
      expect(sh.run('true')).toBe('');
      expect(existsSync(marker)).toBe(false);
      expect(spy.calls().length).toBe(calls); // not even evaluated
      const env = shellEnv();
      expect(env.DEVENV_ROOT).toBeUndefined();
      expect(env.PWNED).toBeUndefined();
      expect(cd(work)).toBe('');
      expect(comparableEnv(shellEnv())).toEqual(comparableEnv(outside));
    });

    test('deleting devenv.toml and flake.nix while inside unloads on the next prompt; restoring them reloads', () => {
      expect(cd(app)).toBe(loading(app));
      const calls = sh.nodeCalls().length;
      expect(sh.run(`command mv devenv.toml flake.nix ${shq(kind, stash)}/`)).toBe('devenv: unloading');
      expect(comparableEnv(shellEnv())).toEqual(comparableEnv(outside));
      expect(sh.run(`command mv ${shq(kind, stash)}/devenv.toml ${shq(kind, stash)}/flake.nix .`)).toBe(loading(app));
      expect(sh.nodeCalls().length).toBe(calls);
      expect(cd(work)).toBe('devenv: unloading');
    });

    test('editing devenv.toml blocks it again until allowed', () => {
      expect(cd(app2)).toBe(loading(app2));
      appendFileSync(join(app2, 'devenv.toml'), '\n# an edit\n');
      expect(lines(sh.run('true'))).toEqual(['devenv: unloading', `devenv: ${app2} changed since it was allowed (devenv.toml); run 'devenv allow' to trust the new content`]);
      expect(comparableEnv(shellEnv())).toEqual(comparableEnv(outside));
      const calls = sh.nodeCalls().length;
      expect(sh.run('true')).toBe('');
      expect(sh.nodeCalls().length).toBe(calls);
      const out = lines(sh.run('devenv allow', EVAL_TIMEOUT));
      expect(out).toContain(loading(app2));
      expect(shellEnv().DEVENV_ROOT).toBe(app2);
      expect(cd(work)).toBe('devenv: unloading');
    }, EVAL_TIMEOUT);

    test("the last command's exit status survives the hook (loading, idle, unloading)", () => {
      const status = kind === 'fish' ? 'echo "rc=$status"' : 'echo "rc=$?"';
      expect(sh.run(`cd ${shq(kind, app)}; false`)).toBe(loading(app));
      expect(sh.run(status)).toBe('rc=1');
      expect(sh.run('sh -c "exit 3"')).toBe('');
      expect(sh.run(status)).toBe('rc=3');
      expect(sh.run(`cd ${shq(kind, work)}; false`)).toBe('devenv: unloading');
      expect(sh.run(status)).toBe('rc=1');
    });

    test('installing the hook a second time is harmless', () => {
      const hookCmd = kind === 'fish' ? 'devenv hook fish | source' : `eval "$(devenv hook ${kind})"`;
      expect(sh.run(hookCmd)).toBe('');
      if (kind === 'bash') expect(sh.run('printf "%s\\n" "$PROMPT_COMMAND"')).toBe('_devenv_hook;_t_prompt');
      if (kind === 'zsh') expect(sh.run('print -r -- ${#${(M)precmd_functions:#_devenv_hook}} ${#${(M)chpwd_functions:#_devenv_chpwd}}')).toBe('1 1');
      if (kind === 'fish') expect(sh.run("functions --handlers | string match -e -- ' _devenv_' | count")).toBe('2');
      expect(cd(app)).toBe(loading(app));
      expect(cd(work)).toBe('devenv: unloading');
    });

    opts.extra?.({kind, sb: () => sb, sh: () => sh, app: () => app, work: () => work, loading});

    test('no shell error was printed along the way', () => {
      expect(sh.pane()).not.toMatch(/unbound variable|parameter not set|bad substitution|command not found|Unknown command|syntax error|fish: /);
    });
  });

  describe(`${kind}: hardened shell (hook installed twice${opts.hardenedBefore ? `, ${opts.hardenedBefore}` : ''}) under strace`, () => {
    let hs: ShellSession;
    let log: string;
    let hsStart: string;

    beforeAll(() => {
      const dir = join(sb.dir, `hardened-${kind}`);
      mkdirSync(dir, {recursive: true});
      log = join(dir, 'strace.log');
      const env: NodeJS.ProcessEnv = {...sb.env, ...spy.env, LANG: 'C.UTF-8'};
      hs = ShellSession.start(kind, {
        env,
        dir,
        cwd: work,
        before: opts.hardenedBefore,
        promptCommandArray: opts.promptCommandArray,
        hookTimes: 2,
        wrap: ['strace', '-f', '-qq', '-o', log, '-e', 'trace=execve,fork,vfork,clone,clone3,openat'],
      });
      hsStart = hs.pane();
    }, 150_000);
    afterAll(() => hs?.close());

    /** Lines of the strace log from byte `from` on. */
    const traced = (from: number) => readFileSync(log).subarray(from).toString('utf8').split('\n');
    const isSpawn = (l: string) => /\b(execve|fork|vfork|clone3?)\(/.test(l) && !/CLONE_THREAD/.test(l);

    /**
     * Press Enter `n` times and return the processes started meanwhile. The prompt counter's
     * write shows in the trace (openat of the counter file), so we know the trace is complete.
     */
    function idle(n: number): string[] {
      const from = statSync(log).size;
      for (let i = 0; i < n; i++) hs.run('');
      const counterOpens = () => traced(from).filter((l) => l.includes('openat(') && l.includes(hs.promptFile)).length;
      waitUntil(() => counterOpens() >= n, 10_000, `${n} prompt writes in the strace log`, () => hs.debug());
      return traced(from).filter(isSpawn);
    }

    test('prints nothing while the shell starts', () => {
      expect(hsStart.trim()).toBe('$');
    });

    test('enter and leave print one line each and no error', () => {
      if (kind === 'bash') expect(hs.run('declare -p PROMPT_COMMAND')).toBe('declare -a PROMPT_COMMAND=([0]="_devenv_hook" [1]="_t_a" [2]="_t_prompt")');
      if (kind === 'zsh') expect(hs.run('print -r -- $precmd_functions / $chpwd_functions')).toBe('_devenv_hook _t_prompt / _devenv_chpwd');
      expect(hs.run(`cd ${shq(kind, app)}`)).toBe(loading(app));
      expect(hs.run(`cd ${shq(kind, inner)}`)).toBe(`${blocked(inner)} (keeping ${app} loaded)`);
      expect(hs.run(`cd ${shq(kind, work)}`)).toBe('devenv: unloading');
      expect(hs.pane()).not.toMatch(/unbound variable|parameter not set|bad substitution|command not found|syntax error|fish: /);
    });

    test('an idle prompt starts no process: outside, inside a loaded project, inside a blocked one', () => {
      // The trace sees a process the shell starts (else the zero below would prove nothing).
      const from = statSync(log).size;
      hs.run('/bin/true');
      waitUntil(() => traced(from).some((l) => l.includes('execve("/bin/true"')), 10_000, 'execve of true in the trace', () => hs.debug());
      expect(idle(3)).toEqual([]);
      hs.run(`cd ${shq(kind, app)}`);
      expect(idle(3)).toEqual([]);
      hs.run(`cd ${shq(kind, inner)}`);
      expect(idle(3)).toEqual([]);
      hs.run(`cd ${shq(kind, work)}`);
      expect(idle(3)).toEqual([]);
    });
  });
}
