// [languages.node] install = "npm ci" through a real bash (tmux): runs outside the prompt once per
// lock content (a one-package lock from the npm registry), node_modules/.bin is on PATH inside
// the project, leaving restores the shell exactly.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {makeSandbox, type Sandbox} from '../helpers/env.js';
import {comparableEnv, ShellSession, waitUntil} from '../helpers/tmux.js';

const EVAL_TIMEOUT = 240_000;
const readFileOrEmpty = (f: string) => {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return '';
  }
};
const SETUP_TIMEOUT = 180_000;

let sb: Sandbox;
let proj: string;
let sh: ShellSession;
let outside: Record<string, string>;
let npmEnv: Record<string, string> = {};

const pkg = (name: string) => JSON.stringify({name, version: '1.0.0', private: true, dependencies: {'is-number': '7.0.0'}}, null, 2) + '\n';
const lock = (name: string) =>
  JSON.stringify(
    {
      name,
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': {name, version: '1.0.0', dependencies: {'is-number': '7.0.0'}},
        'node_modules/is-number': {
          version: '7.0.0',
          resolved: 'https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz',
          integrity: 'sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==',
          engines: {node: '>=0.12.0'},
        },
      },
    },
    null,
    2,
  ) + '\n';

const setupState = () => {
  try {
    return JSON.parse(sb.devenv(['status', '--json'], {cwd: proj}).stdout).setup ?? {};
  } catch {
    return {};
  }
};
const waitSetup = () => {
  waitUntil(() => !setupState().running, SETUP_TIMEOUT, 'the setup to finish', () => sh.debug());
  const failed = setupState().failed;
  if (failed) throw new Error(`setup failed: ${JSON.stringify(failed)}`);
};

beforeAll(() => {
  sb = makeSandbox('devenv-node-');
  proj = join(sb.dir, 'proj');
  mkdirSync(proj);
  writeFileSync(join(proj, 'devenv.toml'), ['name = "proj"', 'packages = []', '', '[languages.node]', 'install = "npm ci"', ''].join('\n'));
  writeFileSync(join(proj, 'package.json'), pkg('proj'));
  writeFileSync(join(proj, 'package-lock.json'), lock('proj'));
  const r = sb.devenv(['allow'], {cwd: proj, timeout: EVAL_TIMEOUT});
  if (r.status !== 0) throw new Error(r.stderr);
  const e = sb.devenv(['export', 'json'], {cwd: proj, timeout: EVAL_TIMEOUT});
  if (e.status !== 0) throw new Error(e.stderr);
  // This machine reaches the registry through a TLS-inspecting proxy whose CA the system npm is
  // configured with (/etc/npmrc); the store's npm reads no system config, so pass it on.
  const cafile = /^cafile\s*=\s*(.+)$/m.exec(readFileOrEmpty('/etc/npmrc'))?.[1]?.trim();
  npmEnv = {npm_config_cache: join(sb.dir, 'npm-cache'), ...(cafile ? {npm_config_cafile: cafile} : {})};
  sh = ShellSession.start('bash', {env: {...sb.env, ...npmEnv, LANG: 'C.UTF-8'}, dir: join(sb.dir, 'session'), cwd: sb.dir});
  outside = sh.env();
}, EVAL_TIMEOUT);

afterAll(() => {
  sh?.close();
  sb?.cleanup();
});

describe('node install', () => {
  test('first entry runs npm ci in the background; the package is then installed; node_modules/.bin leads PATH', () => {
    const out = sh.run(`cd '${proj}'`).split('\n');
    expect(out[0]).toMatch(new RegExp(`^devenv: loading ${proj}`));
    expect(out[1]).toBe("devenv: npm ci in the background; the shell is usable now ('devenv status' shows progress)");
    waitSetup();
    sh.run('true');
    expect(sh.run(`node -e 'console.log(require("is-number")(5))'`)).toBe('true');
    expect(sh.env().PATH.split(':')[0]).toBe(join(proj, 'node_modules', '.bin'));
  }, SETUP_TIMEOUT);

  test('npm ci runs once per lock content: re-entering or rewriting the same lock installs nothing', () => {
    const before = setupState().lastOk;
    expect(before).toBeDefined();
    expect(sh.run(`cd '${sb.dir}'`)).toBe('devenv: unloading');
    expect(comparableEnv(sh.env())).toEqual(comparableEnv(outside));
    expect(sh.run(`cd '${proj}'`)).toMatch(/^devenv: loading [^\n]*$/);
    writeFileSync(join(proj, 'package-lock.json'), lock('proj'));
    expect(sh.run('true')).not.toContain('npm ci');
    expect(setupState()).toEqual({lastOk: before});
  });

  test('a deleted node_modules is installed again at the next prompt; status never says done meanwhile', () => {
    rmSync(join(proj, 'node_modules'), {recursive: true, force: true});
    const st = sb.devenv(['status'], {cwd: proj}).stdout;
    expect(st).not.toMatch(/setup: +done/);
    expect(st).toMatch(/setup: +needed: node_modules is gone/);
    expect(setupState().missing).toEqual(['node_modules']);
    // The shell notices at its next prompt (no cd, no edit).
    expect(sh.run('true')).toContain("devenv: npm ci in the background; the shell is usable now ('devenv status' shows progress)");
    waitSetup();
    sh.run('true'); // the reload that follows a finished setup
    expect(sh.run(`node -e 'console.log(require("is-number")(7))'`)).toBe('true');
    expect(setupState().missing).toBeUndefined();
  }, SETUP_TIMEOUT);

  test('exec installs a deleted node_modules again before it runs the command', () => {
    rmSync(join(proj, 'node_modules'), {recursive: true, force: true});
    const r = sb.devenv(['exec', '--', 'node', '-e', 'console.log(require("is-number")(3))'], {cwd: proj, timeout: SETUP_TIMEOUT, env: npmEnv});
    expect(r.stdout.trim()).toBe('true');
  }, SETUP_TIMEOUT);

  test('a changed lock (once allowed) runs npm ci again', () => {
    const before = setupState().lastOk;
    writeFileSync(join(proj, 'package.json'), pkg('proj2'));
    writeFileSync(join(proj, 'package-lock.json'), lock('proj2'));
    expect(sh.run('true')).toContain('changed since it was allowed');
    expect(sh.run('devenv allow')).toContain("devenv: npm ci in the background; the shell is usable now ('devenv status' shows progress)");
    waitSetup();
    expect(setupState().lastOk).not.toBe(before);
    expect(sh.run(`cd '${sb.dir}'`)).toContain('devenv: unloading');
  }, SETUP_TIMEOUT);
});
