// Rendering of the login service (systemd user unit, launchd plist) and the watcher's pure
// helpers. The rendered files are checked by the real parsers where the machine has them.
import {afterAll, describe, expect, test} from '@jest/globals';
import {spawnSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {renderLaunchdPlist, renderSystemdUnit, serviceEnv, systemdQuote, xmlEscape} from '../../src/watch/service.js';
import {evaluatedUnder, relevantFile, skippedDir, watchDirs} from '../../src/watch/projects.js';
import {updateProjectState} from '../../src/cache/project-state.js';
import {parseNixVersion} from '../../src/usecases/doctor.js';
import {summarizeNixError} from '../../src/nix/nix-error.js';

const base = realpathSync(mkdtempSync(join(tmpdir(), 'devenv-watch-unit-')));
afterAll(() => rmSync(base, {recursive: true, force: true}));

const nasty = `/tmp/a b/%h$HOME"q'<&>\\x`;
const spec = {
  node: process.execPath,
  bin: '/opt/devenv/bin/run.js',
  args: ['/src/app', nasty],
  env: {PATH: '/nix/var/nix/profiles/default/bin:/usr/bin', NIX_CONFIG: 'substituters =\nexperimental-features = nix-command flakes', DEVENV_NIXPKGS: 'path:/x%y'},
};

describe('systemd unit', () => {
  const unit = renderSystemdUnit(spec);

  test('runs node on bin/run.js watch with absolute paths, at login', () => {
    expect(unit).toContain(`ExecStart="${process.execPath}" "/opt/devenv/bin/run.js" "watch" "/src/app" `);
    expect(unit).toMatch(/^\[Install\]\nWantedBy=default\.target$/m);
    expect(unit).toMatch(/^Restart=on-failure$/m);
  });

  test('escapes specifiers, variables, quotes and newlines', () => {
    // % is a specifier everywhere; $ expands only in ExecStart.
    expect(systemdQuote('a%b$c"d\\e\nf', true)).toBe('"a%%b$$c\\"d\\\\e\\nf"');
    expect(systemdQuote('a%b$c', false)).toBe('"a%%b$c"');
    expect(unit).toContain('Environment="NIX_CONFIG=substituters =\\nexperimental-features = nix-command flakes"');
    expect(unit).toContain('Environment="DEVENV_NIXPKGS=path:/x%%y"');
    expect(unit).toContain(`"/tmp/a b/%%h$$HOME\\"q'<&>\\\\x"`);
  });

  // systemd-analyze and python3 come with scripts/setup-machine.sh: these never skip.
  test('systemd-analyze verify accepts it', () => {
    const dir = join(base, 'unit');
    mkdirSync(dir, {recursive: true});
    const f = join(dir, 'devenv-watch.service');
    writeFileSync(f, renderSystemdUnit({...spec, bin: process.execPath}));
    const r = spawnSync('systemd-analyze', ['verify', f], {encoding: 'utf8'});
    expect(`${r.stderr}`).not.toMatch(/devenv-watch\.service/);
    expect(r.status).toBe(0);
  });
});

describe('launchd plist', () => {
  const plist = renderLaunchdPlist({...spec, logFile: '/Users/me/Library/Logs/devenv-watch.log'});

  test('escapes XML and never puts a double hyphen in a comment', () => {
    expect(xmlEscape(`<a & "b" 'c'>`)).toBe('&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;');
    for (const c of plist.match(/<!--[\s\S]*?-->/g) ?? []) expect(c.slice(4, -3)).not.toContain('--');
  });

  test('parses back (plistlib) to the same arguments and environment', () => {
    const r = spawnSync('python3', ['-c', 'import plistlib,sys,json; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'], {input: plist, encoding: 'utf8'});
    expect(r.stderr).toBe('');
    const parsed = JSON.parse(r.stdout);
    expect(parsed.Label).toBe('org.devenv.watch');
    expect(parsed.ProgramArguments).toEqual([process.execPath, '/opt/devenv/bin/run.js', 'watch', '/src/app', nasty]);
    expect(parsed.EnvironmentVariables).toEqual(spec.env);
    expect(parsed.RunAtLoad).toBe(true);
    expect(parsed.StandardErrorPath).toBe('/Users/me/Library/Logs/devenv-watch.log');
  });
});

describe('serviceEnv', () => {
  test('carries PATH, XDG dirs and devenv settings, nothing else', () => {
    expect(serviceEnv({PATH: '/bin', XDG_STATE_HOME: '/s', DEVENV_NIXPKGS: 'path:/n', HOME: '/h', SECRET_TOKEN: 'x', NIX_REMOTE: ''})).toEqual({PATH: '/bin', XDG_STATE_HOME: '/s', DEVENV_NIXPKGS: 'path:/n'});
  });

  test("printed inside a loaded project: the project's PATH entries are left out", () => {
    const env = {PATH: '/nix/store/a-py/bin:/nix/store/b-pg/bin:/home/me/bin:/usr/bin', __DEVENV_PRE_PATH: '/nix/store/a-py/bin:/nix/store/b-pg/bin'};
    expect(serviceEnv(env).PATH).toBe('/home/me/bin:/usr/bin');
  });
});

describe('watched paths', () => {
  const root = join(base, 'proj');
  mkdirSync(join(root, 'nix', 'deep'), {recursive: true});
  mkdirSync(join(root, 'node_modules', 'x'), {recursive: true});
  mkdirSync(join(root, 'src'), {recursive: true});
  writeFileSync(join(root, 'devenv.toml'), 'name = "p"\n');
  writeFileSync(join(root, 'nix', 'deep', 'a.nix'), '{}');
  writeFileSync(join(root, 'node_modules', 'x', 'b.nix'), '{}');

  test('watch dirs: the root and the way to every input (not the setup dirs .venv and node_modules, unless declared)', () => {
    expect(watchDirs(root)).toEqual([root, join(root, 'nix'), join(root, 'nix', 'deep')]);
  });

  test('relevant files: the inputs only; not other files, .git, .devenv, node_modules or dotenv files', () => {
    expect(relevantFile(root, join(root, 'devenv.toml'))).toBe(true);
    expect(relevantFile(root, join(root, 'flake.lock'))).toBe(true);
    expect(relevantFile(root, join(root, 'nix', 'x.nix'))).toBe(true);
    expect(relevantFile(root, join(root, 'hook.sh'))).toBe(false);
    expect(relevantFile(root, join(root, 'build', 'settings.json'))).toBe(false);
    expect(relevantFile(root, join(root, 'node_modules', 'x', 'b.nix'))).toBe(false);
    expect(relevantFile(root, join(root, '.env.nix'))).toBe(false);
    expect(relevantFile(root, join(root, '.devenv', 'state', 'postgres.log'))).toBe(false);
    expect(relevantFile(root, join(root, '.git', 'index'))).toBe(false);
  });

  test('a project living in a dir named like a skipped one is not skipped itself', () => {
    const r = join(base, '.devenv');
    expect(skippedDir(r, r)).toBe(false);
    expect(skippedDir(r, join(r, 'nix'))).toBe(false);
    expect(skippedDir(r, join(r, '.git'))).toBe(true);
  });

  test('evaluated projects under a prefix are found from their state dirs', () => {
    const state = join(base, 'state');
    process.env.XDG_STATE_HOME = state;
    for (const p of ['/home/me/src/a', '/home/me/src/deep/b', '/home/me/other/c']) updateProjectState(p, {lastEvalAt: 'now'});
    expect(evaluatedUnder('/home/me/src').sort()).toEqual(['/home/me/src/a', '/home/me/src/deep/b']);
    expect(evaluatedUnder('/home/me/src/a')).toEqual(['/home/me/src/a']);
    expect(evaluatedUnder('/nowhere')).toEqual([]);
  });
});

describe('parseNixVersion', () => {
  test('reads the versions nix prints', () => {
    expect(parseNixVersion('nix (Nix) 2.8.0')).toEqual([2, 8, 0]);
    expect(parseNixVersion('nix (Nix) 2.24.10\n')).toEqual([2, 24, 10]);
    expect(parseNixVersion('nix (Nix) 2.3')).toEqual([2, 3, 0]);
    expect(parseNixVersion('garbage')).toBeNull();
  });
});

describe('summarizeNixError', () => {
  test("nix's multi-line report becomes one line with the project-relative location", () => {
    const text = `nix print-dev-env failed:
warning: Git tree '/src/app' is dirty
error: syntax error, unexpected ';'

       at /nix/store/1bpl4b802lxd0yp6qasxb0hkpw2jjxpd-source/flake.nix:1:42:

            1| { outputs = { self }: { devShells = 42 ; ; }; }
             |                                          ^`;
    expect(summarizeNixError(text)).toBe("error: syntax error, unexpected ';' (flake.nix:1:42)");
    expect(summarizeNixError("error: attribute 'noSuchPackage' missing")).toBe("error: attribute 'noSuchPackage' missing");
    expect(summarizeNixError('warning: x\nsomething broke\nbadly')).toBe('something broke | badly');
    expect(summarizeNixError('')).toBe('unknown error');
  });
});
