// The pinned channel against real nix: new projects pin nixos-26.05, a version the channel
// lacks is refused with its list, [nixpkgs.config] reaches nixpkgs (unfree, insecure), a
// changed nixpkgs URL is re-locked by devenv and keeps the project allowed, and darwin
// systems evaluate where nixpkgs 26.11 wants an opt-in.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {cpSync, existsSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {spawnSync} from 'node:child_process';
import {initProject, makeSandbox, nixSpy, OFFLINE_NIXPKGS, type Sandbox} from '../helpers/env.js';

let sb: Sandbox;
let spy: ReturnType<typeof nixSpy>;
const FIXTURE = OFFLINE_NIXPKGS.replace(/^path:/, '');
const strict = {DEVENV_STRICT: '1'};
const setToml = (p: string, edit: (s: string) => string) => writeFileSync(join(p, 'devenv.toml'), edit(readFileSync(join(p, 'devenv.toml'), 'utf8')));
const status = (p: string, env: NodeJS.ProcessEnv = {}) => JSON.parse(sb.devenv(['status', '--json'], {cwd: p, env}).stdout);

beforeAll(() => {
  sb = makeSandbox();
  spy = nixSpy(sb);
});
afterAll(() => sb.cleanup());

describe('the pinned channel', () => {
  test('init python-postgres pins nixos-26.05 with Python 3.11 and PostgreSQL 15', () => {
    const p = initProject(sb, 'pinned');
    expect(readFileSync(join(p, 'devenv.toml'), 'utf8')).toContain('url = "github:NixOS/nixpkgs/nixos-26.05"');
    const flake = readFileSync(join(p, 'flake.nix'), 'utf8');
    expect(flake).toContain('inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";');
    expect(flake).toContain('pkgs.python311');
    expect(flake).toContain('pkgs.postgresql_15');
  });

  test('a version the channel lacks fails with the channel, its versions and the line; nothing is written', () => {
    const p = initProject(sb, 'old-python', ['python']);
    const flake = readFileSync(join(p, 'flake.nix'), 'utf8');
    setToml(p, (s) => s.replace('version = "3.11"', 'version = "3.10"'));
    const r = sb.devenv(['exec', '--', 'true'], {cwd: p});
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/devenv\.toml:\d+:1: languages\.python\.version "3\.10" is not in nixos-26\.05, which has 3\.11, 3\.12, 3\.13, 3\.14, 3\.15 \(pre-release\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(readFileSync(join(p, 'flake.nix'), 'utf8')).toBe(flake);
    const add = sb.devenv(['add', 'git'], {cwd: p});
    expect(add.status).toBe(1);
    expect(add.stderr).toContain('is not in nixos-26.05');
  });

  test('every version the table offers names an attribute of the offline set (the names users get)', () => {
    const attrs = ['python311', 'python312', 'python313', 'python314', 'python315', 'nodejs_22', 'nodejs_24', 'nodejs_26', 'nodejs', 'postgresql_14', 'postgresql_15', 'postgresql_16', 'postgresql_17', 'postgresql_18'];
    const r = spawnSync('nix', ['eval', '--json', '--impure', '--expr', `let p = import ${FIXTURE} { system = "x86_64-linux"; }; in map (a: p.\${a}.name) (builtins.fromJSON ''${JSON.stringify(attrs)}'')`], {env: sb.env, encoding: 'utf8'});
    expect(r.stderr).not.toMatch(/error/);
    expect(JSON.parse(r.stdout)).toHaveLength(attrs.length);
  });
});

describe('[nixpkgs.config] reaches nixpkgs', () => {
  test('an unfree package fails to evaluate until devenv.toml allows unfree', () => {
    const p = initProject(sb, 'unfree', ['minimal']);
    setToml(p, (s) => s.replace('packages = []', 'packages = ["unrar"]'));
    const refused = sb.devenv(['exec', '--', 'true'], {cwd: p, env: strict});
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('has an unfree license');
    setToml(p, (s) => s.replace('[env]', '[nixpkgs.config]\nallowUnfree = true\n\n[env]'));
    const ok = sb.devenv(['exec', '--', 'sh', '-c', 'echo "$PATH"'], {cwd: p, env: strict});
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/\/nix\/store\/[a-z0-9]{32}-unrar-7\.1\.10\/bin/);
    expect(readFileSync(join(p, 'flake.nix'), 'utf8')).toContain('allowUnfree = true;');
  });

  test('an insecure package needs its name in permittedInsecurePackages', () => {
    const p = initProject(sb, 'insecure', ['minimal']);
    setToml(p, (s) => s.replace('packages = []', 'packages = ["nodejs_20"]'));
    const refused = sb.devenv(['exec', '--', 'true'], {cwd: p, env: strict});
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('is marked as insecure');
    setToml(p, (s) => s.replace('[env]', '[nixpkgs.config]\npermittedInsecurePackages = ["nodejs-20.20.2"]\n\n[env]'));
    const ok = sb.devenv(['exec', '--', 'sh', '-c', 'echo "$PATH"'], {cwd: p, env: strict});
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/-nodejs-20\.20\.2\/bin/);
  });

  test('[env] reaches the environment through mkShell\'s env', () => {
    const p = initProject(sb, 'env', ['minimal']);
    setToml(p, (s) => s.replace('[env]', '[env]\nGREETING = "hello $USER"'));
    expect(readFileSync(join(p, 'flake.nix'), 'utf8')).not.toContain('GREETING');
    const r = sb.devenv(['exec', '--', 'sh', '-c', 'printf %s "$GREETING"'], {cwd: p, env: strict});
    expect(r.stdout).toBe('hello $USER');
    expect(readFileSync(join(p, 'flake.nix'), 'utf8')).toMatch(/env = \{\n +GREETING = "hello \\\$USER";/);
  });
});

