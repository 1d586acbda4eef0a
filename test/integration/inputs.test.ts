// What nix reads is the environment's inputs, not the repository (issue 19), and the prompt,
// status and trust agree on it (issue 28, 21.4, 21.6). Real nix (counted through a spy on
// PATH), real git, real bash/zsh/fish under tmux. Every project has the same inputs, so
// after the first evaluation each shell's checkouts hit the content-keyed cache.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {makeSandbox, nixSpy, type Sandbox} from '../helpers/env.js';
import {ShellSession, type ShellKind, shq, waitUntil} from '../helpers/tmux.js';

const EVAL = 240_000;
const git = (cwd: string, ...args: string[]) => {
  const r = spawnSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'init.defaultBranch=main', '-c', 'protocol.file.allow=always', ...args], {cwd, encoding: 'utf8'});
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

const FLAKE = (extra = '') => `{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";
  outputs = { self, nixpkgs }:
    let pkgs = import nixpkgs { system = "x86_64-linux"; };
    in {
      devShells.x86_64-linux.default = pkgs.mkShell {
        packages = [ ];
        MODULE_VALUE = import ./nix/module.nix;
        shellHook = ''
          export APP_STATE="$PWD/var/state"
        ''${extra};
      };
    };
}
`;

let sb: Sandbox;
let spy: ReturnType<typeof nixSpy>;
let storeBefore: Set<string>;
const nixCalls = () => spy.calls().length;

/** A project (devenv.toml, a hand-written flake, a module) and files that are no inputs. */
function makeProject(dir: string, flake = FLAKE()): void {
  mkdirSync(join(dir, 'nix'), {recursive: true});
  writeFileSync(join(dir, 'devenv.toml'), 'name = "inputs-app"\n');
  writeFileSync(join(dir, 'flake.nix'), flake);
  writeFileSync(join(dir, 'nix', 'module.nix'), '"first"\n');
  writeFileSync(join(dir, 'server.py'), 'print("v1")\n');
  writeFileSync(join(dir, '.gitignore'), '.devenv/\n');
}

const devenv = (cwd: string, ...args: string[]) => sb.devenv(args, {cwd, env: spy.env});

beforeAll(() => {
  sb = makeSandbox('devenv-inputs-');
  spy = nixSpy(sb);
  storeBefore = new Set(readdirSync('/nix/store'));
});

afterAll(() => sb?.cleanup());

