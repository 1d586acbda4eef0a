// [dotenv] files through real bash, zsh and fish (tmux), exec and export: values arrive exactly,
// after [env]; leaving restores the shell exactly; a changed .env waits for an allow; a
// malformed line names file:line; and the values are in no cache file and no store path.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawnSync} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {makeSandbox, nixSpy, OFFLINE_NIXPKGS, type Sandbox} from '../helpers/env.js';
import {comparableEnv, ShellSession, type ShellKind, shq} from '../helpers/tmux.js';

const EVAL_TIMEOUT = 240_000;
const SECRET = `s3cr3t-${randomBytes(8).toString('hex')}`;
const HARD = `it's "quoted" $HOME \`id\` \\ back`;

let sb: Sandbox;
let spy: ReturnType<typeof nixSpy>;
let proj: string;
const sessions: ShellSession[] = [];

const dotenvText = (secret: string) =>
  [
    '# project secrets',
    `export SECRET=${secret}`,
    'OVERRIDE=from dotenv',
    `HARD="${HARD.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`,
    'MULTI="one',
    'two"',
    '',
  ].join('\n');

beforeAll(() => {
  sb = makeSandbox('devenv-dotenv-');
  spy = nixSpy(sb);
  proj = join(sb.dir, 'proj');
  mkdirSync(proj);
  writeFileSync(
    join(proj, 'devenv.toml'),
    ['name = "proj"', 'packages = []', '', '[env]', 'FROM_ENV = "env"', 'OVERRIDE = "from env"', '', '[dotenv]', 'files = [".env", ".env.local"]', ''].join('\n'),
  );
  writeFileSync(join(proj, '.env'), dotenvText(SECRET));
  const r = sb.devenv(['allow'], {cwd: proj, timeout: EVAL_TIMEOUT});
  if (r.status !== 0) throw new Error(r.stderr);
  const e = sb.devenv(['exec', '--', 'true'], {cwd: proj, timeout: EVAL_TIMEOUT});
  if (e.status !== 0) throw new Error(e.stderr);
}, EVAL_TIMEOUT);

afterAll(() => {
  for (const s of sessions) s.close();
  sb?.cleanup();
});

const expected = {SECRET, OVERRIDE: 'from dotenv', HARD, MULTI: 'one\ntwo', FROM_ENV: 'env'};