describe('a changed nixpkgs URL', () => {
  test('is re-locked by devenv before evaluating, and the project stays allowed', () => {
    // Real locking against local path inputs: no override, no network.
    const p = initProject(sb, 'relock', ['minimal']);
    const other = join(sb.dir, 'nixpkgs-copy');
    cpSync(FIXTURE, other, {recursive: true});
    const noOverride = {...spy.env, DEVENV_NIXPKGS: '', ...strict};
    setToml(p, (s) => s.replace(/^url = ".*"$/m, `url = "path:${FIXTURE}"`));
    expect(sb.devenv(['allow'], {cwd: p}).status).toBe(0);
    expect(sb.devenv(['exec', '--', 'true'], {cwd: p, env: noOverride}).status).toBe(0);
    expect(readFileSync(join(p, 'flake.lock'), 'utf8')).toContain(`"path": "${FIXTURE}"`);
    expect(status(p, noOverride)).toMatchObject({trust: 'allowed', cache: {state: 'fresh'}});

    // The user's edit of devenv.toml needs an allow; what follows is devenv's own doing.
    setToml(p, (s) => s.replace(`url = "path:${FIXTURE}"`, `url = "path:${other}"`));
    expect(sb.devenv(['allow'], {cwd: p}).status).toBe(0);
    writeFileSync(spy.log, '');
    const r = sb.devenv(['exec', '--', 'true'], {cwd: p, env: noOverride});
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(join(p, 'flake.lock'), 'utf8')).toContain(`"path": "${other}"`);
    expect(status(p, noOverride)).toMatchObject({trust: 'allowed', cache: {state: 'fresh'}});
    const calls = spy.calls();
    expect(calls.findIndex((c) => c.includes(' flake lock '))).toBeGreaterThanOrEqual(0);
    expect(calls.findIndex((c) => c.includes(' flake lock '))).toBeLessThan(calls.findIndex((c) => c.includes(' print-dev-env ')));

    // A lock that matches flake.nix costs no extra nix call.
    setToml(p, (s) => s.replace('packages = []', 'packages = ["hello"]'));
    expect(sb.devenv(['allow'], {cwd: p}).status).toBe(0);
    writeFileSync(spy.log, '');
    expect(sb.devenv(['exec', '--', 'hello'], {cwd: p, env: noOverride}).stdout).toContain('Hello, world!');
    expect(spy.calls().filter((c) => c.includes(' flake lock '))).toEqual([]);
    expect(status(p, noOverride).trust).toBe('allowed');
  });
});

