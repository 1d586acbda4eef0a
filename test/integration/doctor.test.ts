// `devenv doctor` on real setups: no nix on PATH, a healthy project, files git does not track,
// direnv in the same tree, a failed evaluation, a taken postgres port, the hook's evidence.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawn, spawnSync} from 'node:child_process';
import {mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {createServer, type Server} from 'node:net';
import {join} from 'node:path';
import {DEVENV, initProject, makeSandbox, type Sandbox} from '../helpers/env.js';

let sb: Sandbox;
let P: string; // a minimal project, evaluated
const report = (r: {stdout: string}) => JSON.parse(r.stdout) as {project: string | null; checks: {id: string; status: string; detail: string; next?: string}[]; exitCode: number};
const check = (rep: ReturnType<typeof report>, id: string) => rep.checks.find((c) => c.id === id);
const git = (cwd: string, ...args: string[]) => spawnSync('git', args, {cwd, encoding: 'utf8'});

beforeAll(() => {
  sb = makeSandbox('devenv-doctor-');
  P = initProject(sb, 'p', ['minimal']);
  expect(sb.devenv(['allow'], {cwd: P}).status).toBe(0);
  expect(sb.devenv(['exec', '--', 'true'], {cwd: P}).status).toBe(0);
}, 180_000);
afterAll(() => sb?.cleanup());

describe('devenv doctor', () => {
  test('without nix on PATH it says so and exits 3 (text and --json)', () => {
    const bin = join(sb.dir, 'only-node');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const env = {PATH: bin};
    const r = sb.devenv(['doctor'], {cwd: P, env});
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/FAIL +nix installed: nix was not found on PATH/);
    expect(r.stdout).toMatch(/next: install Nix/);
    const j = sb.devenv(['doctor', '--json'], {cwd: P, env});
    expect(j.status).toBe(3);
    const rep = report(j);
    expect(check(rep, 'nix')?.status).toBe('fail');
    expect(check(rep, 'flakes')?.status).toBe('skip');
    expect(rep.exitCode).toBe(3);
    // Project checks still run without nix (and without git on PATH, that check is skipped).
    expect(check(rep, 'git')?.status).toBe('skip');
    expect(check(rep, 'cache')).toBeDefined();
  }, 60_000);

  test('--json is JSON; a healthy project passes nix, flakes, store, trust and cache checks', () => {
    const r = sb.devenv(['doctor', '--json'], {cwd: P});
    const rep = report(r);
    expect(rep.project).toBe(P);
    for (const id of ['nix', 'flakes', 'store', 'trust', 'direnv', 'git', 'flake', 'cache', 'evaluation', 'watcher']) expect([id, check(rep, id)?.status]).toEqual([id, 'ok']);
    expect(check(rep, 'nix')?.detail).toMatch(/\d+\.\d+/);
    expect(check(rep, 'hook')?.status).toBe('warn'); // no hook in this test process's shell
    expect(r.status).toBe(0);
    expect(rep.exitCode).toBe(0);
  }, 60_000);

  test('outside a project the project checks are skipped', () => {
    const r = sb.devenv(['doctor', '--json'], {cwd: sb.dir});
    const rep = report(r);
    expect(rep.project).toBeNull();
    expect(rep.checks.map((c) => c.id)).toEqual(['nix', 'flakes', 'store', 'hook', 'watcher']);
    expect(r.status).toBe(0);
    expect(sb.devenv(['doctor'], {cwd: sb.dir}).stdout).toMatch(/not in a project: project checks skipped/);
  }, 60_000);

  test('a [dotenv] file tracked by git is a warning (its values are in every clone), cleared once untracked', () => {
    const g = initProject(sb, 'gitproj', ['minimal']);
    writeFileSync(join(g, 'devenv.toml'), readFileSync(join(g, 'devenv.toml'), 'utf8') + '\n[dotenv]\nfiles = ["local.env"]\n');
    writeFileSync(join(g, 'local.env'), 'TOKEN=x\n');
    expect(git(g, 'init', '-q').status).toBe(0);
    // Untracked flake files are fine now: nix reads the inputs whether git tracks them or not.
    expect(check(report(sb.devenv(['doctor', '--json'], {cwd: g})), 'git')?.status).toBe('ok');
    expect(git(g, 'add', 'local.env').status).toBe(0);
    const c = check(report(sb.devenv(['doctor', '--json'], {cwd: g})), 'git');
    expect(c).toMatchObject({status: 'warn', detail: expect.stringContaining('local.env'), next: expect.stringMatching(/^git rm --cached local\.env/)});
    expect(sb.devenv(['doctor'], {cwd: g}).stdout).toMatch(/warn +dotenv files kept out of git/);
    git(g, 'rm', '-q', '--cached', 'local.env');
    expect(check(report(sb.devenv(['doctor', '--json'], {cwd: g})), 'git')?.status).toBe('ok');
  }, 60_000);

  test('direnv managing the same tree is reported; nix-direnv only when something loads it', () => {
    writeFileSync(join(P, '.envrc'), 'use flake\n');
    try {
      // 'use flake' is direnv's own: no nix-direnv is implied.
      const plain = check(report(sb.devenv(['doctor', '--json'], {cwd: P})), 'direnv');
      expect(plain?.status).toBe('warn');
      expect(plain?.detail).toMatch(/^direnv \('use flake'\/'use nix'\) also manages this directory/);
      const direnvrc = join(sb.env.XDG_CONFIG_HOME!, 'direnv', 'direnvrc');
      mkdirSync(join(sb.env.XDG_CONFIG_HOME!, 'direnv'), {recursive: true});
      writeFileSync(direnvrc, 'source $HOME/.nix-profile/share/nix-direnv/direnvrc\n');
      const c = check(report(sb.devenv(['doctor', '--json'], {cwd: P})), 'direnv');
      rmSync(direnvrc);
      expect(c?.status).toBe('warn');
      expect(c?.detail).toMatch(/direnv with nix-direnv also manages this directory/);
      // A shell where direnv loaded a parent directory.
      rmSync(join(P, '.envrc'));
      const d = check(report(sb.devenv(['doctor', '--json'], {cwd: P, env: {DIRENV_DIR: `-${sb.dir}`}})), 'direnv');
      expect(d?.detail).toMatch(/loaded in this shell/);
    } finally {
      rmSync(join(P, '.envrc'), {force: true});
    }
  }, 60_000);

  test('a failed last evaluation fails the check and shows the error', () => {
    const b = join(sb.dir, 'broken');
    mkdirSync(b);
    writeFileSync(join(b, 'flake.nix'), '{ outputs = { self }: { devShells = 42 ; ; }; }\n');
    expect(sb.devenv(['exec', '--', 'true'], {cwd: b}).status).not.toBe(0);
    const r = sb.devenv(['doctor', '--json'], {cwd: b});
    const rep = report(r);
    expect(check(rep, 'evaluation')?.status).toBe('fail');
    expect(check(rep, 'evaluation')?.detail).toMatch(/failed/);
    expect(check(rep, 'cache')?.status).toBe('warn');
    expect(check(rep, 'trust')?.status).toBe('warn'); // never allowed
    expect(r.status).toBe(1);
  }, 60_000);

  test("a postgres port taken by another program fails; free, it passes", async () => {
    const pg = initProject(sb, 'pg', ['postgres']);
    const first = check(report(sb.devenv(['doctor', '--json'], {cwd: pg})), 'postgres');
    expect(first?.status).toBe('ok');
    const port = Number(/port (\d+)/.exec(first!.detail)?.[1]);
    expect(port).toBeGreaterThan(0);
    const srv: Server = createServer();
    await new Promise<void>((res) => srv.listen(port, '127.0.0.1', res));
    try {
      const r = await new Promise<{stdout: string; code: number | null}>((res) => {
        // Async spawn: our event loop keeps serving the port meanwhile.
        const c = spawn(process.execPath, [DEVENV, 'doctor', '--json'], {cwd: pg, env: {...sb.env, PWD: pg}});
        let stdout = '';
        c.stdout.on('data', (d) => (stdout += d));
        c.on('exit', (code) => res({stdout, code}));
      });
      const c = check(report(r), 'postgres');
      expect(c?.status).toBe('fail');
      expect(c?.detail).toContain(`port ${port}`);
      // The same words as 'devenv up' uses for a taken port.
      const {portTakenHint} = await import('../../src/services/ports.js');
      expect(c?.next).toBe(portTakenHint(port));
      expect(r.code).toBe(1);
    } finally {
      await new Promise((res) => srv.close(res));
    }
  }, 60_000);

  test('the hook counts only when this shell ran it (DEVENV_HOOK=<shell>:<its pid>)', () => {
    const run = (assign: string) => {
      // The trailing ':' keeps bash from exec-ing node, so bash stays our parent shell.
      const r = spawnSync('bash', ['-c', `${assign} ${JSON.stringify(process.execPath)} ${JSON.stringify(DEVENV)} doctor --json; :`], {cwd: sb.dir, env: {...sb.env, PWD: sb.dir}, encoding: 'utf8'});
      return check(report(r), 'hook');
    };
    expect(run('DEVENV_HOOK=bash:$$')?.status).toBe('ok');
    const inherited = run('DEVENV_HOOK=bash:$PPID');
    expect(inherited?.status).toBe('warn');
    expect(inherited?.detail).toMatch(/inherited from another bash/);
    expect(run('DEVENV_HOOK=garbage')?.status).toBe('warn');
    // The real hook sets it.
    const r = spawnSync('bash', ['-c', `eval "$(${JSON.stringify(process.execPath)} ${JSON.stringify(DEVENV)} hook bash)"; ${JSON.stringify(process.execPath)} ${JSON.stringify(DEVENV)} doctor --json; :`], {cwd: sb.dir, env: {...sb.env, PWD: sb.dir}, encoding: 'utf8'});
    expect(check(report(r), 'hook')?.status).toBe('ok');
  }, 60_000);

  test('a watcher that died without cleaning up is reported', () => {
    const dead = spawnSync(process.execPath, ['-e', '0']);
    expect(dead.status).toBe(0);
    const stateDir = join(sb.env.XDG_STATE_HOME!, 'devenv');
    writeFileSync(join(stateDir, 'watch.json'), JSON.stringify({pid: dead.pid, since: '2024-01-01T00:00:00Z'}));
    try {
      const c = check(report(sb.devenv(['doctor', '--json'], {cwd: sb.dir})), 'watcher');
      expect(c?.status).toBe('warn');
      expect(c?.detail).toContain(`pid ${dead.pid} is gone`);
    } finally {
      rmSync(join(stateDir, 'watch.json'), {force: true});
    }
  }, 60_000);
});
