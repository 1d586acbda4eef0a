// `devenv watch` against real nix: one watcher process for the whole file (as a user runs it),
// watching every allowed project. A nix wrapper logs each call, so "pre-evaluated" means the
// next `devenv exec` runs no nix at all.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {type ChildProcess, spawn} from 'node:child_process';
import {existsSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {DEVENV, initProject, makeSandbox, nixSpy, type Sandbox} from '../helpers/env.js';

let sb: Sandbox;
let spy: ReturnType<typeof nixSpy>;
let P: string; // trusted by prefix
let C: string; // trusted by content only
let watcher: ChildProcess;
let out = '';
let exited: Promise<number | null>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const evals = () => spy.calls().filter((c) => c.includes('print-dev-env')).length;
const resetSpy = () => writeFileSync(spy.log, '');
const exec = (cwd: string, cmd: string) => sb.devenv(['exec', '--', 'sh', '-c', cmd], {cwd, env: spy.env});
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function waitFor(what: string, pred: () => boolean, timeoutMs = 90_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; watcher output:\n${out}`);
    await sleep(50);
  }
}
/** Wait for a watcher log line matching `re` written after `mark` (an offset into the output). */
const waitLog = (mark: number, re: RegExp, timeoutMs?: number) => waitFor(String(re), () => re.test(out.slice(mark)), timeoutMs);
const count = (mark: number, re: RegExp) => (out.slice(mark).match(new RegExp(re.source, 'g')) ?? []).length;

/** Let the previous step's trailing events (devenv's own flake.nix rewrite) pass the quiet period. */
const settle = () => sleep(1000);

function setEnvVar(root: string, value: string): string {
  const file = join(root, 'devenv.toml');
  const text = readFileSync(file, 'utf8').replace(/^GREETING = .*\n/m, '');
  return text.replace(/^\[env\]\n/m, `[env]\nGREETING = "${value}"\n`);
}

beforeAll(async () => {
  sb = makeSandbox('devenv-watch-');
  spy = nixSpy(sb);
  mkdirSync(join(sb.dir, 'mine'));
  mkdirSync(join(sb.dir, 'other'));
  expect(sb.devenv(['allow', '--prefix', join(sb.dir, 'mine')]).status).toBe(0);
  P = initProject(sb, 'mine/p', ['minimal']);
  C = initProject(sb, 'other/c', ['minimal']);
  expect(sb.devenv(['allow'], {cwd: C}).status).toBe(0);
  // Both evaluated once (a prefix project is watched once devenv has evaluated it).
  for (const root of [P, C]) expect(exec(root, 'true').status).toBe(0);
  watcher = spawn(process.execPath, [DEVENV, 'watch'], {cwd: sb.dir, env: {...sb.env, ...spy.env, PWD: sb.dir}, stdio: ['ignore', 'pipe', 'pipe']});
  watcher.stdout!.on('data', (d) => (out += d));
  watcher.stderr!.on('data', (d) => (out += d));
  exited = new Promise((r) => watcher.on('exit', (code) => r(code)));
  await waitLog(0, /watching 2 projects/);
}, 240_000);

afterAll(async () => {
  if (watcher && watcher.exitCode === null) {
    watcher.kill('SIGTERM');
    await exited;
  }
  sb?.cleanup();
});

describe('devenv watch', () => {
  test('an edit to a prefix-trusted project is evaluated in the background: the next exec runs no nix', async () => {
    const mark = out.length;
    writeFileSync(join(P, 'devenv.toml'), setEnvVar(P, 'one'));
    await waitLog(mark, new RegExp(`${esc(P)} evaluated in [0-9.]+s`));
    resetSpy();
    const r = exec(P, 'echo $GREETING');
    expect(r.stdout.trim()).toBe('one');
    expect(spy.calls()).toEqual([]);
  }, 120_000);

  test('an editor-style atomic save (temp file renamed over devenv.toml) is seen', async () => {
    const mark = out.length;
    const tmp = join(P, '.devenv.toml.swp-tmp');
    writeFileSync(tmp, setEnvVar(P, 'two'));
    renameSync(tmp, join(P, 'devenv.toml'));
    await waitLog(mark, new RegExp(`${esc(P)} evaluated`));
    resetSpy();
    expect(exec(P, 'echo $GREETING').stdout.trim()).toBe('two');
    expect(spy.calls()).toEqual([]);
  }, 120_000);

  test('delete and re-create (within the quiet period) gives one evaluation of the new content', async () => {
    await settle();
    const mark = out.length;
    resetSpy();
    const next = setEnvVar(P, 'three');
    unlinkSync(join(P, 'devenv.toml'));
    await sleep(40);
    writeFileSync(join(P, 'devenv.toml'), next);
    await waitLog(mark, new RegExp(`${esc(P)} evaluated`));
    await sleep(1500);
    expect(evals()).toBe(1);
    resetSpy();
    expect(exec(P, 'echo $GREETING').stdout.trim()).toBe('three');
    expect(spy.calls()).toEqual([]);
  }, 120_000);

  test('a burst of 20 file changes (a checkout) causes one evaluation', async () => {
    await settle();
    const mark = out.length;
    resetSpy();
    for (let i = 0; i < 20; i++) {
      writeFileSync(join(P, `mod${i}.nix`), `{ n = ${i}; }\n`);
      await sleep(10);
    }
    await waitLog(mark, new RegExp(`${esc(P)} evaluated`));
    await sleep(2000); // long past the quiet period: nothing else may follow
    expect(evals()).toBe(1);
    expect(count(mark, /evaluated in/)).toBe(1);
    resetSpy();
    expect(exec(P, 'true').status).toBe(0);
    expect(spy.calls()).toEqual([]);
  }, 120_000);

  test('a second watcher is refused, naming the running one; status shows it', () => {
    const r = sb.devenv(['watch']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`already running (pid ${watcher.pid}`);
    const st = sb.devenv(['status', '--json'], {cwd: P});
    const s = JSON.parse(st.stdout);
    expect(s.watcher).toMatchObject({running: true, pid: watcher.pid});
    expect(s.watcher.lastEvaluation).toMatchObject({root: P, outcome: 'evaluated'});
    expect(sb.devenv(['status'], {cwd: P}).stdout).toMatch(new RegExp(`watcher: +running \\(pid ${watcher.pid}, since .+\\); last evaluation .+ evaluated in`));
  }, 60_000);

  test('an edit to a project trusted only by its content waits for devenv allow, then is evaluated at once', async () => {
    let mark = out.length;
    resetSpy();
    writeFileSync(join(C, 'devenv.toml'), setEnvVar(C, 'untrusted'));
    await waitLog(mark, new RegExp(`${esc(C)} changed since it was allowed: waiting for 'devenv allow'`));
    await sleep(1500);
    expect(evals()).toBe(0);
    expect(out.slice(mark)).not.toMatch(new RegExp(`${esc(C)} evaluated`));
    // A further edit while waiting: still nothing evaluated.
    writeFileSync(join(C, 'extra.nix'), '{ }\n');
    await sleep(1000);
    expect(evals()).toBe(0);

    mark = out.length;
    expect(sb.devenv(['allow'], {cwd: C, env: spy.env}).status).toBe(0);
    await waitLog(mark, new RegExp(`${esc(C)} evaluated`));
    expect(evals()).toBe(1);
    resetSpy();
    expect(exec(C, 'echo $GREETING').stdout.trim()).toBe('untrusted');
    expect(spy.calls()).toEqual([]);
  }, 120_000);

  test('a project allowed while the watcher runs is picked up and evaluated', async () => {
    const D = initProject(sb, 'other/d', ['minimal']);
    const mark = out.length;
    expect(sb.devenv(['allow'], {cwd: D}).status).toBe(0);
    await waitLog(mark, new RegExp(`${esc(D)} now watched`));
    await waitLog(mark, new RegExp(`${esc(D)} evaluated`));
    resetSpy();
    expect(exec(D, 'echo ok').stdout.trim()).toBe('ok');
    expect(spy.calls()).toEqual([]);
    // And its later edits are watched too.
    const mark2 = out.length;
    writeFileSync(join(D, 'devenv.toml'), setEnvVar(D, 'dee'));
    await waitLog(mark2, new RegExp(`${esc(D)} changed since it was allowed`));
  }, 120_000);

  test('a broken edit is logged as failed and keeps the last good environment', async () => {
    const mark = out.length;
    writeFileSync(join(P, 'flake.nix'), '{ this is not nix\n');
    await waitLog(mark, new RegExp(`${esc(P)} failed in [0-9.]+s \\(keeping the last good environment\\): error: .*\\(flake\\.nix:1:\\d+\\)`));
    expect(exec(P, 'echo $GREETING').stdout.trim()).toBe('three');
  }, 120_000);

  test('--print-service prints a unit with absolute node and bin/run.js paths; bad input is refused', () => {
    const unit = sb.devenv(['watch', '--print-service']);
    expect(unit.status).toBe(0);
    expect(unit.stdout).toContain(`ExecStart="${process.execPath}" "${DEVENV}" "watch"\n`);
    expect(unit.stdout).toContain(`Environment="DEVENV_NIXPKGS=${sb.env.DEVENV_NIXPKGS}"`);
    const withDir = sb.devenv(['watch', '--print-service', 'systemd', P]);
    expect(withDir.stdout).toContain(`"watch" "${P}"\n`);
    const plist = sb.devenv(['watch', '--print-service', 'launchd']);
    expect(plist.stdout).toContain(`<string>${DEVENV}</string>`);
    expect(plist.stdout).toContain('<key>RunAtLoad</key>');

    const fmt = sb.devenv(['watch', '--print-service', 'upstart']);
    expect([fmt.status, fmt.stderr]).toEqual([2, expect.stringContaining("unknown service format 'upstart'")]);
    const missing = sb.devenv(['watch', join(sb.dir, 'nope')]);
    expect([missing.status, missing.stderr]).toEqual([2, expect.stringContaining('no such directory')]);
    const notProject = sb.devenv(['watch', join(sb.dir, 'other')]);
    expect([notProject.status, notProject.stderr]).toEqual([2, expect.stringContaining('is not inside a devenv project')]);
    expect(sb.devenv(['watch', '--debounce', '-1']).status).toBe(2);
  }, 60_000);

  test('SIGTERM stops it cleanly and removes the pid file', async () => {
    const watchJson = join(sb.env.XDG_STATE_HOME!, 'devenv', 'watch.json');
    expect(existsSync(watchJson)).toBe(true);
    watcher.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(watchJson)).toBe(false);
    expect(out).toMatch(/SIGTERM, stopping/);
    const s = JSON.parse(sb.devenv(['status', '--json'], {cwd: P}).stdout);
    expect(s.watcher.running).toBe(false);
  }, 60_000);
});
