// The shell protocol as a user meets it, in real interactive bash, zsh and fish (tmux):
// a shellHook that edits PATH-likes, [env] names the environment legitimately carries, a
// second checkout with its own hook values, stdenv functions in the hook, errors that show
// (once per distinct error) in every shell, a killed nix that is retried, read-only XDG
// dirs, content restored with an older mtime, gc of entries the fast path uses, and stamp
// directories planted by someone else.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawnSync} from 'node:child_process';
import {chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {makeSandbox, type Sandbox} from '../helpers/env.js';
import {lines} from '../helpers/shell-suite.js';
import {comparableEnv, ShellSession, type ShellKind, shq, waitUntil} from '../helpers/tmux.js';

const EVAL = 240_000;
const KINDS: ShellKind[] = ['bash', 'zsh', 'fish'];

let sb: Sandbox;
let nixLog: string;
let killMarker: string;
let env: NodeJS.ProcessEnv;
beforeAll(() => {
  sb = makeSandbox('devenv-proto-');
  // A nix wrapper that logs, and kills itself (SIGKILL) once when armed.
  const bin = join(sb.dir, 'bin');
  mkdirSync(bin);
  nixLog = join(sb.dir, 'nix.log');
  killMarker = join(sb.dir, 'killed-once');
  const real = spawnSync('bash', ['-c', 'command -v nix'], {encoding: 'utf8', env: sb.env}).stdout.trim();
  writeFileSync(
    join(bin, 'nix'),
    `#!/bin/sh\necho "$*" >> '${nixLog}'\ncase "$*" in *print-dev-env*) if [ -e '${killMarker}.armed' ]; then rm -f '${killMarker}.armed'; : > '${killMarker}'; kill -9 $$; fi ;; esac\nexec '${real}' "$@"\n`,
    {mode: 0o755},
  );
  writeFileSync(nixLog, '');
  env = {...sb.env, PATH: `${bin}:${sb.env.PATH}`, LANG: 'C.UTF-8', TZ: 'UTC'};
  delete env.DISPLAY;
  delete env.SSL_CERT_FILE;
  delete env.TMPDIR;
});
afterAll(() => sb.cleanup());

/** Command output lines without the progress line of an evaluation shown on a terminal. */
const shown = (out: string) => lines(out).filter((l) => !/^devenv: evaluating /.test(l));
const evals = () => readFileSync(nixLog, 'utf8').split('\n').filter((l) => l.includes('print-dev-env')).length;

/** A project whose shellHook edits PATH and XDG_DATA_DIRS, sets a per-checkout path and prints. */
function hookedToml(extra = ''): string {
  return [
    'name = "hooked"',
    '[languages.python]',
    'version = "3.11"',
    '[env]',
    'TZ = "Pacific/Chatham"',
    'LANG = "POSIX"',
    'TMPDIR = "/var/tmp/hooked-tmp"',
    'SSL_CERT_FILE = "/etc/ssl/hooked.pem"',
    'DISPLAY = ":42"',
    extra,
    '[shell]',
    "hook = '''",
    'mkdir -p "$PWD/tools"',
    'export PATH="$PWD/tools:$PATH"',
    'export XDG_DATA_DIRS="${XDG_DATA_DIRS:+$XDG_DATA_DIRS:}$PWD/share"',
    'export CHECKOUT_VENV="$PWD/.venv"',
    'echo "hooked: ready in $PWD"',
    "'''",
    '',
  ].join('\n');
}

function project(name: string, toml: string, allow = true): string {
  const p = join(sb.dir, 'work', name);
  mkdirSync(p, {recursive: true});
  writeFileSync(join(p, 'devenv.toml'), toml);
  if (allow) expect(sb.devenv(['allow'], {cwd: p}).status).toBe(0);
  return p;
}

const tilde = (p: string) => p;

/** Back to the hooked project's own content, allowed. */
function resetHooked(app: string): void {
  writeFileSync(join(app, 'devenv.toml'), hookedToml());
  expect(sb.devenv(['allow'], {cwd: app}).status).toBe(0);
}
const loading = (root: string) => `devenv: loading ${tilde(root)} (python3 3.11)`;

for (const kind of KINDS) {
  describe(`${kind}: the protocol in a real shell`, () => {
    let sh: ShellSession;
    let work: string;
    let outside: Record<string, string>;
    const cd = (dir: string, t?: number) => sh.run(`cd ${shq(kind, dir)}`, t);
    const exportLine = (k: string, v: string) => (kind === 'fish' ? `set -gx ${k} ${v}` : `export ${k}=${v}`);

    beforeAll(() => {
      work = join(sb.dir, 'work');
      mkdirSync(work, {recursive: true});
      sh = ShellSession.start(kind, {env, dir: join(sb.dir, `s-${kind}`), cwd: work});
      outside = sh.env();
    }, 60_000);
    afterAll(() => sh?.close());

    test('a shellHook that prepends to PATH: loads, prints, and leaving gives back PATH exactly (ls still works)', () => {
      const app = project(`hooked-${kind}-p`, hookedToml());
      const out = shown(cd(app, EVAL));
      expect(out).toEqual([loading(app), `hooked: ready in ${app}`]);
      const inside = sh.env();
      const path = inside.PATH.split(':');
      expect(path[0]).toBe(join(app, 'tools'));
      expect(path[1]).toMatch(/^\/nix\/store\/[0-9a-z]{32}-python3-3\.11\/bin$/);
      expect(path.slice(2).join(':')).toBe(outside.PATH);
      expect(inside.XDG_DATA_DIRS.endsWith(`:${join(app, 'share')}`) || inside.XDG_DATA_DIRS === join(app, 'share')).toBe(true);
      expect(inside.CHECKOUT_VENV).toBe(join(app, '.venv'));
      // [env] names the environment carries, applied exactly; HOME and SHELL never touched.
      expect([inside.TZ, inside.LANG, inside.TMPDIR, inside.SSL_CERT_FILE, inside.DISPLAY]).toEqual(['Pacific/Chatham', 'POSIX', '/var/tmp/hooked-tmp', '/etc/ssl/hooked.pem', ':42']);
      expect([inside.HOME, inside.SHELL]).toEqual([outside.HOME, outside.SHELL]);
      expect(cd(work)).toBe('devenv: unloading');
      expect(comparableEnv(sh.env())).toEqual(comparableEnv(outside));
      expect(sh.run('command -v ls')).toMatch(/\/ls$/);
      // PATH entries the user adds inside survive; devenv's and the hook's go.
      cd(app);
      sh.run(kind === 'fish' ? 'set -gx PATH /opt/mine $PATH; set -gx TZ Europe/Oslo' : 'export PATH="/opt/mine:$PATH" TZ=Europe/Oslo');
      expect(cd(work)).toBe('devenv: unloading');
      const after = sh.env();
      expect(after.PATH).toBe(`/opt/mine:${outside.PATH}`);
      // A variable the user changed inside keeps the user's value.
      expect(after.TZ).toBe('Europe/Oslo');
      sh.run(kind === 'fish' ? `set -gx PATH (string split : -- ${shq(kind, outside.PATH)}); set -gx TZ UTC` : `export PATH=${shq(kind, outside.PATH)} TZ=UTC`);
      expect(comparableEnv(sh.env())).toEqual(comparableEnv(outside));
    }, EVAL);

    test('a second checkout gets its own shellHook values, in the shell, in exec and in export', () => {
      const app = join(work, `hooked-${kind}-p`);
      const clone = join(sb.dir, 'clones', `hooked-${kind}-p`);
      mkdirSync(clone, {recursive: true});
      for (const f of ['devenv.toml', 'flake.nix', 'flake.lock']) if (existsSync(join(app, f))) cpSync(join(app, f), join(clone, f));
      expect(sb.devenv(['allow'], {cwd: clone}).status).toBe(0);
      const n = evals();
      expect(shown(cd(clone))).toEqual([loading(clone), `hooked: ready in ${clone}`]);
      expect(evals()).toBe(n); // same content: the cached environment, the hook's values of its own
      const inside = sh.env();
      expect(inside.CHECKOUT_VENV).toBe(join(clone, '.venv'));
      expect(inside.PATH.split(':')[0]).toBe(join(clone, 'tools'));
      expect(sh.run('devenv exec -- printenv CHECKOUT_VENV')).toBe(join(clone, '.venv'));
      expect(sh.run(`devenv exec -- sh -c 'echo "$PATH"' | cut -d: -f1`)).toBe(join(clone, 'tools'));
      expect(JSON.parse(sb.devenv(['export', 'json'], {cwd: app}).stdout).CHECKOUT_VENV).toBe(join(app, '.venv'));
      expect(cd(work)).toBe('devenv: unloading');
      expect(comparableEnv(sh.env())).toEqual(comparableEnv(outside));
    }, EVAL);

    test('stdenv functions from print-dev-env (addToSearchPath, runHook) work in the shellHook', () => {
      const p = join(work, `stdenv-${kind}-p`);
      mkdirSync(join(p, 'fake-stdenv'), {recursive: true});
      mkdirSync(join(p, 'lib'));
      writeFileSync(
        join(p, 'fake-stdenv', 'setup'),
        ['addToSearchPath() { if [ -d "$2" ]; then export "${1}=${!1:+${!1}:}${2}"; fi; }', 'runHook() { local h="$1"; eval "${!h-}"; }', ''].join('\n'),
      );
      writeFileSync(
        join(p, 'flake.nix'),
        `{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";
  outputs = { self, nixpkgs }: let pkgs = nixpkgs.legacyPackages.x86_64-linux; in {
    devShells.x86_64-linux.default = pkgs.mkShell {
      packages = [ pkgs.python311 ];
      stdenv = ./fake-stdenv;
      myStartHook = "export RAN_START_HOOK=${kind}";
      shellHook = ''
        addToSearchPath LIB_SEARCH "$PWD/lib"
        runHook myStartHook
      '';
    };
  };
}
`,
      );
      // A hand-written flake that reads a non-.nix file declares it (only inputs reach nix).
      writeFileSync(join(p, 'devenv.toml'), '[project]\ninputs = ["fake-stdenv/setup"]\n');
      expect(sb.devenv(['allow'], {cwd: p}).status).toBe(0);
      expect(shown(cd(p, EVAL))).toEqual([loading(p)]);
      const inside = sh.env();
      expect([inside.LIB_SEARCH, inside.RAN_START_HOOK]).toEqual([join(p, 'lib'), kind]);
      expect(sh.run('devenv exec -- printenv LIB_SEARCH')).toBe(join(p, 'lib'));
      expect(cd(work)).toBe('devenv: unloading');
    }, EVAL);

    test('evaluation errors show in the shell, once each, a different later error too; the last good env stays', () => {
      const app = join(work, `hooked-${kind}-p`);
      expect(shown(cd(app))).toEqual([loading(app), `hooked: ready in ${app}`]);
      const broken = (pkg: string) => hookedToml().replace('name = "hooked"', `name = "hooked"\npackages = ["${pkg}"]`);
      const breakWith = (pkg: string) => {
        writeFileSync(join(app, 'devenv.toml'), broken(pkg));
        sh.run('devenv allow');
      };
      const waitFor = (re: RegExp) => waitUntil(() => (sh.run('true'), re.test(sh.pane())), 120_000, String(re), () => sh.debug());
      breakWith('noSuchPackageOne');
      waitFor(/hooked-[\w-]+ failed to evaluate; using the last good environment[^\n]*\n(.*\n){0,4}.*noSuchPackageOne/);
      expect(sh.env().CHECKOUT_VENV).toBe(join(app, '.venv'));
      // Once: idle prompts do not repeat it.
      const times = (sh.pane().match(/noSuchPackageOne/g) ?? []).length;
      sh.run('true');
      sh.run('true');
      expect((sh.pane().match(/noSuchPackageOne/g) ?? []).length).toBe(times);
      // A different error later is shown too, in the shell and by exec.
      breakWith('noSuchPackageTwo');
      waitFor(/failed to evaluate; using the last good environment[^\n]*\n(.*\n){0,4}.*noSuchPackageTwo/);
      writeFileSync(join(app, 'devenv.toml'), broken('noSuchPackageThree'));
      sb.devenv(['allow'], {cwd: app});
      const ex = sb.devenv(['exec', '--', 'true'], {cwd: app});
      expect(ex.stderr).toMatch(/noSuchPackageThree/);
      expect(cd(work)).toBe('devenv: unloading');
      resetHooked(app);
      expect(shown(cd(app))).toEqual([loading(app), `hooked: ready in ${app}`]);
      expect(cd(work)).toBe('devenv: unloading');
    }, EVAL);

    test('a nix killed by a signal is reported as such and retried at the next prompt, never cached as an error', () => {
      rmSync(killMarker, {force: true});
      const p = project(`flaky-${kind}-p`, hookedToml(`FLAKY = "${kind}"`));
      writeFileSync(`${killMarker}.armed`, '');
      const out = cd(p, EVAL);
      expect(out).toMatch(/nix print-dev-env was killed by SIGKILL/);
      expect(out).not.toMatch(/warning|lock file/i);
      expect(existsSync(killMarker)).toBe(true);
      // The next prompt retries (nothing to change first), and this time it loads. (zsh's
      // precmd is that next prompt already: chpwd ran the first attempt during the cd.)
      const retried = shown(`${out}\n${sh.run('true', EVAL)}`).filter((l) => !/killed by SIGKILL|hint:/.test(l));
      expect(retried).toEqual([loading(p), `hooked: ready in ${p}`]);
      expect(sh.env().FLAKY).toBe(kind);
      expect(cd(work)).toBe('devenv: unloading');
    }, EVAL);

    test('content restored with an older mtime (tar) is noticed at the next prompt', () => {
      const app = join(work, `hooked-${kind}-p`);
      resetHooked(app);
      const stash = join(sb.dir, `stash-${kind}`);
      mkdirSync(stash, {recursive: true});
      expect(shown(cd(app, EVAL))).toEqual([loading(app), `hooked: ready in ${app}`]);
      spawnSync('tar', ['-C', app, '-cf', join(stash, 'a.tar'), 'devenv.toml', 'flake.nix'], {env});
      // Content B, allowed and evaluated (the files are newer now).
      writeFileSync(join(app, 'devenv.toml'), hookedToml('RESTORE_MARK = "B"'));
      sh.run('devenv allow', EVAL);
      waitUntil(() => sh.env().RESTORE_MARK === 'B', 120_000, 'content B loaded', () => sh.debug());
      // Back to A with A's old mtimes: older than what the shell last saw.
      const calls = sh.nodeCalls().length;
      spawnSync('tar', ['-C', app, '-xf', join(stash, 'a.tar')], {env});
      expect(shown(sh.run('true'))).toContain(loading(app));
      expect(sh.nodeCalls().length).toBe(calls + 1);
      expect(sh.env().RESTORE_MARK).toBeUndefined();
      expect(JSON.parse(sb.devenv(['status', '--json'], {cwd: app}).stdout).cache.state).toBe('fresh');
      expect(cd(work)).toBe('devenv: unloading');
    }, EVAL);

    test('entering through the fast path marks the cache entry used: gc keeps an environment used daily', () => {
      const app = join(work, `hooked-${kind}-p`);
      resetHooked(app);
      const entries = join(sb.env.XDG_CACHE_HOME!, 'devenv', 'entries');
      const old = new Date(Date.now() - 40 * 86400e3);
      for (const f of readdirSync(entries)) utimesSync(join(entries, f), old, old);
      const used = join(sb.env.XDG_STATE_HOME!, 'devenv', 'used');
      cd(app, EVAL);
      cd(work);
      // Everything last used 40 days ago, as far as devenv can tell.
      for (const d of [entries, used]) for (const f of readdirSync(d)) utimesSync(join(d, f), old, old);
      const calls = sh.nodeCalls().length;
      expect(shown(cd(app))).toEqual([loading(app), `hooked: ready in ${app}`]);
      expect(sh.nodeCalls().length).toBe(calls); // no process: the shell's own write
      const key = JSON.parse(sb.devenv(['status', '--json'], {cwd: app}).stdout).cache.key as string;
      const gc = JSON.parse(sb.devenv(['gc', '--dry-run', '--json'], {cwd: work}).stdout);
      const removed = gc.removed.map((r: {key: string}) => r.key);
      expect(removed.length).toBeGreaterThan(0); // others really are old
      expect(removed).not.toContain(key);
      expect(cd(work)).toBe('devenv: unloading');
    });

    test('read-only cache and state dirs: one clear line, a working environment, no stack trace, no .tmp files', () => {
      const app = join(work, `hooked-${kind}-p`);
      resetHooked(app);
      const dirs = [sb.env.XDG_CACHE_HOME!, sb.env.XDG_STATE_HOME!];
      const setMode = (m: number) => {
        const walk = (d: string) => {
          for (const e of readdirSync(d, {withFileTypes: true})) if (e.isDirectory()) walk(join(d, e.name));
          chmodSync(d, m);
        };
        for (const d of dirs) walk(d);
      };
      // Same content, newer mtime: the hook must ask node, which cannot write anything now.
      utimesSync(join(app, 'devenv.toml'), new Date(), new Date());
      setMode(0o500);
      try {
        const out = shown(cd(app, EVAL));
        expect(out.filter((l) => /cannot write|read-only|permission denied/.test(l))).toHaveLength(1);
        expect(out).toContain(loading(app));
        expect(sh.run('python3 -c "print(6*7)"')).toBe('42');
        const ex = sb.devenv(['exec', '--', 'python3', '-c', 'print(7*6)'], {cwd: app});
        expect([ex.status, ex.stdout.trim(), ex.stderr]).toEqual([0, '42', '']);
        expect(ex.stderr).not.toMatch(/at .*\.js:\d+|unexpected error/);
        expect(cd(work)).toBe('devenv: unloading');
        expect(sh.pane()).not.toMatch(/unexpected error|\s+at [\w.<>]+ \(/);
      } finally {
        setMode(0o700);
      }
      const litter = spawnSync('find', [...dirs, '-name', '*.tmp*'], {encoding: 'utf8'}).stdout.trim();
      expect(litter).toBe('');
    }, EVAL);

    test('no shell error was printed along the way', () => {
      expect(sh.pane()).not.toMatch(/unbound variable|parameter not set|bad substitution|command not found|Unknown command|syntax error|fish: /);
    });
  });
}

describe('stamp directories another user could plant', () => {
  const uid = process.getuid!();
  for (const [kind, layout] of [
    ['bash', 'devenv is a symlink to a directory of the victim'],
    ['zsh', 'devenv/shell is a symlink to the victim file'],
    ['fish', 'devenv/shell is a group-writable directory we own (tightened to 0700)'],
    ['bash', 'no XDG_RUNTIME_DIR and a planted $TMPDIR/devenv-<uid>'],
  ] as [ShellKind, string][]) {
    test(`${kind}: ${layout}`, () => {
      const base = join(sb.dir, `plant-${kind}-${layout.length}`);
      const run = join(base, 'run');
      const victim = join(base, 'victim');
      mkdirSync(run, {recursive: true, mode: 0o700});
      mkdirSync(join(victim, 'shell'), {recursive: true});
      writeFileSync(join(victim, 'precious'), 'keep me');
      const e: NodeJS.ProcessEnv = {...env, XDG_RUNTIME_DIR: run};
      if (layout.startsWith('devenv is')) symlinkSync(victim, join(run, 'devenv'));
      else if (layout.startsWith('devenv/shell is a symlink')) {
        mkdirSync(join(run, 'devenv'));
        symlinkSync(join(victim, 'precious'), join(run, 'devenv', 'shell'));
      } else if (layout.startsWith('devenv/shell is a group')) {
        mkdirSync(join(run, 'devenv', 'shell'), {recursive: true});
        chmodSync(join(run, 'devenv', 'shell'), 0o777);
      } else {
        delete e.XDG_RUNTIME_DIR;
        e.TMPDIR = base;
        symlinkSync(victim, join(base, `devenv-${uid}`));
      }
      const app = project(`planted-${kind}-${layout.length}`, hookedToml());
      const sh = ShellSession.start(kind, {env: e, dir: join(base, 'session'), cwd: join(sb.dir, 'work')});
      try {
        const out = shown(sh.run(`cd ${shq(kind, app)}`, EVAL)).filter((l) => !l.startsWith('hooked: '));
        expect(out).toContain(loading(app));
        expect(sh.env().DEVENV_ROOT).toBe(app);
        // Nothing of the victim's was written or created.
        expect(readFileSync(join(victim, 'precious'), 'utf8')).toBe('keep me');
        expect(readdirSync(join(victim, 'shell'))).toEqual([]);
        expect(readdirSync(victim).sort()).toEqual(['precious', 'shell']);
        if (layout.includes('symlink')) expect(sh.pane()).toMatch(/devenv: refusing to use .*symlink/);
        if (layout.startsWith('devenv/shell is a group')) {
          expect(statSync(join(run, 'devenv', 'shell')).mode & 0o777).toBe(0o700);
          expect(readdirSync(join(run, 'devenv', 'shell')).some((f) => f.startsWith('stamp.'))).toBe(true);
        }
        // The stamps went to a private directory of our own.
        const stamps = [join(run, 'devenv', 'shell'), join(sb.env.XDG_STATE_HOME!, 'devenv', 'shell')].filter((d) => existsSync(d) && statSync(d).isDirectory() && !statSync(d).isSymbolicLink());
        expect(stamps.some((d) => (statSync(d).mode & 0o777) === 0o700 && readdirSync(d).some((f) => f.startsWith('stamp.')))).toBe(true);
      } finally {
        sh.close();
      }
    }, EVAL);
  }
});
