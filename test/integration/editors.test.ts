// Editors: the .envrc from `devenv generate envrc` loads, under real direnv, the same variables
// as `devenv export json`, and nothing once devenv no longer trusts the project;
// `devenv generate vscode` merges into .vscode/settings.json, keeping the user's settings.
import {afterAll, beforeAll, expect, test} from '@jest/globals';
import {spawnSync} from 'node:child_process';
import {appendFileSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {DEVENV, initProject, makeSandbox, type Sandbox} from '../helpers/env.js';

let sb: Sandbox;
let p: string;
let env: NodeJS.ProcessEnv;
const direnv = (...args: string[]) => spawnSync('direnv', args, {cwd: p, env, encoding: 'utf8', timeout: 180_000});

beforeAll(() => {
  sb = makeSandbox('devenv-editors-');
  p = initProject(sb, 'proj', ['python']);
  appendFileSync(join(p, 'devenv.toml'), '\n[dotenv]\nfiles = [".env"]\n');
  writeFileSync(join(p, '.env'), 'FROM_DOTENV="dot env"\n');
  const bin = join(sb.dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'devenv'), `#!/bin/sh\nexec '${process.execPath}' '${DEVENV}' "$@"\n`, {mode: 0o755});
  env = {...sb.env, PATH: `${bin}:${sb.env.PATH}`, DIRENV_LOG_FORMAT: ''};
  const r = sb.devenv(['allow'], {cwd: p, timeout: 240_000});
  if (r.status !== 0) throw new Error(r.stderr);
}, 240_000);
afterAll(() => sb?.cleanup());

test('generate envrc: direnv loads the same environment as export json, and nothing once devenv denies', () => {
  const g = sb.devenv(['generate', 'envrc'], {cwd: p, env});
  expect(g.status).toBe(0);
  expect(g.stdout).toContain(`devenv: wrote ${join(p, '.envrc')}`);
  expect(readFileSync(join(p, '.envrc'), 'utf8')).toContain("watch_file 'devenv.toml' 'flake.nix' 'flake.lock' '.env'");
  // generating it keeps devenv's trust
  expect(JSON.parse(sb.devenv(['status', '--json'], {cwd: p}).stdout).trusted).toBe(true);
  const expected = JSON.parse(sb.devenv(['export', 'json'], {cwd: p, env}).stdout);
  expect(direnv('allow', p).status).toBe(0);
  const r = direnv('exec', p, 'sh', '-c', 'printf "%s|%s|%s" "$DEVENV_ROOT" "$FROM_DOTENV" "$PATH"');
  expect(r.status).toBe(0);
  const [root, dot, path] = r.stdout.split('|');
  expect(root).toBe(expected.DEVENV_ROOT);
  expect(dot).toBe('dot env');
  // The environment's own PATH entries (the template's venv, then the store) come first, as in export.
  const own = expected.PATH.split(':').filter((e: string) => e.startsWith('/nix/store/') || e.startsWith(`${p}/`));
  expect(own[0]).toBe(join(p, '.venv', 'bin'));
  expect(own.length).toBeGreaterThan(1);
  expect(path.split(':').slice(0, own.length)).toEqual(own);
  // devenv's trust decides: denied, direnv loads nothing of the project.
  expect(sb.devenv(['deny'], {cwd: p}).status).toBe(0);
  const denied = direnv('exec', p, 'sh', '-c', 'printf "%s" "$FROM_DOTENV"');
  expect(denied.stdout).toBe('');
  expect(denied.stderr).toContain('is denied');
  expect(sb.devenv(['allow'], {cwd: p}).status).toBe(0);
  // A .envrc devenv did not write is not overwritten.
  writeFileSync(join(p, '.envrc'), 'use nix\n');
  const again = sb.devenv(['generate', 'envrc'], {cwd: p});
  expect(again.status).toBe(1);
  expect(readFileSync(join(p, '.envrc'), 'utf8')).toBe('use nix\n');
}, 240_000);

test("generate vscode merges into settings.json and keeps the user's settings", () => {
  mkdirSync(join(p, '.vscode'));
  writeFileSync(join(p, '.vscode', 'settings.json'), '{\n  // mine\n  "editor.tabSize": 3,\n  "terminal.integrated.env.linux": {"MINE": "1"},\n}\n');
  const r = sb.devenv(['generate', 'vscode'], {cwd: p, env: {PATH: `/opt/caller-secret/bin:${process.env.PATH}`}});
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const s = JSON.parse(readFileSync(join(p, '.vscode', 'settings.json'), 'utf8'));
  expect(s['editor.tabSize']).toBe(3);
  expect(s['terminal.integrated.env.linux'].MINE).toBe('1');
  // The environment's own entries and VS Code's own PATH, nothing of the caller's PATH.
  const exported = JSON.parse(sb.devenv(['export', 'json'], {cwd: p, env: {PATH: `/opt/caller-secret/bin:${process.env.PATH}`}}).stdout).PATH as string;
  const vsPath = s['terminal.integrated.env.linux'].PATH as string;
  expect(vsPath).not.toContain('/opt/caller-secret');
  for (const e of (process.env.PATH ?? '').split(':')) if (!e.startsWith('/nix/store/')) expect(vsPath.split(':')).not.toContain(e);
  expect(vsPath).toMatch(/^(\/nix\/store\/|.*\/\.venv\/bin:).*:\$\{env:PATH\}$/);
  expect(vsPath.replace(':${env:PATH}', '').split(':').every((e) => exported.split(':').includes(e))).toBe(true);
  expect(s['python.defaultInterpreterPath']).toBe(join(p, '.venv', 'bin', 'python'));
  writeFileSync(join(p, '.vscode', 'settings.json'), '{ not json');
  const bad = sb.devenv(['generate', 'vscode'], {cwd: p});
  expect(bad.status).toBe(1);
  expect(bad.stderr).toContain('is not valid JSON');
  expect(readFileSync(join(p, '.vscode', 'settings.json'), 'utf8')).toBe('{ not json');
});
