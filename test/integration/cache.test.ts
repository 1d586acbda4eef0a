// The evaluation cache against real nix: warm exec runs no nix, edits re-evaluate, old
// content hits old entries, failures fall back, GC cannot break an entry, locks hold.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawn, spawnSync} from 'node:child_process';
import {readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {DEVENV, initProject, makeSandbox, nixSpy, type Sandbox} from '../helpers/env.js';

let sb: Sandbox;
let spy: ReturnType<typeof nixSpy>;
let p: string;
const evals = () => spy.calls().filter((c) => c.includes('print-dev-env')).length;
const exec = (args: string[], env: NodeJS.ProcessEnv = {}, cwd = p) => sb.devenv(['exec', '--', ...args], {cwd, env: {...spy.env, ...env}});
const git = (...args: string[]) => spawnSync('git', args, {cwd: p, encoding: 'utf8', env: {...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t'}});

beforeAll(() => {
  sb = makeSandbox();
  spy = nixSpy(sb);
  p = initProject(sb, 'proj', ['python'], {venv: false});
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-qm', 'init');
});
afterAll(() => sb.cleanup());

describe('exec and the cache', () => {
  test('first exec evaluates; a warm exec starts no nix at all', () => {
    expect(exec(['python3', '--version']).stdout).toMatch(/Python 3\.11/);
    expect(evals()).toBe(1);
    writeFileSync(spy.log, '');
    const r = exec(['python3', '--version']);
    expect(r.stdout).toMatch(/Python 3\.11/);
    expect(spy.calls()).toEqual([]);
  });

  test('exit codes, signals and stdin pass through', () => {
    expect(exec(['sh', '-c', 'exit 7']).status).toBe(7);
    const killed = exec(['sh', '-c', 'kill -TERM $$']);
    expect(killed.signal).toBe('SIGTERM');
    const cat = sb.devenv(['exec', '--', 'cat'], {cwd: p, input: 'line1\nline2\n'});
    expect(cat.stdout).toBe('line1\nline2\n');
    expect(exec(['definitely-not-a-command']).status).toBe(127);
  });

  test('works from a subdirectory', () => {
    spawnSync('mkdir', ['-p', join(p, 'src/deep')]);
    expect(exec(['sh', '-c', 'echo $DEVENV_ROOT'], {}, join(p, 'src/deep')).stdout.trim()).toBe(p);
  });

  test('an edit re-evaluates; switching the branch back hits the old entry at once', () => {
    git('checkout', '-q', '-b', 'feature');
    writeFileSync(join(p, 'devenv.toml'), readFileSync(join(p, 'devenv.toml'), 'utf8').replace('packages = []', 'packages = ["hello"]'));
    git('commit', '-qam', 'hello');
    writeFileSync(spy.log, '');
    expect(exec(['hello']).stdout).toContain('Hello, world!');
    expect(evals()).toBe(1);
    git('checkout', '-q', 'main');
    writeFileSync(spy.log, '');
    expect(exec(['python3', '--version']).stdout).toMatch(/Python 3\.11/);
    expect(spy.calls()).toEqual([]);
    git('checkout', '-q', 'feature');
    expect(exec(['hello']).stdout).toContain('Hello, world!');
    expect(spy.calls()).toEqual([]);
    git('checkout', '-q', 'main');
  });

  test('a new git worktree of an evaluated project hits the existing entry', () => {
    const wt = join(sb.dir, 'proj-wt');
    expect(git('worktree', 'add', '-q', wt, 'feature').status).toBe(0);
    writeFileSync(spy.log, '');
    const r = exec(['sh', '-c', 'hello; echo $DEVENV_ROOT'], {}, wt);
    expect(r.stdout).toContain('Hello, world!');
    expect(r.stdout).toContain(wt);
    expect(spy.calls()).toEqual([]);
  });

  test('a corrupt entry is detected and rebuilt, not a crash', () => {
    const dir = join(sb.env.XDG_CACHE_HOME!, 'devenv', 'entries');
    for (const f of readdirSync(dir)) writeFileSync(join(dir, f), readFileSync(join(dir, f), 'utf8').slice(0, 40));
    writeFileSync(spy.log, '');
    const r = exec(['python3', '--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Python 3\.11/);
    expect(evals()).toBe(1);
  });

  test('after nix-collect-garbage a cached environment still runs, without re-evaluation', () => {
    const gc = spawnSync('nix-collect-garbage', [], {encoding: 'utf8', env: sb.env});
    expect(gc.status).toBe(0);
    writeFileSync(spy.log, '');
    const r = exec(['sh', '-c', 'command -v python3; python3 --version']);
    expect(r.stdout).toMatch(/^\/nix\/store\/.*python3\n.*3\.11/s);
    expect(spy.calls()).toEqual([]);
  });
});

describe('failures', () => {
  test('a broken flake falls back to the last good environment and says so once; --strict fails', () => {
    const toml = readFileSync(join(p, 'devenv.toml'), 'utf8');
    writeFileSync(join(p, 'devenv.toml'), toml.replace('packages = []', 'packages = ["noSuchPackage"]'));
    const first = exec(['python3', '--version']);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/Python 3\.11/);
    expect(first.stderr).toContain('evaluation failed; using the last good environment');
    expect(first.stderr).toContain('noSuchPackage');
    writeFileSync(spy.log, '');
    const second = exec(['python3', '--version']);
    expect(second.stderr).toBe('');
    expect(spy.calls()).toEqual([]); // the same failing content is not evaluated again
    const strict = sb.devenv(['exec', '--strict', '--', 'true'], {cwd: p});
    expect(strict.status).toBe(4);
    expect(strict.stderr).toContain('noSuchPackage');
    const status = JSON.parse(sb.devenv(['status', '--json'], {cwd: p}).stdout);
    expect(status.cache.state).toBe('stale');
    expect(status.cache.why).toMatch(/devenv\.toml.* changed since the last evaluation/);
    expect(status.lastError.message).toContain('noSuchPackage');
    // Back to the good content: the old entry serves it, no nix runs.
    writeFileSync(join(p, 'devenv.toml'), toml);
    writeFileSync(spy.log, '');
    expect(exec(['python3', '--version']).stderr).toBe('');
    expect(spy.calls()).toEqual([]);
    expect(JSON.parse(sb.devenv(['status', '--json'], {cwd: p}).stdout).cache.state).toBe('fresh');
  });

  test('exec outside a project fails with a clear message', () => {
    const r = sb.devenv(['exec', '--', 'true'], {cwd: sb.dir});
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no devenv project here');
  });

  test('exec without nix on PATH says to install Nix (exit 3)', () => {
    const q = initProject(sb, 'nonix', ['minimal']);
    const r = sb.devenv(['exec', '--', 'true'], {cwd: q, env: {PATH: '/nonexistent'}});
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('install Nix');
  });
});

test('four concurrent cold starts evaluate once and all succeed', async () => {
  const q = initProject(sb, 'concurrent', ['python'], {venv: false});
  writeFileSync(spy.log, '');
  const runs = await Promise.all(
    [0, 1, 2, 3].map(
      () =>
        new Promise<{code: number | null; out: string}>((resolve) => {
          const c = spawn(process.execPath, [DEVENV, 'exec', '--', 'python3', '--version'], {cwd: q, env: {...sb.env, ...spy.env, PWD: q}});
          let out = '';
          c.stdout.on('data', (d) => (out += d));
          c.on('exit', (code) => resolve({code, out}));
        }),
    ),
  );
  for (const r of runs) {
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Python 3\.11/);
  }
  expect(evals()).toBe(1);
});

test('status --json and gc', () => {
  expect(sb.devenv(['allow'], {cwd: p}).status).toBe(0);
  const s = JSON.parse(sb.devenv(['status', '--json'], {cwd: p}).stdout);
  expect(s).toMatchObject({root: p, trusted: true, cache: {state: 'fresh'}});
  expect(s.lastEvaluation.durationMs).toBeGreaterThan(0);
  const dry = JSON.parse(sb.devenv(['gc', '--older-than', '0s', '--dry-run', '--json']).stdout);
  expect(dry.removed.length).toBeGreaterThan(1);
  expect(JSON.parse(sb.devenv(['status', '--json'], {cwd: p}).stdout).cache.state).toBe('fresh');
  const real = JSON.parse(sb.devenv(['gc', '--older-than', '0s', '--json']).stdout);
  expect(real.removed.length).toBe(dry.removed.length);
  expect(JSON.parse(sb.devenv(['status', '--json'], {cwd: p}).stdout).cache.state).toBe('stale');
  const bad = sb.devenv(['gc', '--older-than', 'yesterday']);
  expect(bad.status).toBe(2);
  expect(bad.stderr).toContain('30d');
});

test('without the override, the first evaluation writes flake.lock first and the project stays allowed', () => {
  // nixpkgs as a local path input: real locking, no network.
  const q = initProject(sb, 'locked', ['python'], {venv: false});
  const fixture = sb.env.DEVENV_NIXPKGS!;
  const toml = join(q, 'devenv.toml');
  writeFileSync(toml, readFileSync(toml, 'utf8').replace('url = "github:NixOS/nixpkgs/nixos-26.05"', `url = "${fixture}"`));
  expect(sb.devenv(['allow'], {cwd: q}).status).toBe(0);
  const env = {DEVENV_NIXPKGS: ''};
  writeFileSync(spy.log, '');
  const r = sb.devenv(['exec', '--', 'python3', '--version'], {cwd: q, env: {...spy.env, ...env}});
  expect(r.stderr).toBe('');
  expect(r.stdout).toMatch(/Python 3\.11/);
  expect(readFileSync(join(q, 'flake.lock'), 'utf8')).toContain('"nixpkgs"');
  expect(evals()).toBe(1);
  const s = JSON.parse(sb.devenv(['status', '--json'], {cwd: q, env: {...spy.env, ...env}}).stdout);
  expect(s).toMatchObject({trust: 'allowed', cache: {state: 'fresh'}});
  writeFileSync(spy.log, '');
  expect(sb.devenv(['exec', '--', 'true'], {cwd: q, env: {...spy.env, ...env}}).status).toBe(0);
  expect(spy.calls()).toEqual([]);
  // update re-locks and re-evaluates, as devenv's own write: still allowed.
  const up = sb.devenv(['update'], {cwd: q, env: {...spy.env, ...env}});
  expect(up.stderr).toBe('');
  expect(up.status).toBe(0);
  expect(spy.calls().some((c) => c.includes('flake update'))).toBe(true);
  expect(JSON.parse(sb.devenv(['status', '--json'], {cwd: q, env}).stdout).trust).toBe('allowed');
});

test('reload re-evaluates; shell runs $SHELL in the environment with its exit code', () => {
  writeFileSync(spy.log, '');
  const r = JSON.parse(sb.devenv(['reload', '--json'], {cwd: p, env: spy.env}).stdout);
  expect(r).toMatchObject({root: p, source: 'evaluated'});
  expect(evals()).toBe(1);
  const sh = sb.devenv(['shell'], {cwd: p, env: {SHELL: '/bin/sh'}, input: 'echo "root=$DEVENV_ROOT"; command -v python3; exit 3\n'});
  expect(sh.status).toBe(3);
  expect(sh.stdout).toContain(`root=${p}`);
  expect(sh.stdout).toMatch(/\/nix\/store\/.*python3/);
});

test('a result whose inputs changed during evaluation is not stored', async () => {
  const q = join(sb.dir, 'moving');
  spawnSync('mkdir', ['-p', q]);
  const flake = (mark: string) => `{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";
  outputs = { self, nixpkgs }: let pkgs = nixpkgs.legacyPackages.x86_64-linux; in {
    devShells.x86_64-linux.default = pkgs.mkShell { MARK = "${mark}"; X = builtins.toString (pkgs.evalWork 3000000); };
  };
}
`;
  writeFileSync(join(q, 'flake.nix'), flake('old'));
  writeFileSync(spy.log, '');
  const child = spawn(process.execPath, [DEVENV, 'exec', '--', 'sh', '-c', 'echo $MARK'], {cwd: q, env: {...sb.env, ...spy.env, PWD: q}});
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.on('exit', r));
  while (evals() === 0) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100));
  writeFileSync(join(q, 'flake.nix'), flake('new')); // saved while nix evaluates the old one
  await exited;
  expect(out.trim()).toBe('new');
  expect(evals()).toBe(2);
  // The old content was never cached: going back evaluates again.
  writeFileSync(join(q, 'flake.nix'), flake('old'));
  expect(exec(['sh', '-c', 'echo $MARK'], {}, q).stdout.trim()).toBe('old');
  expect(evals()).toBe(3);
});
