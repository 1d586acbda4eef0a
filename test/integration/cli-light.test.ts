// ps, status, logs, down, up -d, --version and --help without oclif (src/cli/light.ts, bin/run.js): the same
// output and exit codes as through oclif (DEVENV_LIGHT=0), for plain and unusual spellings, and
// not a file of oclif opened on the way (strace). Unusual spellings still reach oclif's parser.
import {afterAll, beforeAll, expect, test} from '@jest/globals';
import {spawnSync} from 'node:child_process';
import {appendFileSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {DEVENV, initProject, makeSandbox, type Sandbox} from '../helpers/env.js';

let sb: Sandbox;
let p: string;
beforeAll(() => {
  sb = makeSandbox('devenv-light-');
  p = initProject(sb, 'light', ['minimal']);
  appendFileSync(join(p, 'devenv.toml'), '\n[processes.web]\nexec = "echo web says hi; exec sleep 300"\n\n[processes.worker]\nexec = "echo working; echo done; exec sleep 300"\n');
  expect(sb.devenv(['allow'], {cwd: p}).status).toBe(0);
  const up = sb.devenv(['up', '-d'], {cwd: p});
  expect([up.status, up.stderr]).toEqual([0, expect.any(String)]);
}, 300_000);
afterAll(() => {
  sb.devenv(['down'], {cwd: p});
  sb.cleanup();
});

const both = (args: string[]) => {
  const light = sb.devenv(args, {cwd: p});
  const oclif = sb.devenv(args, {cwd: p, env: {DEVENV_LIGHT: '0'}});
  return {light: {status: light.status, stdout: light.stdout, stderr: light.stderr}, oclif: {status: oclif.status, stdout: oclif.stdout, stderr: oclif.stderr}};
};

test('the same output and exit code as through oclif, plain spellings and odd ones', () => {
  const cases = [
    ['ps'], ['ps', '--json'], ['status'], ['status', '--json'], ['--version'],
    ['logs'], ['logs', 'worker'], ['logs', '-n', '1', 'worker'], ['logs', 'worker', '--lines', '0'], ['logs', 'nope'],
    ['down', 'nope'], ['down', '--json', 'nope'], ['logs', '--json'], ['logs', '-n', '1', '--json', 'worker'], ['logs', '--json', '-f'],
    // Left to oclif by the light path: parse errors and help read as before.
    ['ps', 'extra'], ['status', '--jsn'], ['logs', '-n', '-1'], ['logs', '-n5', 'web'], ['ps', '--json', '--json'], ['down', '--help'], ['ps', '--'],
  ];
  for (const args of cases) {
    const r = both(args);
    expect([args, r.light]).toEqual([args, r.oclif]);
  }
  // Sanity: the cases do cover success, data and failure.
  expect(both(['logs', '-n', '1', 'worker']).light).toEqual({status: 0, stdout: 'done\n', stderr: ''});
  expect(JSON.parse(both(['ps', '--json']).light.stdout).services.map((s: {name: string; state: string}) => `${s.name}:${s.state}`).sort()).toEqual(['web:running', 'worker:running']);
  expect(both(['down', 'nope']).light.status).toBe(2);
});

test('down through each path stops the same way (pids aside); --json too', () => {
  const pidless = (s: string) => s.replace(/\b\d{2,}\b/g, 'N');
  const light = sb.devenv(['down', 'web'], {cwd: p});
  expect(light.status).toBe(0);
  expect(light.stdout).toMatch(/^web: stopped \(pid \d+\)/);
  expect(sb.devenv(['up', '-d', 'web'], {cwd: p}).status).toBe(0);
  const oclif = sb.devenv(['down', 'web'], {cwd: p, env: {DEVENV_LIGHT: '0'}});
  expect([oclif.status, pidless(oclif.stdout), oclif.stderr]).toEqual([light.status, pidless(light.stdout), light.stderr]);
  const json = sb.devenv(['down', '--json'], {cwd: p});
  expect(json.status).toBe(0);
  expect(JSON.parse(json.stdout).services.map((s: {name: string; stopped: boolean}) => `${s.name}:${s.stopped}`).sort()).toEqual(['web:false', 'worker:true']);
  expect(sb.devenv(['up', '-d'], {cwd: p}).status).toBe(0);
});

test('up -d through each path: the same report when all runs (pids aside), the same --json shape, a usage error alike', () => {
  const pidless = (s: string) => s.replace(/\b\d{2,}\b/g, 'N');
  const light = sb.devenv(['up', '-d'], {cwd: p});
  const oclif = sb.devenv(['up', '-d'], {cwd: p, env: {DEVENV_LIGHT: '0'}});
  expect(light.stdout).toMatch(/^web: already running \(pid \d+\)/m);
  expect([oclif.status, pidless(oclif.stdout), oclif.stderr]).toEqual([light.status, pidless(light.stdout), light.stderr]);
  const shape = (out: string) => JSON.parse(out).services.map((x: {name: string; started: boolean}) => `${x.name}:${x.started}`).sort();
  const lj = sb.devenv(['up', '-d', '--json', 'web'], {cwd: p});
  const oj = sb.devenv(['up', '-d', '--json', 'web'], {cwd: p, env: {DEVENV_LIGHT: '0'}});
  expect([lj.status, shape(lj.stdout), lj.stderr]).toEqual([0, ['web:false'], '']);
  expect([oj.status, shape(oj.stdout), oj.stderr]).toEqual([0, ['web:false'], '']);
  for (const args of [['up', '-d', 'nope'], ['up', '--json'], ['up', '-d', '--seed-from']]) {
    const r = both(args);
    expect([args, r.light]).toEqual([args, r.oclif]);
    expect(r.light.status).not.toBe(0);
  }
});

test('--help: the text oclif printed last time, from a private cache, the same byte for byte', () => {
  const env = {XDG_RUNTIME_DIR: join(sb.dir, 'fresh-run')};
  mkdirSync(env.XDG_RUNTIME_DIR, {mode: 0o700});
  const first = sb.devenv(['--help'], {cwd: p, env});
  expect(first.status).toBe(0);
  expect(first.stdout).toContain('USAGE');
  expect(statSync(join(env.XDG_RUNTIME_DIR, 'devenv', 'shell', 'help')).mode & 0o777).toBe(0o600);
  const again = sb.devenv(['--help'], {cwd: p, env});
  expect(again).toMatchObject({status: 0, stdout: first.stdout, stderr: first.stderr});
  // Another width is another text: not served from this cache.
  expect(sb.devenv(['--help'], {cwd: p, env: {...env, COLUMNS: '200'}}).status).toBe(0);
});

test('ps, status, logs, down, --version and a second --help open no file of oclif', () => {
  const log = join(sb.dir, 'strace.log');
  sb.devenv(['--help'], {cwd: p});
  for (const args of [['ps'], ['ps', '--json'], ['status'], ['logs', 'worker'], ['down', 'nope'], ['--version'], ['--help']]) {
    const r = spawnSync('strace', ['-f', '-qq', '-o', log, '-e', 'trace=openat', process.execPath, DEVENV, ...args], {cwd: p, env: {...sb.env, PWD: p}, encoding: 'utf8'});
    expect([args, r.error]).toEqual([args, undefined]);
    const opened = readFileSync(log, 'utf8');
    expect(opened).toContain(args[0] === '--version' ? '/package.json' : '/dist/'); // the trace did see devenv's own files
    expect([args, opened.match(/[^"]*@oclif[^"]*/)?.[0]]).toEqual([args, undefined]);
  }
  // An odd spelling does go to oclif (and its parser reports it).
  spawnSync('strace', ['-f', '-qq', '-o', log, '-e', 'trace=openat', process.execPath, DEVENV, 'ps', 'extra'], {cwd: p, env: {...sb.env, PWD: p}});
  expect(readFileSync(log, 'utf8')).toContain('@oclif');
});

test('status remembers a manifest that loaded, by its text: an edit that breaks it is reported at once, and the fix too', () => {
  const toml = join(p, 'devenv.toml');
  const good = readFileSync(toml, 'utf8');
  const manifest = () => JSON.parse(sb.devenv(['status', '--json'], {cwd: p}).stdout).manifest;
  expect(manifest()).not.toHaveProperty('error');
  expect(manifest()).not.toHaveProperty('error'); // from the memo
  try {
    writeFileSync(toml, good + '\nno_such_key = 1\n');
    expect(manifest().error).toMatch(/no_such_key/);
    expect(sb.devenv(['status'], {cwd: p}).stdout).toMatch(/^manifest: does not load: .*no_such_key/m);
  } finally {
    writeFileSync(toml, good);
  }
  expect(manifest()).not.toHaveProperty('error');
});
