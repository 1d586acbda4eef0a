// [shell] aliases and functions through real bash, zsh and fish (tmux): defined on entry into
// an allowed project, removed on leave; the user's own alias and function of the same names
// come back exactly; one the user changed inside is kept; an untrusted project defines nothing.
// One evaluation for the whole file (the untrusted copy has the same content).
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {makeSandbox, type Sandbox} from '../helpers/env.js';
import {ShellSession, type ShellKind, shq} from '../helpers/tmux.js';

const EVAL_TIMEOUT = 240_000;

let sb: Sandbox;
let proj: string;
let stranger: string;
const sessions: ShellSession[] = [];

const TOML = [
  'name = "defs"',
  'packages = []',
  '',
  '[shell]',
  'aliases = {t = "echo project-t", mk = "echo project-mk", hello = "printf \'%s|\' from-alias"}',
  '',
  '[shell.functions]',
  `greet = 'echo "hi $1, from the project ($# args)"'`,
  `build = 'echo "building $@"'`,
  '',
  '[shell.functions.fish]',
  `build = 'echo "fish building" $argv'`,
  '',
].join('\n');

beforeAll(() => {
  sb = makeSandbox('devenv-defs-');
  proj = join(sb.dir, 'proj');
  stranger = join(sb.dir, 'stranger');
  for (const p of [proj, stranger]) {
    mkdirSync(p);
    writeFileSync(join(p, 'devenv.toml'), TOML);
  }
  const r = sb.devenv(['allow'], {cwd: proj, timeout: EVAL_TIMEOUT});
  if (r.status !== 0) throw new Error(r.stderr);
  const e = sb.devenv(['exec', '--', 'true'], {cwd: proj, timeout: EVAL_TIMEOUT});
  if (e.status !== 0) throw new Error(e.stderr);
}, EVAL_TIMEOUT);

afterAll(() => {
  for (const s of sessions) s.close();
  sb?.cleanup();
});

/** How each shell spells the user's own definitions and lists them (fish: without the "Defined in" line). */
const SPELL: Record<ShellKind, {alias: (n: string, v: string) => string; fn: (n: string, body: string) => string; showAlias: string; showFn: (n: string) => string; absent: (n: string) => string}> = {
  bash: {alias: (n, v) => `alias ${n}=${shq('bash', v)}`, fn: (n, b) => `${n}() { ${b}; }`, showAlias: 'alias', showFn: (n) => `declare -f ${n}`, absent: (n) => `type ${n} >/dev/null 2>&1 || echo no-${n}`},
  zsh: {alias: (n, v) => `alias ${n}=${shq('zsh', v)}`, fn: (n, b) => `${n}() { ${b}; }`, showAlias: 'alias', showFn: (n) => `functions ${n}`, absent: (n) => `whence -w ${n} >/dev/null 2>&1 || echo no-${n}`},
  fish: {alias: (n, v) => `alias ${n} ${shq('fish', v)}`, fn: (n, b) => `function ${n}; ${b}; end`, showAlias: 'functions --no-details', showFn: (n) => `functions --no-details ${n}`, absent: (n) => `type -q ${n}; or echo no-${n}`},
};

describe.each(['bash', 'zsh', 'fish'] as ShellKind[])('%s', (kind) => {
  const S = SPELL[kind];
  let sh: ShellSession;
  let userT: string;
  let userGreet: string;

  beforeAll(() => {
    sh = ShellSession.start(kind, {env: {...sb.env, LANG: 'C.UTF-8'}, dir: join(sb.dir, `session-${kind}`), cwd: sb.dir});
    sessions.push(sh);
    // The user's own alias and function of two of the project's names, with quotes in them.
    sh.run(S.alias('t', `printf '%s\\n' "user's t"`));
    sh.run(S.fn('greet', kind === 'fish' ? `printf '<%s>' "user greet" $argv` : `printf '<%s>' "user greet" "$@"`));
    userT = sh.run(`${S.showAlias} t`);
    userGreet = sh.run(S.showFn('greet'));
    expect(sh.run('t')).toBe("user's t");
    expect(sh.run(S.absent('mk'))).toBe('no-mk');
  }, 60_000);

  test('entering defines the aliases and functions (fish: $1, $@, $# translated, or its own body)', () => {
    expect(sh.run(`cd ${shq(kind, proj)}`, EVAL_TIMEOUT)).toBe(`devenv: loading ${proj}`);
    expect(sh.run('t')).toBe('project-t');
    expect(sh.run('mk')).toBe('project-mk');
    expect(sh.run('hello x y; echo')).toBe('from-alias|x|y|');
    expect(sh.run('greet bob two')).toBe('hi bob, from the project (2 args)');
    expect(sh.run('build a b')).toBe(kind === 'fish' ? 'fish building a b' : 'building a b');
  }, EVAL_TIMEOUT);

  test("leaving brings the user's own back exactly, keeps what the user changed inside, removes the rest", () => {
    // Changed inside: an alias of the project's (mk), and the project's function greet.
    sh.run(S.alias('mk', 'echo mine-mk'));
    sh.run(S.fn('greet', 'echo changed inside'));
    const changedGreet = sh.run(S.showFn('greet'));
    expect(sh.run(`cd ${shq(kind, sb.dir)}`)).toBe('devenv: unloading');
    expect(sh.run(`${S.showAlias} t`)).toBe(userT);
    expect(sh.run('t')).toBe("user's t");
    expect(sh.run('mk')).toBe('mine-mk');
    expect(sh.run(S.showFn('greet'))).toBe(changedGreet);
    expect(sh.run(S.absent('build'))).toBe('no-build');
    expect(sh.run(S.absent('hello'))).toBe('no-hello');
  });

  test('entering again defines them again; leaving again restores the user\'s greet from before the second entry', () => {
    sh.run(S.fn('greet', kind === 'fish' ? `printf '<%s>' "user greet" $argv` : `printf '<%s>' "user greet" "$@"`));
    expect(sh.run(S.showFn('greet'))).toBe(userGreet);
    expect(sh.run(`cd ${shq(kind, proj)}`)).toBe(`devenv: loading ${proj}`);
    expect(sh.run('greet x')).toBe('hi x, from the project (1 args)');
    expect(sh.run('mk')).toBe('project-mk');
    expect(sh.run(`cd ${shq(kind, sb.dir)}`)).toBe('devenv: unloading');
    expect(sh.run(S.showFn('greet'))).toBe(userGreet);
    expect(sh.run('greet a "b c"; echo')).toBe('<user greet><a><b c>');
    expect(sh.run('mk')).toBe('mine-mk');
  });

  test('a project that is not allowed defines nothing', () => {
    const out = sh.run(`cd ${shq(kind, stranger)}`);
    expect(out).toContain('is not allowed');
    expect(sh.run('t')).toBe("user's t");
    expect(sh.run(S.absent('build'))).toBe('no-build');
    expect(sh.run(S.absent('hello'))).toBe('no-hello');
    sh.run(`cd ${shq(kind, sb.dir)}`);
  });
});