describe('nix reads the inputs only (devenv exec, status, allow)', () => {
  let p: string;
  beforeAll(() => {
    p = join(sb.dir, 'cli');
    makeProject(p, FLAKE(' + builtins.readFile ./tools/motd.txt'));
    mkdirSync(join(p, 'tools'));
    writeFileSync(join(p, 'tools', 'motd.txt'), 'export MOTD=one\n');
    // Secrets and their look-alikes, staged in git: none may reach nix.
    for (const f of ['.env', '.env.local', '.env~', '#.env#', 'prod.env.bak', 'keys.bak']) writeFileSync(join(p, f), 'SECRET_TOKEN=hunter2\n');
    git(p, 'init', '-q');
    git(p, 'add', '-A');
  });

  test('a file the flake reads that is not an input fails with one line naming it and the devenv.toml line to add', () => {
    expect(devenv(p, 'allow').status).toBe(0);
    const r = devenv(p, 'exec', '--', 'true');
    expect(r.status).toBe(4);
    const first = r.stderr.split('\n').find((l) => l.includes('tools/motd.txt'));
    expect(first).toBe(`devenv: nix print-dev-env failed: the flake reads tools/motd.txt, which is not one of the environment's inputs; add to devenv.toml: [project] inputs = ["tools/motd.txt"]`);
    expect(r.stderr).not.toMatch(/does not exist|No such file|\/nix\/store/);
  }, EVAL);

  test('declaring it loads it; trust covers it: editing it then blocks, naming only it', () => {
    appendFileSync(join(p, 'devenv.toml'), '\n[project]\ninputs = ["tools/*.txt"]\n');
    expect(devenv(p, 'allow').status).toBe(0);
    const r = devenv(p, 'exec', '--', 'sh', '-c', 'echo "$MOTD $APP_STATE"');
    expect([r.status, r.stdout.trim()]).toEqual([0, `one ${p}/var/state`]);
    writeFileSync(join(p, 'tools', 'motd.txt'), 'export MOTD=two\n');
    const st = JSON.parse(devenv(p, 'status', '--json').stdout);
    expect([st.trust, st.trustChanged]).toEqual(['changed', ['tools/motd.txt']]);
    const hook = devenv(p, '__hook', 'bash', p);
    expect(hook.stdout).toContain(`devenv: ${p} changed since it was allowed (tools/motd.txt); run \\'devenv allow\\' to trust the new content`);
    expect(hook.stdout).not.toContain('_devenv_source');
    expect(devenv(p, 'allow').status).toBe(0);
    expect(devenv(p, 'exec', '--', 'sh', '-c', 'echo $MOTD').stdout.trim()).toBe('two');
  }, EVAL);

  test('status lists exactly the inputs; everything else is invisible to nix', () => {
    const st = JSON.parse(devenv(p, 'status', '--json').stdout);
    expect(st.inputs.files).toEqual(['devenv.toml', 'flake.nix', 'nix/module.nix', 'tools/motd.txt']);
    // A code edit, a commit: same key, still allowed, no nix.
    const calls = nixCalls();
    writeFileSync(join(p, 'server.py'), 'print("v2")\n');
    git(p, 'add', '-A');
    git(p, 'commit', '-qm', 'code');
    const after = JSON.parse(devenv(p, 'status', '--json').stdout);
    expect([after.trust, after.cache.state]).toEqual(['allowed', 'fresh']);
    expect(devenv(p, 'exec', '--', 'true').status).toBe(0);
    expect(nixCalls()).toBe(calls);
  }, EVAL);

  test('an untracked .nix file is no input until git tracks it: a scratch file changes nothing; one the flake reads says to git add it', () => {
    const calls = nixCalls();
    writeFileSync(join(p, 'scratch.nix'), '{ draft = true; }\n');
    const sr = devenv(p, 'status', '--json');
    if (sr.status !== 0) throw new Error(`status: ${sr.status} ${sr.stdout} ${sr.stderr}`);
    const st = JSON.parse(sr.stdout);
    expect([st.trust, st.cache.state, st.inputs.files.includes('scratch.nix')]).toEqual(['allowed', 'fresh', false]);
    expect(devenv(p, 'exec', '--', 'true').status).toBe(0);
    expect(nixCalls()).toBe(calls);
    // The module now imports a file git does not track yet.
    mkdirSync(join(p, 'nix', 'parts'), {recursive: true});
    writeFileSync(join(p, 'nix', 'parts', 'value.nix'), '"from-parts"\n');
    writeFileSync(join(p, 'nix', 'module.nix'), 'import ./parts/value.nix\n');
    expect(devenv(p, 'allow').status).toBe(0);
    const r = devenv(p, 'exec', '--strict', '--', 'true');
    expect(r.status).toBe(4);
    expect(r.stderr.split('\n').find((l) => l.includes('nix/parts/value.nix'))).toBe('devenv: nix print-dev-env failed: the flake reads nix/parts/value.nix, which git does not track: in a git project the .nix inputs are the ones git tracks, as for nix itself');
    expect(r.stderr).toContain("run 'git add nix/parts/value.nix'");
    git(p, 'add', 'nix/parts/value.nix');
    const changed = JSON.parse(devenv(p, 'status', '--json').stdout);
    expect([changed.trust, changed.trustChanged]).toEqual(['changed', ['nix/parts/value.nix']]);
    expect(devenv(p, 'allow').status).toBe(0);
    expect(devenv(p, 'exec', '--', 'sh', '-c', 'echo $MODULE_VALUE').stdout.trim()).toBe('from-parts');
    // Back as the other tests expect it.
    git(p, 'rm', '-q', '--cached', 'nix/parts/value.nix');
    rmSync(join(p, 'nix', 'parts'), {recursive: true});
    rmSync(join(p, 'scratch.nix'));
    writeFileSync(join(p, 'nix', 'module.nix'), '"first"\n');
    expect(devenv(p, 'allow').status).toBe(0);
  }, EVAL);

  test('a dotenv file (or a backup of one) staged in git never reaches the store, even under "**"', () => {
    // A tag of this run: the copy nix makes is new in the store (it is content-addressed).
    writeFileSync(join(p, 'devenv.toml'), `# run ${process.pid}-${Date.now()}\nname = "inputs-app"\n\n[project]\ninputs = ["**"]\n\n[dotenv]\nfiles = ["prod.env"]\n`);
    writeFileSync(join(p, 'prod.env'), 'SECRET_TOKEN=hunter2\n');
    writeFileSync(join(p, '#prod.env#'), 'SECRET_TOKEN=hunter2\n');
    git(p, 'add', '-A');
    expect(devenv(p, 'allow').status).toBe(0);
    const r = devenv(p, 'exec', '--', 'sh', '-c', 'echo $SECRET_TOKEN');
    expect([r.status, r.stdout.trim()]).toEqual([0, 'hunter2']);
    const st = JSON.parse(devenv(p, 'status', '--json').stdout);
    expect(st.inputs.files).toContain('server.py');
    expect(st.inputs.files.filter((f: string) => /(^|\/)(\.env|#)|\.env|\.bak$/.test(f))).toEqual([]);
    // status and doctor warn that a configured dotenv file is tracked.
    expect(st.trackedDotenv).toEqual(['prod.env']);
    expect(devenv(p, 'status').stdout).toMatch(/warning: +prod\.env is a \[dotenv\] file tracked by git/);
    const doc = JSON.parse(devenv(p, 'doctor', '--json').stdout);
    expect(doc.checks.find((c: {id: string}) => c.id === 'git')).toMatchObject({status: 'warn', detail: expect.stringContaining('prod.env')});
    // Every source nix copied during this file's tests: no secret file, no secret value.
    const made = readdirSync('/nix/store').filter((n) => !storeBefore.has(n) && /-source$/.test(n));
    expect(made.length).toBeGreaterThan(0);
    const grep = spawnSync('grep', ['-rl', 'hunter2', ...made.map((n) => `/nix/store/${n}`)], {encoding: 'utf8'});
    expect(grep.stdout).toBe('');
    const names = spawnSync('find', [...made.map((n) => `/nix/store/${n}`), '-name', '*env*'], {encoding: 'utf8'}).stdout.split('\n').filter((l) => /\.env|env[~#]|\.bak/.test(l));
    expect(names).toEqual([]);
  }, EVAL);

  test('init ignores .env and the configured dotenv files in the .gitignore it writes', () => {
    const q = join(sb.dir, 'fresh');
    mkdirSync(q);
    writeFileSync(join(q, '.gitignore'), 'dist/\n');
    expect(devenv(q, 'init', 'minimal').status).toBe(0);
    expect(readFileSync(join(q, '.gitignore'), 'utf8').split('\n')).toEqual(['dist/', '.devenv/', '/.env', '/devenv.local.toml', '']);
  });
});

describe('an allow under the older rule (every file nix copied) carries over', () => {
  test('unchanged inputs stay allowed, silently; changed ones say once why one allow is needed', () => {
    const p = join(sb.dir, 'older');
    makeProject(p);
    git(p, 'init', '-q');
    git(p, 'add', '-A');
    expect(devenv(p, 'allow').status).toBe(0);
    // Rewrite the record as the older rule wrote it: every tracked file, no rule mark.
    const dir = join(sb.env.XDG_DATA_HOME!, 'devenv', 'trust');
    const rec = readdirSync(join(dir, 'allow')).find((n) => JSON.parse(readFileSync(join(dir, 'allow', n), 'utf8')).root === p)!;
    const record = JSON.parse(readFileSync(join(dir, 'allow', rec), 'utf8'));
    const files = JSON.parse(readFileSync(join(dir, 'files', rec), 'utf8'));
    const sha = (s: string) => spawnSync('sha256sum', {input: s, encoding: 'utf8'}).stdout.split(' ')[0];
    const older = {...files, 'server.py': sha(readFileSync(join(p, 'server.py'), 'utf8')), '.gitignore': sha('.devenv/\n')};
    const digest = 'older-' + rec;
    const name = createHash('sha256').update(`${record.root}\n${digest}`).digest('hex');
    rmSync(join(dir, 'allow', rec));
    rmSync(join(dir, 'files', rec));
    writeFileSync(join(dir, 'allow', name), JSON.stringify({root: record.root, digest, allowedAt: record.allowedAt, gitCommonDir: record.gitCommonDir}));
    writeFileSync(join(dir, 'files', name), JSON.stringify(older));
    expect(JSON.parse(devenv(p, 'status', '--json').stdout).trust).toBe('allowed');
    // Carried over to a record of the new rule (server.py is no part of it).
    const mine = () => readdirSync(join(dir, 'allow')).filter((n) => JSON.parse(readFileSync(join(dir, 'allow', n), 'utf8')).root === p);
    expect(mine().length).toBe(2);
    // The same, for an input changed since: one line says why.
    for (const n of mine()) if (n !== name) rmSync(join(dir, 'allow', n));
    writeFileSync(join(p, 'nix', 'module.nix'), '"second"\n');
    const st = JSON.parse(devenv(p, 'status', '--json').stdout);
    expect(st.trust).toBe('changed');
    expect(st.trustOlderRule).toBe("allowed under devenv's older rule (every file nix copied); of what nix reads now, nix/module.nix differs from then: run 'devenv allow' once");
    expect(devenv(p, '__hook', 'bash', p).stdout).toContain(`devenv: ${p} allowed under devenv\\'s older rule (every file nix copied); of what nix reads now, nix/module.nix differs`);
  });
});

function shellTests(kind: ShellKind): void {
  describe(`${kind}: a pull, a commit, an install never block or evaluate; an input change does; each checkout gets its own $PWD values`, () => {
    let sh: ShellSession;
    let main: string, upstream: string, wt: string, clone: string;
    const cd = (dir: string) => sh.run(`cd ${shq(kind, dir)}`, EVAL);
    const loaded = () => sh.env();
    const base = () => join(sb.dir, kind);

    beforeAll(() => {
      main = join(base(), 'main');
      upstream = join(base(), 'upstream');
      wt = join(base(), 'wt');
      clone = join(base(), 'clone');
      makeProject(main);
      // Allowed before git knows any file: still allowed after the first add and commit.
      expect(devenv(main, 'allow').status).toBe(0);
      git(main, 'init', '-q');
      git(main, 'add', '-A');
      git(main, 'commit', '-qm', 'first');
      git(base(), 'clone', '-q', main, upstream);
      sh = ShellSession.start(kind, {env: {...sb.env, ...spy.env, LANG: 'C.UTF-8'}, dir: join(sb.dir, `session-${kind}`), cwd: base()});
    }, 60_000);

    afterAll(() => sh?.close());

    test('allowed before the first git add: loads after add and commit', () => {
      expect(cd(main)).toMatch(new RegExp(`^devenv: loading ${main}`));
      const env = loaded();
      expect([env.DEVENV_ROOT, env.MODULE_VALUE, env.APP_STATE]).toEqual([main, 'first', `${main}/var/state`]);
    }, EVAL);

    test('a pulled code change, a commit, an install and a venv: no message, no node, no nix, still loaded', () => {
      writeFileSync(join(upstream, 'server.py'), 'print("v2")\n');
      git(upstream, 'commit', '-qam', 'code');
      const nodes = sh.nodeCalls().length;
      const calls = nixCalls();
      expect(sh.run(`git pull -q ${shq(kind, upstream)} main`)).toBe('');
      expect(readFileSync(join(main, 'server.py'), 'utf8')).toBe('print("v2")\n');
      expect(sh.run('echo "print(3)" > server.py; git -c user.email=t@x -c user.name=t commit -qam edit')).toBe('');
      expect(sh.run('mkdir -p node_modules/left .venv/bin; echo "{}" > package-lock.json; echo x > node_modules/left/default.nix; echo y > .venv/bin/activate')).toBe('');
      expect(sh.run('true')).toBe('');
      expect(sh.nodeCalls().length).toBe(nodes);
      expect(nixCalls()).toBe(calls);
      expect(loaded().DEVENV_ROOT).toBe(main);
    }, EVAL);

    test('an input change blocks until allowed, naming it; the allow loads exactly the new content', () => {
      writeFileSync(join(main, 'nix', 'module.nix'), `"${kind}-second"\n`);
      expect(sh.run('true')).toBe(['devenv: unloading', `devenv: ${main} changed since it was allowed (nix/module.nix); run 'devenv allow' to trust the new content`].join('\n'));
      expect(loaded().DEVENV_ROOT).toBeUndefined();
      sh.run('devenv allow');
      waitUntil(() => loaded().MODULE_VALUE === `${kind}-second`, EVAL, 'the allowed module value', () => sh.debug());
      git(main, 'commit', '-qam', 'module');
    }, EVAL);

    test('a worktree and a clone: status names where trust comes from; $PWD values follow the checkout in any order', () => {
      git(main, 'worktree', 'add', '-q', wt);
      git(base(), 'clone', '-q', main, clone);
      const st = JSON.parse(devenv(wt, 'status', '--json').stdout);
      expect([st.trust, st.trustFrom]).toEqual(['worktree', main]);
      expect(devenv(wt, 'status').stdout).toContain(`trust:    worktree (inherited from the allow of ${main}, a checkout of the same repository with the same inputs)`);
      expect(devenv(clone, 'allow').status).toBe(0);
      const calls = nixCalls();
      expect(cd(base())).toBe('devenv: unloading');
      for (const order of [[main, clone, wt], [wt, clone, main], [clone, wt, main, wt]]) {
        for (const [i, dir] of order.entries()) {
          if (i === 0) cd(base());
          expect(cd(dir)).toMatch(new RegExp(`devenv: loading ${dir}`));
          const env = loaded();
          expect([dir, env.DEVENV_ROOT, env.APP_STATE, env.MODULE_VALUE]).toEqual([dir, dir, `${dir}/var/state`, `${kind}-second`]);
        }
      }
      // Identical inputs: the clone and the worktree hit the cache.
      expect(spy.calls().slice(calls).filter((c) => c.includes('print-dev-env'))).toEqual([]);
      cd(base());
    }, EVAL);
  });
}

for (const kind of ['bash', 'zsh', 'fish'] as ShellKind[]) shellTests(kind);

/** 28.1: a non-.nix input, and inputs past the prompt's watch limit: after an allow the shell loads exactly what was allowed. */
function allowLoadsTests(kind: ShellKind): void {
  test(`${kind}: a non-.nix input edited and allowed loads at the next prompt; so does one past the watch limit`, () => {
    const p = join(sb.dir, `many-${kind}`);
    makeProject(p, FLAKE(' + builtins.readFile ./etc/motd.sh').replace('import ./nix/module.nix', 'import ./nix/module.nix + (import ./nix/m/zz.nix)'));
    appendFileSync(join(p, 'devenv.toml'), '\n[project]\ninputs = ["etc/*.sh"]\n');
    mkdirSync(join(p, 'nix', 'm'));
    mkdirSync(join(p, 'etc'));
    writeFileSync(join(p, 'etc', 'motd.sh'), 'export MOTD=one\n');
    for (let i = 0; i < 520; i++) writeFileSync(join(p, 'nix', 'm', `m${String(i).padStart(3, '0')}.nix`), '{}\n');
    writeFileSync(join(p, 'nix', 'm', 'zz.nix'), '"-a"\n');
    expect(devenv(p, 'allow').status).toBe(0);
    const sh = ShellSession.start(kind, {env: {...sb.env, ...spy.env, LANG: 'C.UTF-8'}, dir: join(sb.dir, `session-many-${kind}`), cwd: sb.dir});
    const value = (name: string, want: string) => waitUntil(() => sh.env()[name] === want, EVAL, `${name}=${want}`, () => sh.debug());
    try {
      const out = sh.run(`cd ${shq(kind, p)}`, EVAL);
      expect(out).toContain(`devenv: loading ${p}`);
      expect(out).toContain("devenv: 23 of this project's inputs are past the 500 the prompt watches; after editing one of those, run 'devenv reload' (an allow checks them all)");
      expect([sh.env().MODULE_VALUE, sh.env().MOTD]).toEqual(['first-a', 'one']);
      // A declared non-.nix input is watched: the edit blocks, the allow loads it.
      writeFileSync(join(p, 'etc', 'motd.sh'), 'export MOTD=two\n');
      expect(sh.run('true')).toContain(`devenv: ${p} changed since it was allowed (etc/motd.sh)`);
      sh.run('devenv allow');
      value('MOTD', 'two');
      // Past the watch limit: the prompt does not see the edit, the allow makes it check all.
      writeFileSync(join(p, 'nix', 'm', 'zz.nix'), '"-b"\n');
      expect(JSON.parse(devenv(p, 'status', '--json').stdout).trustChanged).toEqual(['nix/m/zz.nix']);
      sh.run('devenv allow');
      value('MODULE_VALUE', 'first-b');
    } finally {
      sh.close();
    }
  }, EVAL);
}

describe('more inputs than the prompt watches, and non-.nix inputs: an allow loads exactly what was allowed', () => {
  for (const kind of ['bash', 'zsh', 'fish'] as ShellKind[]) allowLoadsTests(kind);
});
