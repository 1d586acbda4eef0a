// The manifest layer: includes, devenv.local.toml, the merge rule and where each entry comes from.
import {afterAll, describe, expect, test} from '@jest/globals';
import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {ManifestError} from '../../src/errors.js';
import {manifestFiles} from '../../src/manifest/files.js';
import {loadManifest} from '../../src/manifest/load.js';
import {renderFlake} from '../../src/flake/render.js';

const base = mkdtempSync(join(tmpdir(), 'devenv-mload-'));
afterAll(() => rmSync(base, {recursive: true, force: true}));

let n = 0;
/** A fresh repository (a .git dir marks its top) with the given files. */
function repo(files: Record<string, string>): string {
  const top = join(base, `r${n++}`);
  mkdirSync(join(top, '.git'), {recursive: true});
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(top, name)), {recursive: true});
    writeFileSync(join(top, name), text);
  }
  return top;
}

const loadErr = (root: string): ManifestError => {
  try {
    loadManifest(root);
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    return e as ManifestError;
  }
  throw new Error('expected a ManifestError');
};

describe('include', () => {
  const top = repo({
    'devenv.toml': 'name = "mono"\ninclude = ["tools/lint"]\npackages = ["jq"]\n[project]\nmembers = ["svc/*"]\n[env]\nREGION = "eu"\nLEVEL = "root"\n',
    'tools/lint/devenv.toml': 'packages = ["shellcheck", "jq"]\n[env]\nLINT = "strict"\n',
    'common/db.toml': '[services.postgres]\nversion = 16\nport = 6001\ndatabases = ["orders"]\n[tasks.migrate]\nexec = "echo migrate"\n',
    'svc/orders/devenv.toml': 'name = "orders"\ninclude = ["/", "../../common/db.toml"]\npackages = ["curl"]\n\n[env]\nLEVEL = "orders"\n\n[tasks.migrate]\nafter = ["postgres"]\n[shell]\nhook = "echo orders"\n',
  });

  test('merged in order, the including file winning key by key; packages unioned; [project] and name not inherited', () => {
    const l = loadManifest(join(top, 'svc/orders'))!;
    expect(l.files.map((f) => f.name)).toEqual(['../../tools/lint/devenv.toml', '../../devenv.toml', '../../common/db.toml', 'devenv.toml']);
    const m = l.manifest;
    expect(m.name).toBe('orders');
    expect(m.project).toBeUndefined();
    expect(m.packages).toEqual(['shellcheck', 'jq', 'curl']);
    expect(m.env).toEqual({LINT: 'strict', REGION: 'eu', LEVEL: 'orders'});
    // A table merges key by key: the include's exec stays, this file adds `after`.
    expect(m.tasks!.migrate).toEqual({exec: 'echo migrate', after: ['postgres']});
    expect(m.services!.postgres).toEqual({version: 16, port: 6001, databases: ['orders']});
  });

  test('each entry says which file and line it comes from', () => {
    const s = loadManifest(join(top, 'svc/orders'))!.sources;
    expect(s['env.LEVEL']).toEqual({file: 'devenv.toml', line: 6});
    expect(s['env.REGION']).toEqual({file: '../../devenv.toml', line: 7});
    expect(s['env.LINT']).toEqual({file: '../../tools/lint/devenv.toml', line: 3});
    expect(s['packages.jq']).toEqual({file: '../../tools/lint/devenv.toml', line: 1});
    expect(s['services.postgres.port']).toEqual({file: '../../common/db.toml', line: 3});
    expect(s['tasks.migrate.after']).toEqual({file: 'devenv.toml', line: 9});
  });

  test('the flake is rendered from the merged manifest: plain nix, no include in it', () => {
    const flake = renderFlake(loadManifest(join(top, 'svc/orders'))!.manifest);
    expect(flake).toMatch(/pkgs\.shellcheck/);
    expect(flake).toMatch(/pkgs\.postgresql_16/);
    expect(flake).toMatch(/LEVEL = "orders"/);
    expect(flake).not.toMatch(/include|\.\.\//);
  });

  test('two versions of one service cannot merge: the error names both files and lines', () => {
    const t = repo({
      'devenv.toml': 'name = "a"\n\n[services.postgres]\nversion = 15\n',
      'api/devenv.toml': 'include = ["/"]\n[services.postgres]\nversion = 17\n',
    });
    const e = loadErr(join(t, 'api'));
    expect(e.message).toBe('devenv.toml:3: services.postgres.version is 17 here but 15 in ../devenv.toml:4; merged manifests must agree on it');
    expect(e.hint).toMatch(/nothing was changed/);
  });

  test('cycles are refused, naming the chain', () => {
    const t = repo({
      'devenv.toml': 'include = ["a"]\n',
      'a/devenv.toml': 'include = ["../b"]\n',
      'b/devenv.toml': 'include = ["/a"]\n',
    });
    expect(loadErr(t).message).toBe('b/devenv.toml:1: include "/a" makes a cycle (a/devenv.toml -> b/devenv.toml -> a/devenv.toml)');
    const self = repo({'devenv.toml': 'include = ["/"]\n'});
    expect(loadErr(self).message).toMatch(/^devenv\.toml:1: include "\/" makes a cycle/);
  });

  test('hostile includes: outside the repository, a symlink, a missing file, a bad file; nothing read beyond', () => {
    const t = repo({'devenv.toml': 'include = ["../../etc"]\n', 'x/devenv.toml': 'include = ["../gone"]\n'});
    expect(loadErr(t).message).toMatch(/include "\.\.\/\.\.\/etc" is outside the git repository/);
    expect(loadErr(join(t, 'x')).message).toMatch(/^devenv\.toml:1: include "\.\.\/gone" names \.\.\/gone\/devenv\.toml, which does not exist/);
    const s = repo({'devenv.toml': 'include = ["shared.toml"]\n', 'real.toml': '[env]\nA = "1"\n'});
    symlinkSync(join(s, 'real.toml'), join(s, 'shared.toml'));
    expect(loadErr(s).message).toMatch(/a symlink/);
    const bad = repo({'devenv.toml': 'include = ["shared.toml"]\n', 'shared.toml': '[env]\nPATH = "/evil"\n'});
    expect(loadErr(bad).message).toMatch(/^shared\.toml:2:1: env\.PATH cannot be set/);
  });

  test('"/" outside a git repository is an error saying so', () => {
    const plain = join(base, 'plain');
    mkdirSync(join(plain, 'sub'), {recursive: true});
    writeFileSync(join(plain, 'devenv.toml'), 'name = "p"\n');
    writeFileSync(join(plain, 'sub/devenv.toml'), 'include = ["/"]\n');
    expect(loadErr(join(plain, 'sub')).message).toMatch(/not in a git repository/);
    // A relative include works without git.
    writeFileSync(join(plain, 'sub/devenv.toml'), 'include = [".."]\n[env]\nX = "1"\n');
    expect(loadManifest(join(plain, 'sub'))!.files.map((f) => f.name)).toEqual(['../devenv.toml', 'devenv.toml']);
  });
});

describe('devenv.local.toml', () => {
  test('merged last: overrides a port, adds env and packages', () => {
    const t = repo({
      'devenv.toml': 'packages = ["jq"]\n[processes.web]\nexec = "serve"\nport = 8000\n[env]\nMODE = "shared"\n',
      'devenv.local.toml': 'packages = ["htop"]\n[processes.web]\nport = 9123\n[env]\nMODE = "mine"\n',
    });
    const l = loadManifest(t)!;
    expect(l.manifest.processes!.web).toEqual({exec: 'serve', port: 9123});
    expect(l.manifest.env!.MODE).toBe('mine');
    expect(l.manifest.packages).toEqual(['jq', 'htop']);
    expect(l.sources['processes.web.port']).toEqual({file: 'devenv.local.toml', line: 3});
  });

  test('an entry no file completes is an error at the file that set it', () => {
    const t = repo({'devenv.toml': 'name = "x"\n', 'devenv.local.toml': '\n[processes.api]\nport = 7000\n'});
    expect(loadErr(t).message).toBe("devenv.local.toml:3: processes.api must have required property 'exec'");
  });

  test('may not include (includes are shared, in devenv.toml)', () => {
    const t = repo({'devenv.toml': 'name = "x"\n', 'devenv.local.toml': 'include = ["/"]\n'});
    expect(() => manifestFiles(t)).toThrow(/include is not allowed in devenv\.local\.toml/);
  });
});
