// [languages.python] venv + requirements through a real bash (tmux), offline: the venv appears
// on first entry with the requirement importable, installed outside the prompt; a second entry
// installs nothing; a changed requirements.txt re-installs; a failure shows pip's error once and
// keeps the last good venv; exec and run wait for the setup; leaving restores the shell exactly.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {makeSandbox, type Sandbox} from '../helpers/env.js';
import {comparableEnv, ShellSession, waitUntil} from '../helpers/tmux.js';
import {writeWheel} from '../helpers/wheel.js';

const EVAL_TIMEOUT = 240_000;
const SETUP_TIMEOUT = 180_000;

let sb: Sandbox;
let proj: string;
let wheels: string;
let sh: ShellSession;
let outside: Record<string, string>;

const requirements = (spec: string) => `--no-index\n--find-links ${wheels}\n${spec}\n`;
const setupState = () => {
  try {
    return JSON.parse(sb.devenv(['status', '--json'], {cwd: proj}).stdout).setup ?? {};
  } catch {
    return {};
  }
};
/** Wait until the background setup is no longer running, and the shell has had a prompt since. */
const waitSetup = (expectFailure = false) => {
  waitUntil(() => !setupState().running, SETUP_TIMEOUT, 'the setup to finish', () => sh.debug());
  const failed = setupState().failed;
  if (failed && !expectFailure) throw new Error(`setup failed: ${JSON.stringify(failed)}`);
};
const importValue = () => sh.run(`python -c 'import demo_pkg; print(demo_pkg.VALUE)'`);

beforeAll(() => {
  sb = makeSandbox('devenv-py-');
  proj = join(sb.dir, 'proj');
  wheels = join(sb.dir, 'wheels');
  mkdirSync(proj);
  mkdirSync(wheels);
  writeWheel(wheels, 'demo_pkg', '1.0');
  writeWheel(wheels, 'demo_pkg', '2.0');
  writeFileSync(
    join(proj, 'devenv.toml'),
    ['name = "proj"', 'packages = []', '', '[languages.python]', 'version = "3.11"', 'venv = true', 'requirements = "requirements.txt"', '', '[tasks.show]', `exec = "python -c 'import demo_pkg; print(demo_pkg.VALUE)'"`, ''].join('\n'),
  );
  writeFileSync(join(proj, 'requirements.txt'), requirements('demo-pkg==1.0'));
  const r = sb.devenv(['allow'], {cwd: proj, timeout: EVAL_TIMEOUT});
  if (r.status !== 0) throw new Error(r.stderr);
  const e = sb.devenv(['export', 'json'], {cwd: proj, timeout: EVAL_TIMEOUT});
  if (e.status !== 0) throw new Error(e.stderr);
  sh = ShellSession.start('bash', {env: {...sb.env, LANG: 'C.UTF-8'}, dir: join(sb.dir, 'session'), cwd: sb.dir});
  outside = sh.env();
}, EVAL_TIMEOUT);

afterAll(() => {
  sh?.close();
  sb?.cleanup();
});

