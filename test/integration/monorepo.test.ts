// A monorepo (issue 24): a root project, `api` (which includes a shared file) and `web` (which
// does not), in one git repository. Included files and devenv.local.toml are inputs of the
// project that merges them: a change blocks that project until allowed and re-evaluates it
// alone. Entering api/ or web/ from the root swaps environments exactly, in bash, zsh and fish.
// Three evaluations for the three projects, one more per edit; the shells reuse them.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawn, spawnSync} from 'node:child_process';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {DEVENV, makeSandbox, nixSpy, type Sandbox} from '../helpers/env.js';
import {comparableEnv, ShellSession, type ShellKind} from '../helpers/tmux.js';

const EVAL_TIMEOUT = 240_000;
const GIT_ENV = {GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t', GIT_CONFIG_NOSYSTEM: '1'};

let sb: Sandbox;
let spy: ReturnType<typeof nixSpy>;
let top: string;
const evals = () => spy.calls().filter((c) => c.includes('print-dev-env')).length;
const put = (rel: string, text: string) => {
  mkdirSync(dirname(join(top, rel)), {recursive: true});
  writeFileSync(join(top, rel), text);
};
const dv = (dir: string, args: string[]) => {
  const r = sb.devenv(args, {cwd: join(top, dir), env: spy.env, timeout: EVAL_TIMEOUT});
  return {...r, out: `${r.stdout}${r.stderr}`};
};
const ok = (dir: string, args: string[]): string => {
  const r = dv(dir, args);
  if (r.status !== 0) throw new Error(`devenv ${args.join(' ')} in ${dir}: exit ${r.status}\n${r.out}`);
  return r.stdout;
};
const status = (dir: string) => JSON.parse(ok(dir, ['status', '--json']));
const show = (dir: string) => ok(dir, ['exec', '--', 'sh', '-c', 'echo "${LEVEL-none} ${TEAM-none} ${ROOT_ONLY-none} ${SRV_PORT-none}"; command -v hello >/dev/null && echo has-hello || echo no-hello']).trim().split('\n');

beforeAll(() => {
  sb = makeSandbox('devenv-mono-');
  spy = nixSpy(sb);
  top = join(sb.dir, 'repo');
  mkdirSync(top);
  spawnSync('git', ['init', '-q', top], {env: {...process.env, ...GIT_ENV}});
  put('shared/base.toml', 'packages = ["hello"]\n\n[env]\nTEAM = "blue"\n');
  put('devenv.toml', 'name = "mono"\n\n[env]\nLEVEL = "root"\nROOT_ONLY = "yes"\n');
  put('api/devenv.toml', 'name = "api"\ninclude = ["/shared/base.toml"]\n\n[env]\nLEVEL = "api"\n\n[processes.srv]\nexec = "sleep 600"\nport = 21555\n');
  put('web/devenv.toml', 'name = "web"\n\n[env]\nLEVEL = "web"\n');
  for (const d of ['.', 'api', 'web']) ok(d, ['allow']);
}, 60_000);
afterAll(() => sb?.cleanup());

describe('include', () => {
  test('the including project gets the merged manifest; status says where each entry comes from', () => {
    expect(show('api')).toEqual(['api blue none 21555', 'has-hello']);
    expect(show('web')).toEqual(['web none none none', 'no-hello']);
    expect(show('.')).toEqual(['root none yes none', 'no-hello']);
    expect(evals()).toBe(3);
    const s = status('api');
    expect(s.manifest.files).toEqual(['../shared/base.toml', 'devenv.toml']);
    expect(s.manifest.entries).toEqual(expect.arrayContaining([
      {key: 'env.TEAM', value: 'blue', file: '../shared/base.toml', line: 4},
      {key: 'packages.hello', value: 'hello', file: '../shared/base.toml', line: 1},
      {key: 'env.LEVEL', value: 'api', file: 'devenv.toml', line: 5},
    ]));
    // The included file is an input of api (trust and cache cover it); api is not one of the root's.
    expect(s.inputs.files).toContain('../shared/base.toml');
    expect(status('.').inputs.files).not.toContain('api/devenv.toml');
    expect(ok('api', ['status'])).toContain('env.TEAM = "blue"  (../shared/base.toml:4)');
    // The flake stays plain: the include is resolved into it.
    const flake = readFileSync(join(top, 'api/flake.nix'), 'utf8');
    expect(flake).toMatch(/TEAM = "blue";/);
    expect(flake).not.toMatch(/include|shared/);
  }, EVAL_TIMEOUT * 2);

  test('a change in the included file blocks only its includer until allowed, and re-evaluates only it', () => {
    put('shared/base.toml', 'packages = ["hello"]\n\n[env]\nTEAM = "green"\n');
    const s = status('api');
    expect(s.trust).toBe('changed');
    expect(s.trustChanged).toEqual(['../shared/base.toml']);
    expect(status('web').trust).toBe('allowed');
    expect(status('.').trust).toBe('allowed');
    const before = evals();
    expect(show('web')).toEqual(['web none none none', 'no-hello']);
    expect(show('.')).toEqual(['root none yes none', 'no-hello']);
    expect(evals()).toBe(before);
    ok('api', ['allow']);
    expect(show('api')).toEqual(['api green none 21555', 'has-hello']);
    expect(evals()).toBe(before + 1);
  }, EVAL_TIMEOUT);

  test('an include that cannot merge is an error naming both files and lines; nothing is evaluated', () => {
    put('web/devenv.toml', 'name = "web"\ninclude = ["../shared/base.toml"]\n\n[env]\nLEVEL = "web"\n\n[nixpkgs]\nurl = "github:NixOS/nixpkgs/nixos-26.05"\n');
    put('shared/base.toml', 'packages = ["hello"]\n[nixpkgs]\nurl = "github:NixOS/nixpkgs/nixos-25.11"\n\n[env]\nTEAM = "green"\n');
    const before = evals();
    const r = dv('web', ['generate']);
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('devenv.toml:8: nixpkgs.url is "github:NixOS/nixpkgs/nixos-26.05" here but "github:NixOS/nixpkgs/nixos-25.11" in ../shared/base.toml:3');
    expect(r.out).not.toMatch(/\n\s+at /);
    expect(evals()).toBe(before);
    put('web/devenv.toml', 'name = "web"\n\n[env]\nLEVEL = "web"\n');
    put('shared/base.toml', 'packages = ["hello"]\n\n[env]\nTEAM = "green"\n');
  });
});

describe('devenv.local.toml', () => {
  test('overrides a port; it is an input (allow needed), never copied into the store', () => {
    put('api/devenv.local.toml', '[processes.srv]\nport = 21777\n\n[env]\nMINE = "1"\n');
    expect(status('api').trustChanged).toEqual(['devenv.local.toml']);
    ok('api', ['allow']);
    expect(show('api')).toEqual(['api green none 21777', 'has-hello']);
    expect(ok('api', ['status'])).toContain('processes.srv.port = 21777  (devenv.local.toml:2)');
    const staged = spawnSync('find', [join(sb.env.XDG_CACHE_HOME!, 'devenv', 'src'), '-name', 'devenv.local.toml'], {encoding: 'utf8'});
    expect(staged.stdout).toBe('');
  }, EVAL_TIMEOUT);

  test('init git-ignores it', () => {
    const p = join(sb.dir, 'fresh');
    mkdirSync(p);
    expect(sb.devenv(['init', 'minimal'], {cwd: p}).status).toBe(0);
    expect(readFileSync(join(p, '.gitignore'), 'utf8').split('\n')).toContain('/devenv.local.toml');
  });
});

describe.each(['bash', 'zsh', 'fish'] as ShellKind[])('sub-projects in %s', (kind) => {
  let sh: ShellSession;
  beforeAll(() => {
    sh = ShellSession.start(kind, {env: {...sb.env, ...spy.env, LANG: 'C.UTF-8'}, dir: join(sb.dir, `session-${kind}`), cwd: sb.dir});
  }, 60_000);
  afterAll(() => sh?.close());

  test('cd api / cd web / cd .. swap environments exactly', () => {
    const outside = comparableEnv(sh.env());
    const before = evals();
    sh.run(`cd ${top}/api`, EVAL_TIMEOUT);
    const api = comparableEnv(sh.env());
    expect([api.LEVEL, api.TEAM, api.ROOT_ONLY, api.SRV_PORT, api.MINE]).toEqual(['api', 'green', undefined, '21777', '1']);
    sh.run('cd ..', EVAL_TIMEOUT);
    const root = comparableEnv(sh.env());
    expect([root.LEVEL, root.TEAM, root.ROOT_ONLY, root.SRV_PORT, root.MINE]).toEqual(['root', undefined, 'yes', undefined, undefined]);
    // Root -> api is the same environment as outside -> api: nothing of the root's leaks.
    sh.run('cd api', EVAL_TIMEOUT);
    expect(comparableEnv(sh.env())).toEqual(api);
    sh.run('cd ../web', EVAL_TIMEOUT);
    const web = comparableEnv(sh.env());
    expect([web.LEVEL, web.TEAM, web.ROOT_ONLY, web.SRV_PORT]).toEqual(['web', undefined, undefined, undefined]);
    sh.run('cd ..', EVAL_TIMEOUT);
    expect(comparableEnv(sh.env())).toEqual(root);
    // Nothing of the user's is lost on the way out.
    sh.run(`cd ${sb.dir}`, EVAL_TIMEOUT);
    expect(comparableEnv(sh.env())).toEqual(outside);
    expect(evals()).toBe(before);
  }, EVAL_TIMEOUT * 2);
});

describe('one up for the repository ([project] members)', () => {
  const ps = () => Object.fromEntries(JSON.parse(ok('.', ['ps', '--json'])).services.map((s: {name: string}) => [s.name, s]));
  beforeAll(() => {
    put('devenv.toml', 'name = "mono"\n\n[project]\nmembers = ["api", "w*"]\n\n[env]\nLEVEL = "root"\nROOT_ONLY = "yes"\n\n[processes.hub]\nexec = "sleep 600"\nafter = ["web:ui"]\n');
    // api: PostgreSQL and a server that answers with what it read from its own database.
    put('api/devenv.toml', [
      'name = "api"', 'include = ["/shared/base.toml"]', 'packages = ["python311"]', '', '[env]', 'LEVEL = "api"', '',
      '[services.postgres]', 'version = 15', '',
      '[tasks.migrate]', 'exec = "psql -X -q -c \'create table if not exists answers (n int)\' && psql -X -tAc \'select count(*) from answers\'"', 'after = ["postgres"]', '',
      '[processes.srv]', 'exec = "psql -X -tAc \'select 40 + 2\' > answer.txt && exec python3 -m http.server $PORT --bind 127.0.0.1"', 'port = 21555', 'ready = "tcp"', 'after = ["postgres"]', '',
    ].join('\n'));
    // web: a process that reads API_URL from the api's port, then serves what it got.
    put('web/devenv.toml', [
      'name = "web"', 'packages = ["python311"]', '', '[env]', 'LEVEL = "web"', '',
      '[processes.ui]', 'exec = "export API_URL=http://127.0.0.1:$API_SRV_PORT/ && python3 -c \\"import os, urllib.request; open(\'got.txt\', \'w\').write(urllib.request.urlopen(os.environ[\'API_URL\'] + \'answer.txt\').read().decode())\\" && echo \\"web on $PORT got $(cat got.txt) from $API_URL\\" && exec python3 -m http.server $PORT --bind 127.0.0.1"',
      'port = "auto"', 'ready = "tcp"', 'after = ["api:srv"]', '',
    ].join('\n'));
    for (const d of ['.', 'api', 'web']) ok(d, ['allow']);
  }, 60_000);
  afterAll(() => {
    dv('.', ['down']);
  }, 120_000);

  test('devenv up -d at the root starts the root, api and web; each member reaches its own servers', () => {
    const out = ok('.', ['up', '-d']);
    for (const n of ['api:postgres', 'api:srv', 'web:ui', 'hub']) expect(out).toMatch(new RegExp(`^${n}: started`, 'm'));
    const st = ps();
    for (const n of ['api:postgres', 'api:srv', 'web:ui', 'hub']) expect(st[n]).toMatchObject({state: 'running'});
    // api's server read its own database; web reached api's server on api's port.
    expect(readFileSync(join(top, 'api/answer.txt'), 'utf8').trim()).toBe('42');
    expect(readFileSync(join(top, 'web/got.txt'), 'utf8').trim()).toBe('42');
    expect(st['web:ui'].port).not.toBe(st['api:srv'].port);
    // Each member's own state: api's PostgreSQL is api's, found from api alone too.
    const apiPs = JSON.parse(ok('api', ['ps', '--json'])).services.map((s: {name: string; state: string}) => `${s.name}=${s.state}`);
    expect(apiPs).toEqual(expect.arrayContaining(['postgres=running', 'srv=running']));
    expect(ok('.', ['logs', 'web:ui'])).toContain(`web on ${st['web:ui'].port} got 42 from http://127.0.0.1:${st['api:srv'].port}/`);
    // Twice starts nothing.
    expect(ok('.', ['up', '-d'])).not.toMatch(/: started/);
  }, EVAL_TIMEOUT * 2);

  test('devenv run api:migrate runs the member\'s task in the member', () => {
    expect(ok('.', ['run', 'api:migrate'])).toMatch(/^api:migrate +\| 0$/m);
    expect(JSON.parse(ok('api', ['ps', '--json'])).services.find((s: {name: string}) => s.name === 'postgres').state).toBe('running');
  }, EVAL_TIMEOUT);

  test('an after naming no member unit is refused, nothing started', () => {
    put('devenv.toml', 'name = "mono"\n\n[project]\nmembers = ["api", "w*"]\n\n[processes.hub]\nexec = "sleep 600"\nafter = ["web:nope"]\n');
    const r = dv('.', ['up', '-d']);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/hub starts after web:nope, which no member defines/);
    expect(r.out).not.toMatch(/\n\s+at /);
    put('devenv.toml', 'name = "mono"\n\n[project]\nmembers = ["api", "w*"]\n\n[env]\nLEVEL = "root"\nROOT_ONLY = "yes"\n\n[processes.hub]\nexec = "sleep 600"\nafter = ["web:ui"]\n');
  });

  test('foreground up at the root: each member\'s log prefixed member:unit; Ctrl-C stops what it started, dependants first', async () => {
    ok('.', ['down']);
    const c = spawn(process.execPath, [DEVENV, 'up'], {cwd: top, env: {...sb.env, PWD: top}});
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => c.on('close', (code) => r(code)));
    const deadline = Date.now() + 180_000;
    while (!/^web:ui +\| web on \d+ got 42/m.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(out).toMatch(/^web:ui +\| web on \d+ got 42/m);
    expect(out).toMatch(/^api:postgres +\| .*database system is ready/m);
    while (!/hub: started/.test(err) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    c.kill('SIGINT');
    expect(await exited).toBe(0);
    const order = ['hub', 'web:ui', 'api:srv', 'api:postgres'].map((n) => err.indexOf(`${n}: stopped`));
    for (const i of order) expect(i).toBeGreaterThan(-1);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    ok('.', ['up', '-d']);
  }, EVAL_TIMEOUT);

  test('devenv down at the root stops every member\'s units, dependants first', () => {
    const r = ok('.', ['down']);
    const order = ['hub', 'web:ui', 'api:srv', 'api:postgres'].map((n) => r.indexOf(`${n}: stopped`));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const st = ps();
    for (const n of ['api:postgres', 'api:srv', 'web:ui', 'hub']) expect(st[n].state).toBe('stopped');
  }, 120_000);
});
