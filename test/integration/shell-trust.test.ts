// Trust through a real interactive bash: init allows (and the next prompt loads), deny unloads at the next prompt, allow
// --prefix trusts by path, a git worktree of an allowed checkout is trusted and a clone is not,
// explicit `devenv exec` needs no allow, and devenv's own files are private (0700/0600).
// One evaluation for the whole file: every other project has the same content.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawnSync} from 'node:child_process';
import {appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {makeSandbox, nixSpy, type Sandbox} from '../helpers/env.js';
import {comparableEnv, ShellSession} from '../helpers/tmux.js';

const EVAL_TIMEOUT = 240_000;
const HINT = "run 'devenv allow' to trust what nix reads of it";
const GIT_ENV = {GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t', GIT_CONFIG_NOSYSTEM: '1'};

let sb: Sandbox;
let spy: ReturnType<typeof nixSpy>;
let sh: ShellSession;
let proj: string;
let outside: Record<string, string>;

const loading = (root: string) => `devenv: loading ${root} (python3 3.11)`;
const cd = (dir: string, timeout?: number) => sh.run(`cd '${dir}'`, timeout);
const evals = () => spy.calls().filter((c) => c.includes('print-dev-env')).length;
const git = (cwd: string, ...args: string[]) => {
  const r = spawnSync('git', args, {cwd, encoding: 'utf8', env: {...process.env, ...GIT_ENV}});
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const sameContentProject = (dir: string) => {
  mkdirSync(dir, {recursive: true});
  // Every file nix copies: the content is what keys the cache.
  for (const f of ['devenv.toml', 'flake.nix', '.gitignore']) cpSync(join(proj, f), join(dir, f));
};
const mode = (p: string) => statSync(p).mode & 0o777;

beforeAll(() => {
  sb = makeSandbox('devenv-trust-');
  spy = nixSpy(sb);
  proj = join(sb.dir, 'proj');
  mkdirSync(proj);
  sh = ShellSession.start('bash', {env: {...sb.env, ...spy.env, ...GIT_ENV, LANG: 'C.UTF-8'}, dir: join(sb.dir, 'session'), cwd: sb.dir});
  outside = sh.env();
}, 60_000);
afterAll(() => {
  sh?.close();
  sb?.cleanup();
});

describe('trust through the bash hook', () => {
  test('devenv init in the current directory loads at the next prompt, no allow needed', () => {
    expect(cd(proj)).toBe('');
    // Python without the python template's venv (its setup is not what this file is about), by
    // devenv's own edit: still no allow needed.
    const out = sh.run('devenv init minimal && devenv add python311', EVAL_TIMEOUT).split('\n');
    expect(out[0]).toMatch(/^devenv: created devenv\.toml, flake\.nix/);
    expect(out).toContain(loading(proj));
    expect(evals()).toBe(1);
    expect(cd(sb.dir)).toBe('devenv: unloading');
    expect(cd(proj)).toBe(loading(proj));
  }, EVAL_TIMEOUT);

  test('deny inside the project unloads at the next prompt and removes its activation scripts', () => {
    const scripts = join(sb.env.XDG_STATE_HOME!, 'devenv', 'roots', proj, '@devenv@');
    expect(readdirSync(scripts).filter((f) => f.startsWith('activate.')).sort()).toEqual(['activate.bash', 'activate.fish', 'activate.zsh']);
    const out = sh.run('devenv deny').split('\n');
    expect(out).toEqual([`devenv: denied ${proj}`, 'devenv: unloading', `devenv: ${proj} is denied; ${HINT}`]);
    expect(readdirSync(scripts).filter((f) => f.startsWith('activate.'))).toEqual([]);
    expect(comparableEnv(sh.env())).toEqual(comparableEnv(outside));
    expect(sh.run('true')).toBe('');
    expect(sh.run('devenv allow').split('\n')).toEqual([`devenv: allowed ${proj}`, loading(proj)]);
    expect(evals()).toBe(1);
    expect(cd(sb.dir)).toBe('devenv: unloading');
  });

  test('allowed --json lists the project and its state', () => {
    const r = sb.devenv(['allowed', '--json']);
    expect(r.status).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.projects).toEqual([expect.objectContaining({root: proj, current: 'allowed'})]);
    expect(res.prefixes).toEqual([]);
  });

  test('allow --prefix trusts every project below it (and not a sibling that merely shares the name)', () => {
    const mine = join(sb.dir, 'mine');
    const tool = join(mine, 'tool');
    const other = join(sb.dir, 'mine-other', 'tool');
    sameContentProject(tool);
    sameContentProject(other);
    expect(cd(tool)).toBe(`devenv: ${tool} is not allowed; ${HINT}`);
    const out = sh.run(`devenv allow --prefix '${mine}'`).split('\n');
    expect(out).toEqual([`devenv: trusting every project under ${mine}`, loading(tool)]);
    expect(cd(other)).toBe(['devenv: unloading', `devenv: ${other} is not allowed; ${HINT}`].join('\n'));
    const res = JSON.parse(sb.devenv(['allowed', '--json']).stdout);
    expect(res.prefixes).toEqual([mine]);
    expect(cd(sb.dir)).toBe('');
    expect(evals()).toBe(1);
  });

  test('a git worktree of an allowed checkout is trusted; a clone is not; an edit in the worktree blocks it', () => {
    git(proj, 'init', '-q', '-b', 'main');
    git(proj, 'add', '-A');
    git(proj, 'commit', '-qm', 'init');
    const wt = join(sb.dir, 'proj-wt');
    const clone = join(sb.dir, 'proj-clone');
    git(proj, 'worktree', 'add', '-q', wt);
    git(sb.dir, 'clone', '-q', proj, clone);
    expect(cd(wt)).toBe(loading(wt));
    expect(cd(clone)).toBe(['devenv: unloading', `devenv: ${clone} is not allowed; ${HINT}`].join('\n'));
    expect(cd(wt)).toBe(loading(wt));
    appendFileSync(join(wt, 'devenv.toml'), '\n# edited in the worktree\n');
    // Edited, the worktree of an allowed repository is 'changed', as the checkout would be.
    expect(sh.run('true')).toBe(['devenv: unloading', `devenv: ${wt} changed since it was allowed (devenv.toml); run 'devenv allow' to trust the new content`].join('\n'));
    expect(JSON.parse(sb.devenv(['status', '--json'], {cwd: wt}).stdout).trust).toBe('changed');
    expect(cd(sb.dir)).toBe('');
    expect(evals()).toBe(1);
  });

  test('explicit devenv exec needs no allow', () => {
    const clone = join(sb.dir, 'proj-clone');
    const r = sb.devenv(['exec', '--', 'python3', '--version'], {cwd: clone, env: spy.env});
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Python 3\.11/);
  });

  test("devenv's own files are private: dirs 0700, trust records and scripts 0600", () => {
    const state = join(sb.env.XDG_STATE_HOME!, 'devenv');
    const trust = join(sb.env.XDG_DATA_HOME!, 'devenv', 'trust');
    expect(mode(state)).toBe(0o700);
    expect(mode(trust)).toBe(0o700);
    expect(mode(join(trust, 'allow'))).toBe(0o700);
    for (const f of readdirSync(join(trust, 'allow'))) expect([f, mode(join(trust, 'allow', f))]).toEqual([f, 0o600]);
    const scripts = join(state, 'roots', proj, '@devenv@');
    expect(mode(scripts)).toBe(0o700);
    for (const s of ['bash', 'zsh', 'fish']) expect(mode(join(scripts, `activate.${s}`))).toBe(0o600);
    // Nothing of devenv's lands in the project but what the user asked for.
    expect(existsSync(join(proj, '.devenv', 'activate.bash'))).toBe(false);
  });
});