describe('a nixpkgs URL devenv cannot compare with its lock', () => {
  test('is checked by nix once, not again after an edit of the package list', () => {
    const p = initProject(sb, 'gitinput', ['minimal']);
    const repo = join(sb.dir, 'nixpkgs-git');
    cpSync(FIXTURE, repo, {recursive: true});
    const git = (...args: string[]) => spawnSync('git', args, {cwd: repo, encoding: 'utf8', env: {...sb.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t'}});
    git('init', '-q', '-b', 'main');
    git('add', '-A', '-f');
    expect(git('commit', '-qm', 'fixture').status).toBe(0);
    const noOverride = {...spy.env, DEVENV_NIXPKGS: '', ...strict};
    setToml(p, (s) => s.replace(/^url = ".*"$/m, `url = "git+file://${repo}"`));
    expect(sb.devenv(['allow'], {cwd: p}).status).toBe(0);
    writeFileSync(spy.log, '');
    expect(sb.devenv(['exec', '--', 'true'], {cwd: p, env: noOverride}).status).toBe(0);
    expect(spy.calls().filter((c) => c.includes(' flake lock '))).toHaveLength(1);
    setToml(p, (s) => s.replace('packages = []', 'packages = ["hello"]'));
    expect(sb.devenv(['allow'], {cwd: p}).status).toBe(0);
    writeFileSync(spy.log, '');
    expect(sb.devenv(['exec', '--', 'hello'], {cwd: p, env: noOverride}).stdout).toContain('Hello, world!');
    expect(spy.calls().filter((c) => c.includes(' flake lock '))).toEqual([]);
    expect(status(p, noOverride)).toMatchObject({trust: 'allowed', cache: {state: 'fresh'}});
  });
});

describe('macOS systems', () => {
  test('every system evaluates, x86_64-darwin too where nixpkgs 26.11 wants the opt-in', () => {
    const p = initProject(sb, 'darwin', ['python-postgres']);
    const n2611 = join(sb.dir, 'nixpkgs-2611');
    cpSync(FIXTURE, n2611, {recursive: true});
    writeFileSync(join(n2611, 'release.nix'), '"26.11"\n');
    const evalShell = (nixpkgs: string, system: string, dir = p) =>
      spawnSync('nix', ['eval', '--raw', '--no-write-lock-file', '--override-input', 'nixpkgs', `path:${nixpkgs}`, `path:${dir}#devShells.${system}.default.name`], {env: sb.env, encoding: 'utf8'});
    for (const nixpkgs of [FIXTURE, n2611]) {
      for (const system of ['x86_64-linux', 'aarch64-linux', 'x86_64-darwin', 'aarch64-darwin']) {
        const r = evalShell(nixpkgs, system);
        expect({nixpkgs, system, error: /error/.test(r.stderr) ? r.stderr : '', out: r.stdout}).toEqual({nixpkgs, system, error: '', out: 'nix-shell'});
      }
    }
    // Without the opt-in (a flake on legacyPackages), 26.11 refuses x86_64-darwin: the flag matters.
    const plain = join(sb.dir, 'plain');
    cpSync(p, plain, {recursive: true});
    writeFileSync(join(plain, 'flake.nix'), '{ inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05"; outputs = { self, nixpkgs }: { devShells.x86_64-darwin.default = nixpkgs.legacyPackages.x86_64-darwin.mkShell { }; }; }\n');
    const refused = evalShell(n2611, 'x86_64-darwin', plain);
    expect({status: refused.status, stderr: refused.stderr}).toMatchObject({status: 1, stderr: expect.stringContaining('x86_64-darwin is no longer supported')});
    expect(existsSync(join(p, 'flake.lock'))).toBe(false);
  });
});

describe('[env] under __structuredAttrs', () => {
  test('mkShell\'s env reaches the shell when the shell derivation uses structured attributes; top-level attributes do not', () => {
    const p = initProject(sb, 'structured', ['minimal']);
    setToml(p, (s) => s.replace('[env]', '[env]\nGREETING = "hello"'));
    expect(sb.devenv(['generate'], {cwd: p}).status).toBe(0);
    // The user owns the flake from here on: structured attributes, plus a top-level variable for contrast.
    const flake = join(p, 'flake.nix');
    writeFileSync(flake, readFileSync(flake, 'utf8').replace('env = {', '__structuredAttrs = true;\n            TOPLEVEL = "lost";\n            env = {'));
    const r = sb.devenv(['exec', '--', 'sh', '-c', 'printf "%s|%s|%s" "$GREETING" "${TOPLEVEL-unset}" "${NIX_ATTRS_JSON_FILE-unset}"'], {cwd: p, env: strict});
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hello|unset|unset');
  });
});