describe('python venv', () => {
  test('first entry: the prompt returns at once, says setup runs; then the requirement is importable from .venv', () => {
    const out = sh.run(`cd '${proj}'`).split('\n');
    expect(out[0]).toBe(`devenv: loading ${proj} (python3 3.11)`);
    expect(out[1]).toBe("devenv: creating .venv, pip install -r requirements.txt in the background; the shell is usable now ('devenv status' shows progress)");
    // The prompt came back while the install still runs.
    expect(setupState().running).toEqual(expect.objectContaining({steps: 'creating .venv, pip install -r requirements.txt'}));
    expect(sh.run('echo usable')).toContain('usable');
    waitSetup();
    sh.run('true');
    expect(importValue()).toBe('1.0');
    const env = sh.env();
    expect(env.VIRTUAL_ENV).toBe(join(proj, '.venv'));
    expect(env.PATH.split(':')[0]).toBe(join(proj, '.venv', 'bin'));
    expect(sh.run('command -v python')).toBe(join(proj, '.venv', 'bin', 'python'));
    // The venv's python is the environment's, from the store.
    expect(readFileSync(join(proj, '.venv', 'pyvenv.cfg'), 'utf8')).toMatch(/^home = \/nix\/store\/[0-9a-z]{32}-python3-3\.11\/bin$/m);
    // ... and so is its standard library, not a python3.11 the host happens to have in /usr/lib.
    expect(sh.run(`python -c 'import os; print(os.__file__)'`)).toMatch(/^\/nix\/store\/[0-9a-z]{32}-python3-3\.11\/lib\/python3\.11\/os\.py$/);
  }, SETUP_TIMEOUT);

  test('leaving restores the shell exactly; a second entry installs nothing', () => {
    expect(sh.run(`cd '${sb.dir}'`)).toBe('devenv: unloading');
    expect(comparableEnv(sh.env())).toEqual(comparableEnv(outside));
    const before = setupState().lastOk;
    expect(sh.run(`cd '${proj}'`)).toBe(`devenv: loading ${proj} (python3 3.11)`);
    expect(setupState()).toEqual({lastOk: before});
    expect(importValue()).toBe('1.0');
  });

  test('a deleted .venv is made again at the next prompt; status says it is needed, not done', () => {
    rmSync(join(proj, '.venv'), {recursive: true, force: true});
    const st = sb.devenv(['status'], {cwd: proj}).stdout;
    expect(st).not.toMatch(/setup: +done/);
    expect(st).toMatch(/setup: +needed: \.venv is gone/);
    expect(sh.run('true')).toContain("devenv: creating .venv, pip install -r requirements.txt in the background; the shell is usable now ('devenv status' shows progress)");
    waitSetup();
    sh.run('true');
    expect(importValue()).toBe('1.0');
    expect(setupState().missing).toBeUndefined();
  }, SETUP_TIMEOUT);

  test('a changed requirements.txt (once allowed) re-installs in the background', () => {
    writeFileSync(join(proj, 'requirements.txt'), requirements('demo-pkg==2.0'));
    expect(sh.run('true')).toContain('changed since it was allowed');
    const out = sh.run('devenv allow').split('\n');
    // (A path flake's every file is an input of nix: it re-evaluates in the background too.)
    expect(out).toContain("devenv: pip install -r requirements.txt in the background; the shell is usable now ('devenv status' shows progress)");
    waitSetup();
    sh.run('true');
    expect(importValue()).toBe('2.0');
  }, SETUP_TIMEOUT);

  test("a failing install shows pip's error once and keeps the last good venv; status shows it", () => {
    writeFileSync(join(proj, 'requirements.txt'), requirements('no-such-package==9'));
    const allowOut = sh.run('devenv allow');
    waitSetup(true);
    const out = sh.run('true');
    expect({allowOut, out, state: setupState()}).toEqual({allowOut: expect.stringContaining('in the background'), out: expect.stringContaining('setup failed'), state: expect.anything()});
    expect(out).toContain('devenv: setup failed (pip install -r requirements.txt); keeping the last good environment:');
    expect(out).toMatch(/ERROR: .*no-such-package/);
    expect(sh.run('true')).toBe('');
    expect(importValue()).toBe('2.0');
    const st = sb.devenv(['status'], {cwd: proj}).stdout;
    expect(st).toMatch(/setup: {4}failed \(pip install -r requirements\.txt/);
    // The same failing content is not retried on later prompts.
    expect(sh.run(`cd '${sb.dir}' && cd '${proj}'`)).not.toContain('in the background');
  }, SETUP_TIMEOUT);

  test('exec waits for the setup it needs', () => {
    writeFileSync(join(proj, 'requirements.txt'), requirements('demo-pkg==1.0'));
    const r = sb.devenv(['exec', '--', 'python', '-c', 'import demo_pkg; print(demo_pkg.VALUE)'], {cwd: proj, timeout: SETUP_TIMEOUT});
    expect(r.stdout).toBe('1.0\n');
    expect(r.status).toBe(0);
    expect(setupState().failed).toBeUndefined();
    expect(sh.run(`cd '${sb.dir}'`)).toContain('devenv: unloading');
  }, SETUP_TIMEOUT);

  test('run waits for the setup too: a task sees the requirements as they are now', () => {
    writeFileSync(join(proj, 'requirements.txt'), requirements('demo-pkg==2.0'));
    const r = sb.devenv(['run', 'show'], {cwd: proj, timeout: SETUP_TIMEOUT});
    expect({status: r.status, stdout: r.stdout}).toEqual({status: 0, stdout: 'show | 2.0\n'});
    expect(setupState().failed).toBeUndefined();
  }, SETUP_TIMEOUT);
});
