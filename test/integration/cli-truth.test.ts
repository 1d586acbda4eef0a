// What the CLI says matches what happened, with real nix: a hand-edited flake.nix that no
// longer follows devenv.toml, nix failures devenv can name, the commands that run a project's
// code without an allow, status after gc, the progress line.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawnSync} from 'node:child_process';
import {appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {DEVENV, initProject, makeSandbox, REPO, type Sandbox} from '../helpers/env.js';

let sb: Sandbox;
beforeAll(() => {
  sb = makeSandbox('devenv-truth-');
});
afterAll(() => sb.cleanup());

const count = (s: string, sub: string): number => s.split(sub).length - 1;
const git = (cwd: string, ...args: string[]) => spawnSync('git', args, {cwd, encoding: 'utf8'});

describe('a hand-edited flake.nix and a devenv.toml changed since', () => {
  const MSG = 'devenv.toml changed after flake.nix was edited by hand';

  test('every evaluating command says so once, with both ways out; status and doctor carry it', () => {
    const p = initProject(sb, 'drift', ['minimal']);
    expect(sb.devenv(['exec', '--', 'true'], {cwd: p}).status).toBe(0);
    const flake = join(p, 'flake.nix');
    writeFileSync(flake, readFileSync(flake, 'utf8').replace('packages = [', 'packages = [ # mine'));
    // A hand edit alone is not drift: nothing in devenv.toml waits to be applied.
    expect(sb.devenv(['exec', '--', 'true'], {cwd: p}).stderr).not.toContain(MSG);
    expect(JSON.parse(sb.devenv(['status', '--json'], {cwd: p}).stdout).flakeDrift).toBeNull();

    // A package added in devenv.toml cannot reach a hand-edited flake ([env] still would:
    // devenv applies it itself).
    const toml = join(p, 'devenv.toml');
    writeFileSync(toml, readFileSync(toml, 'utf8').replace(/packages = \[\]/, 'packages = ["hello"]'));
    expect(readFileSync(toml, 'utf8')).toContain('packages = ["hello"]');
    const e = sb.devenv(['exec', '--', 'sh', '-c', 'command -v hello || echo none'], {cwd: p});
    expect(e.stdout).toBe('none\n'); // indeed not applied
    expect(count(e.stderr, MSG)).toBe(1);
    expect(e.stderr).toContain("run 'devenv generate --force' to regenerate flake.nix from devenv.toml");
    expect(e.stderr).toContain('or make the change in flake.nix yourself');
    for (const args of [['reload'], ['update'], ['export', 'json'], ['shell']]) {
      const r = sb.devenv(args, {cwd: p, env: {SHELL: '/bin/true'}});
      expect([args, r.status, count(r.stderr, MSG)]).toEqual([args, 0, 1]);
    }
    // The hook, once the edit is allowed.
    expect(sb.devenv(['allow'], {cwd: p}).status).toBe(0);
    expect(count(sb.devenv(['__hook', 'bash', p], {cwd: p}).stderr, MSG)).toBe(1);

    const st = JSON.parse(sb.devenv(['status', '--json'], {cwd: p}).stdout);
    expect(st.flakeDrift).toEqual({message: expect.stringContaining(MSG), hint: expect.stringContaining('devenv generate --force')});
    expect(sb.devenv(['status'], {cwd: p}).stdout).toMatch(new RegExp(`^flake: +${MSG}`, 'm'));
    const doc = JSON.parse(sb.devenv(['doctor', '--json'], {cwd: p}).stdout);
    expect(doc.checks.find((c: {id: string}) => c.id === 'flake')).toMatchObject({status: 'warn', next: expect.stringContaining('devenv generate --force')});

    // up: [services.postgres] is in devenv.toml, so the hint must not say to add it.
    appendFileSync(join(p, 'devenv.toml'), '\n[services.postgres]\nversion = 15\n');
    const up = sb.devenv(['up', '-d'], {cwd: p});
    expect(up.status).toBe(5);
    expect(count(up.stderr, MSG)).toBe(1);
    expect(up.stderr).not.toContain('add [services.postgres]');
    expect(up.stderr).toMatch(/hint: flake\.nix is edited by hand, so devenv\.toml's \[services\.postgres\] does not reach it: add pkgs\.postgresql_15 .*devenv generate --force/);

    // The way out.
    expect(sb.devenv(['generate', '--force'], {cwd: p}).status).toBe(0);
    const after = sb.devenv(['exec', '--', 'sh', '-c', 'command -v hello || echo none'], {cwd: p});
    expect(after.stdout).toMatch(/^\/nix\/store\/.*\/bin\/hello\n$/);
    expect(after.stderr).not.toContain(MSG);
    expect(JSON.parse(sb.devenv(['status', '--json'], {cwd: p}).stdout).flakeDrift).toBeNull();
  });
});

describe('nix failures devenv can name are told where the user sees them', () => {
  test("a file the flake reads that is no input: exec, the hook, status and doctor give the devenv.toml line to add", () => {
    const p = initProject(sb, 'undeclared', ['minimal']);
    const flake = join(p, 'flake.nix');
    writeFileSync(flake, readFileSync(flake, 'utf8').replace('packages = [', 'shellHook = builtins.readFile ./etc/banner.sh;\n            packages = ['));
    mkdirSync(join(p, 'etc'));
    writeFileSync(join(p, 'etc', 'banner.sh'), 'export BANNER=shown\n');
    expect(git(p, 'init', '-q').status).toBe(0);
    expect(sb.devenv(['allow'], {cwd: p}).status).toBe(0);
    const line = '[project] inputs = ["etc/banner.sh"]';
    for (const attempt of ['first', 'cached failure']) {
      const e = sb.devenv(['exec', '--', 'true'], {cwd: p});
      expect([attempt, e.status]).toEqual([attempt, 4]);
      expect([attempt, e.stderr]).toEqual([attempt, expect.stringContaining(`the flake reads etc/banner.sh, which is not one of the environment's inputs; add to devenv.toml: ${line}`)]);
      expect([attempt, e.stderr]).not.toEqual([attempt, expect.stringContaining('fix the error above')]);
    }
    const hook = sb.devenv(['__hook', 'bash', p], {cwd: p});
    expect(hook.stderr).toContain(`hint: add ${line} to devenv.toml`);
    const st = JSON.parse(sb.devenv(['status', '--json'], {cwd: p}).stdout);
    expect(st.lastError).toMatchObject({error: 'nix_undeclared_input', hint: expect.stringContaining(`add ${line} to devenv.toml`)});
    expect(sb.devenv(['status'], {cwd: p}).stdout).toMatch(/^ {2}hint: add \[project\] inputs = \["etc\/banner\.sh"\]/m);
    const doc = JSON.parse(sb.devenv(['doctor', '--json'], {cwd: p}).stdout);
    expect(doc.checks.find((c: {id: string}) => c.id === 'evaluation').next).toContain(`add ${line} to devenv.toml`);
    // And the fix works.
    writeFileSync(join(p, 'devenv.toml'), readFileSync(join(p, 'devenv.toml'), 'utf8') + `\n${line.replace('] ', ']\n')}\n`);
    expect(sb.devenv(['allow'], {cwd: p}).status).toBe(0);
    expect(sb.devenv(['exec', '--', 'sh', '-c', 'echo $BANNER'], {cwd: p}).stdout.trim()).toBe('shown');
  });

  test('no daemon', () => {
    const p = initProject(sb, 'nodaemon', ['minimal']);
    const e = sb.devenv(['exec', '--', 'true'], {cwd: p, env: {NIX_REMOTE: `unix://${join(sb.dir, 'no-such-socket')}`}});
    expect(e.status).toBe(4);
    expect(e.stderr).toContain(`nix cannot reach the nix daemon (${join(sb.dir, 'no-such-socket')})`);
    expect(e.stderr).toContain('hint: start it (sudo systemctl start nix-daemon)');
  });

  test('a flake without a nixpkgs input (and no registry to find one)', () => {
    const p = join(sb.dir, 'noinput');
    mkdirSync(p);
    writeFileSync(join(p, 'flake.nix'), '{ outputs = { self, nixpkgs }: { devShells.x86_64-linux.default = nixpkgs.legacyPackages.x86_64-linux.mkShell { }; }; }\n');
    const e = sb.devenv(['exec', '--', 'true'], {cwd: p, env: {DEVENV_NIXPKGS: ''}});
    expect(e.status).toBe(4);
    expect(e.stderr).toContain('flake.nix declares no nixpkgs input');
    expect(e.stderr).toContain('hint: set inputs.nixpkgs.url in flake.nix');
  });
});

describe("commands that run a project's code without an allow", () => {
  test('are exactly the ones README lists, among all commands', () => {
    // Each command runs in its own never-allowed copy whose shellHook (run at evaluation), tasks
    // and process leave a mark; the hook text differs per copy so no copy hits another's cache entry.
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const sentence = /these run its code[^]*?without an\s+allow: ([^.]+)\./.exec(readme)?.[1] ?? '';
    const listed = [...sentence.matchAll(/`([a-z]+)`/g)].map((m) => m[1]).sort();
    expect(listed.length).toBeGreaterThan(0);
    const base = join(sb.dir, 'code-base');
    mkdirSync(base);
    const mark = 'touch .ran-code';
    writeFileSync(
      join(base, 'devenv.toml'),
      `name = "code"\n\n[services.postgres]\nversion = 15\n\n[tasks.mark]\nexec = "${mark}"\n\n[tasks.test]\nexec = "${mark}"\n\n[processes.marker]\nexec = "${mark}; exec sleep 600"\n`,
    );
    const runs: Record<string, string[]> = {
      run: ['run', 'mark'],
      test: ['test'],
      allow: ['allow'], // runs nothing; it is what makes the hook run the code
      deny: ['deny'],
      search: ['search', 'hello'],
      autocomplete: ['autocomplete', 'bash'],
      watch: ['watch'],
      'cache:push': ['cache', 'push', '--to', `file://${join(sb.dir, 'code-push-cache')}`],
      'cache:key:generate': ['cache', 'key', 'generate', '--name', 'code-key'],
      exec: ['exec', '--', 'true'],
      shell: ['shell'],
      export: ['export', 'json'],
      reload: ['reload'],
      update: ['update'],
      up: ['up', '-d'],
      status: ['status'],
      doctor: ['doctor'],
      generate: ['generate'],
      add: ['add', 'hello'],
      remove: ['remove', 'hello'],
      ps: ['ps'],
      down: ['down'],
      logs: ['logs'],
      gc: ['gc'],
      allowed: ['allowed'],
      templates: ['templates'],
      hook: ['hook', 'bash'],
      init: ['init', 'minimal'],
      // Its exec/up/run tools refuse a project not allowed (mcp.test); started with no client, it runs nothing.
      mcp: ['mcp'],
    };
    // Every command devenv has is tried, but the container ones: they build an image and run it in
    // a container engine, not on this machine (README's trust section says so; container.test).
    const elsewhere = ['container:build', 'container:copy', 'container:run'];
    const manifest = JSON.parse(readFileSync(join(REPO, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {hidden?: boolean}>};
    const all = Object.entries(manifest.commands).filter(([, c]) => !c.hidden).map(([id]) => id);
    expect(all.filter((id) => !(id in runs) && !elsewhere.includes(id))).toEqual([]);
    const ran: string[] = [];
    for (const [name, args] of Object.entries(runs)) {
      const p = join(sb.dir, `code-${name.replace(/:/g, '-')}`);
      cpSync(base, p, {recursive: true});
      appendFileSync(join(p, 'devenv.toml'), `\n[shell]\nhook = "touch .ran-code # ${name}"\n`);
      sb.devenv(args, {cwd: p, env: {SHELL: '/bin/true'}, timeout: name === 'watch' || name === 'mcp' ? 4000 : undefined});
      // up -d returns once the process is started; its mark follows.
      for (let i = 0; name === 'up' && i < 100 && !existsSync(join(p, '.ran-code')); i++) spawnSync('sleep', ['0.1']);
      if (existsSync(join(p, '.ran-code'))) ran.push(name);
      if (name === 'up') sb.devenv(['down'], {cwd: p});
      // It ran, but it did not allow the project: the hook still blocks it (the message is in the shell code).
      if (name !== 'allow') expect([name, sb.devenv(['__hook', 'bash', p], {cwd: p}).stdout]).toEqual([name, expect.stringMatching(/is (not allowed|denied);/)]);
      rmSync(p, {recursive: true, force: true});
    }
    expect(ran.sort()).toEqual(listed);
  });
});

test("after 'devenv gc' status says the environment was removed, not that nix changed", () => {
  const p = initProject(sb, 'gc', ['minimal']);
  expect(sb.devenv(['exec', '--', 'true'], {cwd: p}).status).toBe(0);
  expect(JSON.parse(sb.devenv(['status', '--json'], {cwd: p}).stdout).cache.state).toBe('fresh');
  expect(sb.devenv(['gc', '--older-than', '0s'], {cwd: p}).status).toBe(0);
  const st = JSON.parse(sb.devenv(['status', '--json'], {cwd: p}).stdout);
  expect(st.cache).toMatchObject({state: 'stale', why: expect.stringContaining("its cached environment was removed ('devenv gc'")});
  expect(st.cache.why).not.toContain('nix, the system');
});

test('reload and update name the project; the progress line on a terminal shows the time once', () => {
  const p = initProject(sb, 'progress', ['minimal']);
  for (const cmd of ['reload', 'update']) {
    const r = sb.devenv([cmd], {cwd: p});
    expect([cmd, r.stdout]).toEqual([cmd, expect.stringMatching(new RegExp(`^devenv: evaluated ${p} in \\d+\\.\\ds$`, 'm'))]);
  }
  // An evaluation nix spends over half a second on, under a pseudo-terminal (script(1)), shows the progress line.
  const slow = join(sb.dir, 'slow');
  mkdirSync(slow);
  writeFileSync(
    join(slow, 'flake.nix'),
    `{ inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";
  outputs = { self, nixpkgs }: let pkgs = nixpkgs.legacyPackages.x86_64-linux; in {
    devShells.x86_64-linux.default = pkgs.mkShell { SLOW = toString (builtins.foldl' (a: b: a + b) 0 (builtins.genList (x: x) 3000000)); }; }; }
`,
  );
  const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(DEVENV)} exec -- true`;
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {cwd: slow, env: {...sb.env, PWD: slow}, encoding: 'utf8', timeout: 180_000});
  const closing = r.stdout.split('\r').map((l) => l.replace(/\x1b\[K/g, '')).find((l) => l.startsWith(`devenv: evaluating ${slow}: `));
  expect(closing?.trim()).toMatch(/^devenv: evaluating .*: done \(\d+\.\ds\)$/);
});

describe('small truths', () => {
  const proj = (name: string, toml: string): string => {
    const p = join(sb.dir, name);
    mkdirSync(p, {recursive: true});
    writeFileSync(join(p, 'devenv.toml'), `name = "${name}"\n${toml}`);
    return p;
  };

  test('usage errors exit 2: cache push --to ftp://, a key name with a space, a bad search regex, gc --older-than abc, --seed-from a missing path', () => {
    const p = proj('usage', '');
    const cases: [string[], RegExp][] = [
      [['cache', 'push', '--to', 'ftp://cache.example.org/x'], /'ftp:\/\/cache\.example\.org\/x' is not a store URL/],
      [['cache', 'key', 'generate', '--name', 'my key'], /'my key' is not a usable key name/],
      [['search', '+python'], /'\+python' is not a regular expression \(.*\); search terms are regular expressions\n {2}hint: .*escape a character meant literally \('\\\+'\)/],
      [['gc', '--older-than', 'yesterday'], /cannot read 'yesterday' as an age\n {2}hint: give a number and a unit/],
      [['up', '-d', '--seed-from', join(sb.dir, 'no-such-checkout')], /--seed-from .*no-such-checkout: .* does not exist\n {2}hint: /],
    ];
    for (const [args, msg] of cases) {
      const r = sb.devenv(args, {cwd: p});
      expect([args, r.status]).toEqual([args, 2]);
      expect([args, r.stderr]).toEqual([args, expect.stringMatching(msg)]);
    }
  });

  test("an existing key's hint names what works (not --force, which key generate has not)", () => {
    expect(sb.devenv(['cache', 'key', 'generate', '--name', 'team-3']).status).toBe(0);
    const again = sb.devenv(['cache', 'key', 'generate', '--name', 'team-3']);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("a signing key named 'team-3' already exists");
    expect(again.stderr).toContain('hint: choose another name, e.g. --name team-4');
    expect(again.stderr).not.toContain('--force');
    expect(sb.devenv(['cache', 'key', 'generate', '--name', 'team-4']).status).toBe(0);
  });

  test('logs -n 0 prints no line; -n 1 the last', () => {
    const p = proj('logs0', '[tasks.talk]\nexec = "echo one; echo two"\n');
    expect(sb.devenv(['run', 'talk'], {cwd: p}).status).toBe(0);
    expect(sb.devenv(['logs', 'talk'], {cwd: p}).stdout).toBe('one\ntwo\n');
    expect(sb.devenv(['logs', '-n', '0', 'talk'], {cwd: p}).stdout).toBe('');
    expect(sb.devenv(['logs', '-n', '1', 'talk'], {cwd: p}).stdout).toBe('two\n');
  });

  test('a failing devenv test ends with a hint line', () => {
    const p = proj('testfail', '[tasks.test]\nexec = "exit 3"\n');
    const r = sb.devenv(['test'], {cwd: p});
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/devenv: test failed \(exit code 3\)\n {2}hint: .*'devenv run test'/);
  });

  test("a table name devenv refuses says what names are allowed", () => {
    const p = proj('names', '[processes.Api]\nexec = "true"\n');
    const r = sb.devenv(['exec', '--', 'true'], {cwd: p});
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("devenv.toml:2:1: processes: 'Api' cannot be used as a name here (names are lowercase letters, digits, - and _, starting with a letter, at most 32 characters");
  });

  test('ps with a broken devenv.toml says so (and still lists nothing as running)', () => {
    const p = proj('psbroken', '[processes.web]\nexec = "true"\nport = "sometimes"\n');
    const r = sb.devenv(['ps'], {cwd: p});
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/devenv: devenv\.toml cannot be read, so only what still runs is listed: .*devenv\.toml:4/);
    expect(r.stdout).toBe('nothing of this project is running\n');
    expect(JSON.parse(sb.devenv(['ps', '--json'], {cwd: p}).stdout).manifestError.message).toContain('devenv.toml:4');
  });

  test("a process's own env.PORT next to port = \"auto\" is refused, not silently replaced", () => {
    const p = proj('portenv', '[processes.api]\nexec = "true"\nport = "auto"\n\n[processes.api.env]\nPORT = "4100"\n');
    const r = sb.devenv(['up', '-d'], {cwd: p});
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('processes.api.env.PORT = "4100" disagrees with port = "auto"');
    expect(r.stderr).toContain('hint: set port = 4100 instead');
    // The same port twice is no contradiction; env.PORT alone is the process's own business.
    writeFileSync(join(p, 'devenv.toml'), 'name = "portenv"\n[processes.api]\nexec = "printenv PORT > got; exec sleep 600"\n\n[processes.api.env]\nPORT = "4100"\n');
    expect(sb.devenv(['up', '-d'], {cwd: p}).status).toBe(0);
    for (let i = 0; i < 100 && !existsSync(join(p, 'got')); i++) spawnSync('sleep', ['0.1']);
    expect(readFileSync(join(p, 'got'), 'utf8')).toBe('4100\n');
    expect(sb.devenv(['down'], {cwd: p}).status).toBe(0);
  });

  test("devenv --help's cache topic names push; the schema's cache.push description is words, not its regex", () => {
    const help = sb.devenv(['--help']).stdout;
    expect(help).toMatch(/^ {2}cache +.*push/m);
    const schema = JSON.parse(readFileSync(join(REPO, 'schema', 'devenv.schema.json'), 'utf8'));
    const push = schema.properties.cache.properties.push;
    expect(push.description).not.toContain(push.pattern);
    expect(push.description).toMatch(/file:\/\/.*ssh-ng:\/\//);
  });

  test('seed = "main" outside git starts empty with a note; --seed-from once data exists says it does not apply', () => {
    const p = proj('seedless', '[services.postgres]\nversion = 15\nseed = "main"\n');
    const up = sb.devenv(['up', '-d'], {cwd: p});
    expect([up.status, up.stderr]).toEqual([0, expect.any(String)]);
    expect(up.stdout + up.stderr).toMatch(/not seeded: seed = "main" names the main git worktree, and .* is not in a git repository/);
    const other = proj('seed-other', '');
    const again = sb.devenv(['up', '-d', '--seed-from', other], {cwd: p});
    expect(again.status).toBe(0);
    expect(sb.devenv(['down'], {cwd: p}).status).toBe(0);
    const restart = sb.devenv(['up', '-d', '--seed-from', other], {cwd: p});
    sb.devenv(['down'], {cwd: p});
    expect(restart.status).toBe(0);
    expect(restart.stdout + restart.stderr).toContain(`not seeded from ${other}: the database already has data`);
  });
});
