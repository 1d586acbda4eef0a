// Trust decisions on real files in temp dirs (no nix needed).
import {afterAll, beforeEach, describe, expect, test} from '@jest/globals';
import {spawnSync} from 'node:child_process';
import {cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {allow, checkTrust, deny} from '../../src/trust/trust.js';
import {allowPrefix} from '../../src/usecases/allow.js';
import {knownProject} from '../../src/project/project.js';

const base = realpathSync(mkdtempSync(join(tmpdir(), 'devenv-trust-')));
afterAll(() => rmSync(base, {recursive: true, force: true}));
let n = 0;
beforeEach(() => {
  const home = join(base, `home${n++}`);
  process.env.XDG_DATA_HOME = join(home, 'data');
  process.env.XDG_CONFIG_HOME = join(home, 'config');
  process.env.XDG_STATE_HOME = join(home, 'state');
});

function project(name: string): string {
  const p = join(base, name);
  mkdirSync(p, {recursive: true});
  writeFileSync(join(p, 'devenv.toml'), 'name = "x"\n');
  writeFileSync(join(p, 'flake.nix'), '{ outputs = _: {}; }\n');
  return p;
}

describe('trust', () => {
  test('unknown until allowed; any edit blocks again', () => {
    const p = project('a');
    expect(checkTrust(knownProject(p))).toMatchObject({state: 'unknown', trusted: false});
    allow(knownProject(p));
    expect(checkTrust(knownProject(p))).toMatchObject({state: 'allowed', trusted: true});
    writeFileSync(join(p, 'flake.nix'), '{ outputs = _: { x = 1; }; }\n');
    expect(checkTrust(knownProject(p))).toMatchObject({state: 'changed', trusted: false});
  });

  test('a new flake.lock or another local .nix file counts as an edit', () => {
    const p = project('b');
    allow(knownProject(p));
    writeFileSync(join(p, 'flake.lock'), '{}');
    expect(checkTrust(knownProject(p)).trusted).toBe(false);
    allow(knownProject(p));
    mkdirSync(join(p, 'nix'));
    writeFileSync(join(p, 'nix', 'shell.nix'), '{}');
    expect(checkTrust(knownProject(p)).trusted).toBe(false);
  });

  test('a copy at another path is untrusted', () => {
    const p = project('c');
    allow(knownProject(p));
    const copy = join(base, 'c-copy');
    cpSync(p, copy, {recursive: true});
    expect(checkTrust(knownProject(copy)).trusted).toBe(false);
  });

  test('deny wins over allow and is undone by allow', () => {
    const p = project('d');
    allow(knownProject(p));
    deny(knownProject(p));
    expect(checkTrust(knownProject(p)).state).toBe('denied');
    allow(knownProject(p));
    expect(checkTrust(knownProject(p)).state).toBe('allowed');
  });

  test('prefixes trust whatever the content, only below the prefix', () => {
    const p = project('tree/e');
    const sibling = project('treehouse/f');
    allowPrefix(join(base, 'tree'));
    expect(checkTrust(knownProject(p)).state).toBe('prefix');
    writeFileSync(join(p, 'flake.nix'), 'changed');
    expect(checkTrust(knownProject(p)).state).toBe('prefix');
    expect(checkTrust(knownProject(sibling)).trusted).toBe(false);
  });

  test('a git worktree with identical files is trusted; a clone is not', () => {
    const p = project('repo');
    const git = (cwd: string, ...a: string[]) => spawnSync('git', a, {cwd, encoding: 'utf8', env: {...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t'}});
    git(p, 'init', '-q');
    git(p, 'add', '-A');
    git(p, 'commit', '-qm', 'x');
    allow(knownProject(p));
    const wt = join(base, 'repo-wt');
    expect(git(p, 'worktree', 'add', '-q', wt).status).toBe(0);
    expect(checkTrust(knownProject(wt)).state).toBe('worktree');
    writeFileSync(join(wt, 'devenv.toml'), 'name = "y"\n');
    // An edited worktree of an allowed repository is 'changed', like the checkout itself would be.
    expect(checkTrust(knownProject(wt))).toMatchObject({state: 'changed', trusted: false});
    const clone = join(base, 'repo-clone');
    git(base, 'clone', '-q', p, clone);
    expect(checkTrust(knownProject(clone))).toMatchObject({state: 'unknown', trusted: false});
  });
});

test('a project entered through a symlink is the same project', () => {
  const p = project('real-dir');
  const link = join(base, 'link-dir');
  symlinkSync(p, link);
  allow(knownProject(p));
  expect(checkTrust(knownProject(link)).state).toBe('allowed');
  const q = project('real-2');
  const link2 = join(base, 'link-2');
  symlinkSync(q, link2);
  allow(knownProject(link2)); // allowed through the link
  expect(checkTrust(knownProject(q)).state).toBe('allowed');
  deny(knownProject(link2));
  expect(checkTrust(knownProject(q)).state).toBe('denied');
  expect(checkTrust(knownProject(link2)).state).toBe('denied');
});
