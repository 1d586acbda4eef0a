// What a repository's files cannot do to the user's shell, and what devenv says when the machine
// gets in the way: names no source may set ([env], dotenv, shellHook: one list, refused with
// file:line), a dotenv value too big for any environment, ~/flake.nix that is no project for
// the hook either, full cache and state dirs, and reload telling why an evaluation failed.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawnSync} from 'node:child_process';
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {DEVENV, makeSandbox, type Sandbox} from '../helpers/env.js';
import {ShellSession, type ShellKind, shq} from '../helpers/tmux.js';

let sb: Sandbox;
beforeAll(() => {
  sb = makeSandbox('devenv-hostile-env-');
});
afterAll(() => sb.cleanup());

const project = (name: string, toml: string, files: Record<string, string> = {}): string => {
  const p = join(sb.dir, name);
  mkdirSync(p, {recursive: true});
  writeFileSync(join(p, 'devenv.toml'), `name = "${name}"\n${toml}`);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(p, f), text);
  return p;
};

describe('names no project source may set', () => {
  test('a dotenv file cannot set what [env] may not (prompt hooks, zsh specials), refused with file:line', () => {
    const p = project('dotenv-names', '[dotenv]\nfiles = [".env.dev"]\n', {'.env.dev': ''});
    for (const [line, name] of [
      ['PROMPT_COMMAND=true', 'PROMPT_COMMAND'],
      ['UID=65534', 'UID'],
      ['export precmd_functions=x', 'precmd_functions'],
      ['fish_user_paths=/tmp', 'fish_user_paths'],
    ]) {
      writeFileSync(join(p, '.env.dev'), `# mine\nOK_ONE=1\n${line}\n`);
      const r = sb.devenv(['exec', '--', 'true'], {cwd: p});
      expect([name, r.status]).toEqual([name, 1]);
      expect(r.stderr).toContain(`devenv: .env.dev:3: ${name} cannot be set from a dotenv file: `);
    }
    // The same names in [env], for comparison: one list.
    writeFileSync(join(p, '.env.dev'), 'OK_ONE=1\n');
    writeFileSync(join(p, 'devenv.toml'), 'name = "x"\n[dotenv]\nfiles = [".env.dev"]\n[env]\nprecmd_functions = "x"\n');
    expect(sb.devenv(['exec', '--', 'true'], {cwd: p}).stderr).toMatch(/devenv\.toml:5:1: env\.precmd_functions cannot be set: the shell runs it at every prompt/);
  });

  test('a dotenv value over 128 KiB is refused with file:line, not an E2BIG from every program', () => {
    const p = project('dotenv-big', '[dotenv]\nfiles = [".env"]\n', {'.env': `SMALL=1\nHUGE="${'y'.repeat(130 * 1024)}"\n`});
    const r = sb.devenv(['exec', '--', 'true'], {cwd: p});
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('devenv: .env:2: HUGE is over 128 KiB');
    expect(r.stderr).not.toMatch(/E2BIG|bug in devenv/);
    // Just under the limit still works.
    writeFileSync(join(p, '.env'), `SMALL=1\nHUGE=${'y'.repeat(100 * 1024)}\n`);
    const ok = sb.devenv(['exec', '--', 'sh', '-c', 'printf %s "${#HUGE}"'], {cwd: p});
    expect(ok.stdout).toBe(String(100 * 1024));
  });

  for (const kind of ['bash', 'zsh'] as ShellKind[]) {
    test(`${kind}: a shellHook's PROMPT_COMMAND, UID and precmd_functions are not applied, and the shell says so`, () => {
      const p = project(`hook-names-${kind}`, `[shell]\nhook = "export PROMPT_COMMAND=true UID=0 precmd_functions=x HOOK_OK=yes"\n`);
      expect(sb.devenv(['allow'], {cwd: p}).status).toBe(0);
      const sh = ShellSession.start(kind, {env: {...sb.env, LANG: 'C.UTF-8'}, dir: join(sb.dir, `session-names-${kind}`), cwd: sb.dir});
      try {
        const out = sh.run(`cd ${shq(kind, p)}`, 120_000);
        expect(out).toContain('devenv: the shellHook exported PROMPT_COMMAND; not applied');
        expect(out).toContain('devenv: the shellHook exported UID; not applied');
        expect(out).not.toMatch(/failed to change user ID|inconsistent type/);
        expect(sh.run('echo "ok=$HOOK_OK uid=$UID"')).toBe(`ok=yes uid=${process.getuid!()}`);
        // The hook is still there: leaving unloads.
        sh.run(`cd ${shq(kind, sb.dir)}`);
        expect(sh.run('echo "ok=${HOOK_OK-gone}"')).toBe('ok=gone');
      } finally {
        sh.close();
      }
    }, 180_000);
  }
});

