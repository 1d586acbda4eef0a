// init, templates, add/remove, manifest errors and escaping, through the real CLI and real nix.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawn, spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {DEVENV, initProject, makeSandbox, type Sandbox, withoutVenv} from '../helpers/env.js';

let sb: Sandbox;
beforeAll(() => {
  sb = makeSandbox();
});
afterAll(() => sb.cleanup());

const HOSTILE = `q"uo'te \${builtins.throw "x"} back\\slash $HOME \`id\` %s -n\nsecond line ünïcode ✓`;

describe('init', () => {
  test('python-postgres writes a project whose flake real nix evaluates to Python 3.11 in a .venv and PostgreSQL 15', () => {
    const p = initProject(sb, 'app');
    expect(readFileSync(join(p, 'devenv.toml'), 'utf8')).toMatch(/\[services\.postgres\][^[]*\nversion = 15\n/);
    expect(readFileSync(join(p, 'devenv.toml'), 'utf8')).toMatch(/\[languages\.python\]\nversion = "3\.11"\nvenv = true\n/);
    expect(readFileSync(join(p, '.gitignore'), 'utf8').split('\n')).toEqual(expect.arrayContaining(['.devenv/', '.venv/']));
    // The first exec makes the venv (ensurepip's output on stderr), with pip in it.
    const script = 'command -v python3; python3 -c "import sys; print(sys.base_prefix)"; python3 --version; pip --version; postgres --version';
    const r = sb.devenv(['exec', '--', 'sh', '-c', script], {cwd: p, timeout: 240_000});
    expect(r.stderr).not.toContain('setup failed');
    expect(r.status).toBe(0);
    const [where, base, py, pip, pg] = r.stdout.trim().split('\n');
    expect(where).toBe(join(p, '.venv', 'bin', 'python3'));
    expect(base).toMatch(/^\/nix\/store\/[0-9a-z]{32}-python3-3\.11$/);
    expect(py).toMatch(/^Python 3\.11\./);
    expect(pip).toContain(`from ${join(p, '.venv', 'lib', 'python3.11', 'site-packages', 'pip')}`);
    expect(pg).toMatch(/\(PostgreSQL\) 15\./);
    // Made once: the next exec has nothing to set up.
    const again = sb.devenv(['exec', '--', 'true'], {cwd: p});
    expect({status: again.status, stderr: again.stderr}).toEqual({status: 0, stderr: ''});
  }, 240_000);

  test('a second init refuses to overwrite, names the file and suggests --force; nothing changes', () => {
    const p = join(sb.dir, 'app');
    const before = readFileSync(join(p, 'devenv.toml'), 'utf8');
    const r = sb.devenv(['init', 'node'], {cwd: p});
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${p}/devenv.toml already exists`);
    expect(r.stderr).toContain('--force');
    expect(readFileSync(join(p, 'devenv.toml'), 'utf8')).toBe(before);
  });

  test('--force overwrites', () => {
    const p = join(sb.dir, 'forced');
    mkdirSync(p);
    writeFileSync(join(p, 'devenv.toml'), 'name = "old"\n');
    expect(sb.devenv(['init', 'go', '--force'], {cwd: p}).status).toBe(0);
    expect(readFileSync(join(p, 'devenv.toml'), 'utf8')).toContain('[languages.go]');
  });

  test('an unknown template is refused with the list of known ones', () => {
    const p = join(sb.dir, 'unknown');
    mkdirSync(p);
    const r = sb.devenv(['init', 'cobol'], {cwd: p});
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("unknown template 'cobol'");
    expect(r.stderr).toMatch(/minimal.*python-postgres|python-postgres.*minimal/);
    expect(existsSync(join(p, 'devenv.toml'))).toBe(false);
  });

  test('templates compose: init python postgres equals python-postgres', () => {
    const p = join(sb.dir, 'composed');
    mkdirSync(p);
    expect(sb.devenv(['init', 'python', 'postgres', '--name', 'app'], {cwd: p}).status).toBe(0);
    const a = readFileSync(join(p, 'devenv.toml'), 'utf8').split('\n').slice(1).join('\n');
    const b = readFileSync(join(sb.dir, 'app', 'devenv.toml'), 'utf8').split('\n').slice(1).join('\n');
    expect(a).toBe(b);
  });

  test('in a git repository the new files are marked intent-to-add, so the flake sees them', () => {
    const p = join(sb.dir, 'gitproj');
    mkdirSync(p);
    spawnSync('git', ['init', '-q'], {cwd: p});
    expect(sb.devenv(['init', 'python'], {cwd: p}).status).toBe(0);
    const st = spawnSync('git', ['status', '--porcelain'], {cwd: p, encoding: 'utf8'}).stdout;
    expect(st).toMatch(/^ A devenv\.toml$/m);
    expect(st).toMatch(/^ A flake\.nix$/m);
    withoutVenv(sb, p);
    const r = sb.devenv(['exec', '--', 'python3', '--version'], {cwd: p});
    expect(r.stdout).toMatch(/Python 3\.11/);
  });

  test('templates --json lists every preset with a description', () => {
    const r = sb.devenv(['templates', '--json']);
    const list = JSON.parse(r.stdout) as {name: string; description: string}[];
    expect(list.map((t) => t.name).sort()).toEqual(['go', 'minimal', 'node', 'postgres', 'python', 'python-postgres', 'rust']);
    for (const t of list) expect(t.description.length).toBeGreaterThan(3);
  });
});

describe('devenv.toml edits and errors', () => {
  let p: string;
  beforeAll(() => {
    p = initProject(sb, 'edits', ['minimal']);
  });

  test('a hostile [env] value arrives byte for byte and injects nothing', () => {
    const toml = readFileSync(join(p, 'devenv.toml'), 'utf8') + `HOSTILE = ${JSON.stringify(HOSTILE)}\n`;
    writeFileSync(join(p, 'devenv.toml'), toml);
    const r = sb.devenv(['exec', '--', 'node', '-e', 'process.stdout.write(process.env.HOSTILE)'], {cwd: p, env: {PATH: `${process.env.PATH}`}});
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(HOSTILE);
    // and the hand edit of devenv.toml took effect with no other command
    expect(readFileSync(join(p, 'flake.nix'), 'utf8')).toContain('HOSTILE = "q\\"uo');
  });

  test('export gives the same values as json, bash, fish and GitHub Actions syntax', () => {
    const json = JSON.parse(sb.devenv(['export', 'json'], {cwd: p}).stdout);
    expect(json.HOSTILE).toBe(HOSTILE);
    expect(json.DEVENV_ROOT).toBe(p);
    const bashOut = sb.devenv(['export', 'bash'], {cwd: p}).stdout;
    const viaBash = spawnSync('bash', ['--norc', '-c', `${bashOut}\nprintf %s "$HOSTILE"`], {encoding: 'utf8'});
    expect(viaBash.stdout).toBe(HOSTILE);
    const fishOut = sb.devenv(['export', 'fish'], {cwd: p}).stdout;
    const viaFish = spawnSync('fish', ['--no-config', '-c', `${fishOut}\nprintf %s "$HOSTILE"`], {encoding: 'utf8'});
    expect(viaFish.stdout).toBe(HOSTILE);
    const gha = sb.devenv(['export', 'gha'], {cwd: p}).stdout;
    const m = /^HOSTILE<<(DEVENV_[0-9a-f]+)\n([\s\S]*?)\n\1$/m.exec(gha);
    expect(m?.[2]).toBe(HOSTILE);
    const bad = sb.devenv(['export', 'xml'], {cwd: p});
    expect(bad.status).toBe(2);
  });

  test('add and remove edit devenv.toml, keep comments and update flake.nix', () => {
    const r = sb.devenv(['add', 'hello', 'python311Packages.numpy'], {cwd: p});
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('added hello, python311Packages.numpy');
    const toml = readFileSync(join(p, 'devenv.toml'), 'utf8');
    expect(toml).toContain('packages = ["hello", "python311Packages.numpy"]');
    expect(toml).toContain('# nixpkgs attribute names');
    expect(readFileSync(join(p, 'flake.nix'), 'utf8')).toContain('pkgs.python311Packages.numpy');
    expect(sb.devenv(['exec', '--', 'hello'], {cwd: p}).stdout).toContain('Hello, world!');

    const twice = sb.devenv(['add', 'hello'], {cwd: p});
    expect(twice.status).toBe(0);
    expect(twice.stderr).toContain('hello is already in devenv.toml');

    expect(sb.devenv(['remove', 'python311Packages.numpy'], {cwd: p}).status).toBe(0);
    expect(readFileSync(join(p, 'devenv.toml'), 'utf8')).toContain('packages = ["hello"]');
    const missing = sb.devenv(['remove', 'nope'], {cwd: p});
    expect(missing.stderr).toContain('nope is not in devenv.toml');
  });

  test('concurrent adds do not lose one another', async () => {
    const q = initProject(sb, 'concurrent-adds', ['minimal']);
    const names = ['git', 'cmake', 'openssl', 'hello'];
    await Promise.all(
      names.map(
        (n) =>
          new Promise<void>((done) => {
            const c = spawn(process.execPath, [DEVENV, 'add', n], {cwd: q, env: {...sb.env, PWD: q}, stdio: 'ignore'});
            c.on('exit', () => done());
          }),
      ),
    );
    const pkgs = /^packages = \[(.*)\]$/m.exec(readFileSync(join(q, 'devenv.toml'), 'utf8'))![1];
    expect(pkgs.split(', ').map((x) => JSON.parse(x)).sort()).toEqual([...names].sort());
    for (const n of names) expect(readFileSync(join(q, 'flake.nix'), 'utf8')).toContain(`pkgs.${n}`);
  });

  test('a malformed devenv.toml gets file:line:col and nothing is written', () => {
    const q = join(sb.dir, 'malformed');
    mkdirSync(q);
    const bad = 'name = "x"\npackages = ["git"\n[env]\n';
    writeFileSync(join(q, 'devenv.toml'), bad);
    const r = sb.devenv(['add', 'jq'], {cwd: q});
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/devenv\.toml:3:\d+: syntax error/);
    expect(readFileSync(join(q, 'devenv.toml'), 'utf8')).toBe(bad);
    expect(existsSync(join(q, 'flake.nix'))).toBe(false);
    const e = sb.devenv(['exec', '--', 'true'], {cwd: q});
    expect(e.status).toBe(1);
    expect(e.stderr).toMatch(/devenv\.toml:3:\d+: syntax error/);
  });

  test('a schema error names the key and line; exec refuses with it', () => {
    const q = join(sb.dir, 'schema');
    mkdirSync(q);
    writeFileSync(join(q, 'devenv.toml'), 'name = "x"\n\n[services.postgres]\nversion = 12\n');
    const r = sb.devenv(['exec', '--', 'true'], {cwd: q});
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('devenv.toml:4:1: services.postgres.version 12 is not in nixos-26.05, which has 14, 15, 16, 17, 18');
    expect(existsSync(join(q, 'flake.nix'))).toBe(false);
  });

  test('a hand-edited flake.nix is never overwritten', () => {
    const flake = join(p, 'flake.nix');
    const edited = readFileSync(flake, 'utf8').replace('packages = [', 'packages = [ # mine');
    writeFileSync(flake, edited);
    const r = sb.devenv(['add', 'git'], {cwd: p});
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('flake.nix was edited by hand');
    expect(r.stderr).toContain('--force');
    expect(readFileSync(flake, 'utf8')).toBe(edited);
    expect(readFileSync(join(p, 'devenv.toml'), 'utf8')).not.toContain('"git"');
    // a devenv.toml edit does not clobber it either
    writeFileSync(join(p, 'devenv.toml'), readFileSync(join(p, 'devenv.toml'), 'utf8').replace('packages = ["hello"]', 'packages = ["hello", "cmake"]'));
    sb.devenv(['exec', '--', 'true'], {cwd: p});
    expect(readFileSync(flake, 'utf8')).toBe(edited);
    expect(sb.devenv(['generate', '--force'], {cwd: p}).status).toBe(0);
    expect(readFileSync(flake, 'utf8')).toContain('pkgs.cmake');
  });

  test('commands outside a project say so', () => {
    const r = sb.devenv(['add', 'git'], {cwd: '/'});
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no devenv project here');
    expect(r.stderr).toContain('devenv init');
  });

  test('a prefix must be an existing directory and not / or $HOME; nothing is written otherwise', () => {
    const cfg = join(sb.env.XDG_CONFIG_HOME!, 'devenv', 'config.toml');
    const missing = sb.devenv(['allow', '--prefix', join(sb.dir, 'no-such-dir')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('is not a directory');
    const root = sb.devenv(['allow', '--prefix', '/']);
    expect(root.status).toBe(1);
    expect(root.stderr).toContain('refusing to trust everything under /');
    expect(existsSync(cfg)).toBe(false);
  });
});