describe('dotenv', () => {
  test('exec and export json see the values, after [env]', () => {
    const r = sb.devenv(['exec', '--', 'sh', '-c', 'printf "%s|%s|%s|%s|%s" "$SECRET" "$OVERRIDE" "$HARD" "$MULTI" "$FROM_ENV"'], {cwd: proj});
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${SECRET}|from dotenv|${HARD}|one\ntwo|env`);
    const j = JSON.parse(sb.devenv(['export', 'json'], {cwd: proj}).stdout);
    expect(j).toMatchObject(expected);
  });

  for (const kind of ['bash', 'zsh', 'fish'] as ShellKind[]) {
    test(`${kind}: cd in applies them exactly (missing .env.local is silent), cd out restores`, () => {
      const sh = ShellSession.start(kind, {env: {...sb.env, ...spy.env, LANG: 'C.UTF-8'}, dir: join(sb.dir, `session-${kind}`), cwd: sb.dir});
      sessions.push(sh);
      const outside = sh.env();
      expect(sh.run(`cd ${shq(kind, proj)}`, EVAL_TIMEOUT)).toBe(`devenv: loading ${proj}`);
      expect(sh.env()).toMatchObject(expected);
      expect(sh.run(`cd ${shq(kind, sb.dir)}`)).toBe('devenv: unloading');
      expect(comparableEnv(sh.env())).toEqual(comparableEnv(outside));
    }, EVAL_TIMEOUT);
  }

  test('a changed .env is not applied until allowed; then it is, without re-evaluating', () => {
    const sh = sessions[0];
    const evals = spy.calls().filter((c) => c.includes('print-dev-env')).length;
    const outside = sh.env();
    sh.run(`cd '${proj}'`);
    writeFileSync(join(proj, '.env'), dotenvText('changed-value'));
    const out = sh.run('true');
    expect(out).toContain(`devenv: ${proj} changed since it was allowed`);
    expect(sh.env().SECRET).toBeUndefined();
    expect(comparableEnv(sh.env())).toEqual(comparableEnv(outside));
    const st = JSON.parse(sb.devenv(['status', '--json'], {cwd: proj}).stdout);
    expect(JSON.stringify(st)).toContain('.env');
    expect(sh.run('devenv allow').split('\n')).toEqual([`devenv: allowed ${proj}`, `devenv: loading ${proj}`]);
    expect(sh.env().SECRET).toBe('changed-value');
    writeFileSync(join(proj, '.env'), dotenvText(SECRET));
    sh.run('devenv allow');
    expect(sh.env().SECRET).toBe(SECRET);
    // Not an input of nix: no evaluation for a .env edit.
    expect(spy.calls().filter((c) => c.includes('print-dev-env')).length).toBe(evals);
  });

  test('a malformed line is an error naming file:line; fixing it loads again', () => {
    const sh = sessions[0];
    writeFileSync(join(proj, '.env.local'), 'GOOD=1\nthis line is broken\n');
    sb.devenv(['allow'], {cwd: proj});
    const out = sh.run('true');
    expect(out).toContain('.env.local:2: expected KEY=value');
    expect(out).not.toContain('this line is broken');
    const ex = sb.devenv(['exec', '--', 'true'], {cwd: proj});
    expect(ex.status).toBe(1);
    expect(ex.stderr).toContain('.env.local:2: expected KEY=value');
    writeFileSync(join(proj, '.env.local'), 'GOOD=1\n');
    sh.run('devenv allow');
    expect(sh.env()).toMatchObject({...expected, GOOD: '1'});
    expect(sh.run(`cd '${sb.dir}'`)).toBe('devenv: unloading');
  });

  test('the values are in no cache file, no store path of the environment and not in flake.nix', () => {
    const grep = (args: string[]) => spawnSync('grep', ['-rlF', SECRET, ...args], {encoding: 'utf8', maxBuffer: 1 << 26});
    expect(readFileSync(join(proj, 'flake.nix'), 'utf8')).not.toContain(SECRET);
    const cache = grep([sb.env.XDG_CACHE_HOME!]);
    expect(cache.stdout).toBe('');
    // Everything nix copied or built for this project: the closure of its GC roots.
    const gcroots = join(sb.env.XDG_STATE_HOME!, 'devenv', 'gcroots');
    const roots = readdirSync(gcroots, {recursive: true, encoding: 'utf8'}).map((f) => join(gcroots, f)).filter((f) => lstatSync(f).isSymbolicLink() && realpathSync(f).startsWith('/nix/store/'));
    expect(roots).toContainEqual(expect.stringMatching(/profile$/));
    const q = spawnSync('nix-store', ['-qR', ...roots], {encoding: 'utf8', maxBuffer: 1 << 26});
    const paths = q.stdout.split('\n').filter((p) => p && !/-debian-bookworm(-root)?$/.test(p));
    expect({stderr: q.stderr, env: paths.some((p) => /-proj-env$|-nix-shell-env$|-env$/.test(p))}).toEqual({stderr: '', env: true});
    expect(grep(paths).stdout).toBe('');
    // nix's copy of the project's source (a path flake evaluates devenv's filtered copy, in the cache dir).
    const src = readdirSync(join(sb.env.XDG_CACHE_HOME!, 'devenv', 'src')).map((d) => join(sb.env.XDG_CACHE_HOME!, 'devenv', 'src', d));
    expect(src.length).toBe(1);
    const meta = spawnSync('nix', ['--extra-experimental-features', 'nix-command flakes', 'flake', 'metadata', '--json', '--override-input', 'nixpkgs', OFFLINE_NIXPKGS, 'path:.'], {cwd: src[0], encoding: 'utf8', env: sb.env});
    expect(meta.stderr).not.toMatch(/error/);
    const storeSrc = JSON.parse(meta.stdout).path as string;
    expect(storeSrc).toMatch(/^\/nix\/store\//);
    expect(readdirSync(storeSrc)).not.toContain('.env');
    expect(grep([storeSrc]).stdout).toBe('');
    // The secret does live in the user's private activation scripts (0600), as in their shell.
  }, 120_000);
});