describe('~/flake.nix without devenv.toml is no project for the hook either', () => {
  for (const kind of ['bash', 'zsh', 'fish'] as ShellKind[]) {
    test(`${kind}: no block or message in ~ and below, no node at idle prompts; a devenv.toml makes it one`, () => {
      const home = join(sb.dir, `home-${kind}`);
      mkdirSync(join(home, 'src', 'deep'), {recursive: true});
      writeFileSync(join(home, 'flake.nix'), '{ outputs = _: { }; }\n');
      const sh = ShellSession.start(kind, {env: {...sb.env, HOME: home, LANG: 'C.UTF-8'}, dir: join(sb.dir, `session-home-${kind}`), cwd: home});
      try {
        expect(sh.run(`cd ${shq(kind, join(home, 'src', 'deep'))}`)).toBe('');
        expect(sh.run(`cd ${shq(kind, home)}`)).toBe('');
        const calls = sh.nodeCalls().length;
        for (let i = 0; i < 3; i++) expect(sh.run('true')).toBe('');
        expect(sh.nodeCalls().length).toBe(calls);
        writeFileSync(join(home, 'devenv.toml'), 'name = "home"\n');
        expect(sh.run('true')).toContain('is not allowed');
      } finally {
        sh.close();
      }
    }, 120_000);
  }
});

test('full cache and state dirs: a cached environment runs, and an edited one runs uncached', () => {
  const p = project('full', '[env]\nGREETING = "hi"\n');
  expect(sb.devenv(['exec', '--', 'true'], {cwd: p}).status).toBe(0);
  // Each dir becomes a full tmpfs holding its old content, in a private mount namespace
  // entered as root of a user namespace, then back as this user (as test/helpers/teammate.ts).
  const uid = String(process.getuid!());
  const gid = String(process.getgid!());
  const dirs = [sb.env.XDG_CACHE_HOME!, sb.env.XDG_STATE_HOME!];
  const fill = dirs
    .map((d, i) => `cp -a ${d}/. "$T/${i}/" && mount -t tmpfs -o size=2m tmpfs ${d} && cp -a "$T/${i}/." ${d}/ && { dd if=/dev/zero of=${d}/fill bs=4k 2>/dev/null; true; }`)
    .join(' && ');
  const run = (cmd: string) =>
    spawnSync('unshare', ['-Urm', 'sh', '-c', `T=$(mktemp -d) && mkdir "$T/0" "$T/1" && ${fill} && exec unshare -U --map-user=${uid} --map-group=${gid} -- sh -c "$0"`, cmd], {
      cwd: p,
      env: {...sb.env, PWD: p},
      encoding: 'utf8',
      timeout: 180_000,
    });
  const node = `${shq('bash', process.execPath)} ${shq('bash', DEVENV)}`;
  const cached = run(`${node} exec -- sh -c 'echo "$GREETING"'`);
  expect([cached.stdout, cached.status]).toEqual(['hi\n', 0]);
  // An edit: the command still runs, with the edit ([env] is applied by devenv itself). Nix 2.8
  // evaluates it (devenv says nothing was cached); newer Nix keeps its own fetcher cache in the
  // same full dir and fails, so devenv runs on the last good environment and says why.
  writeFileSync(join(p, 'devenv.toml'), 'name = "full"\n[env]\nGREETING = "hello"\n');
  const edited = run(`${node} exec -- sh -c 'echo "$GREETING"'`);
  expect([edited.stdout, edited.status]).toEqual(['hello\n', 0]);
  expect(edited.stderr).toMatch(/no space left \(the environment is not cached\)|evaluation failed; using the last good environment/);
  expect(edited.stderr).not.toMatch(/ENOSPC: no space left on device, write|bug in devenv/);
});

test('reload after a failed evaluation says why, every time, as status does', () => {
  const p = project('reload-why', 'packages = ["hello"]\n');
  expect(sb.devenv(['reload'], {cwd: p}).status).toBe(0);
  writeFileSync(join(p, 'flake.nix'), `${'{'} inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05"; outputs = { self, nixpkgs }: { devShells.x86_64-linux.default = nixpkgs.legacyPackages.x86_64-linux.mkShell { packages = [ nixpkgs.legacyPackages.x86_64-linux.noSuchPackageHere ]; }; }; }\n`);
  for (const attempt of ['first', 'second']) {
    const r = sb.devenv(['reload'], {cwd: p});
    expect([attempt, r.stdout]).toEqual([attempt, expect.stringContaining('failed; still using the last good environment')]);
    expect([attempt, r.stdout + r.stderr]).toEqual([attempt, expect.stringContaining("attribute 'noSuchPackageHere' missing")]);
  }
  expect(sb.devenv(['status'], {cwd: p}).stdout).toContain("attribute 'noSuchPackageHere' missing");
});
