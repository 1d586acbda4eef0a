// Per-project PostgreSQL through the real CLI, real Nix (offline fixture) and a real PostgreSQL 15,
// run as an unprivileged user (scripts/run-tests.sh). Every server is stopped in afterAll.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawn, type SpawnSyncReturns} from 'node:child_process';
import {copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {createServer, type Server} from 'node:net';
import {join} from 'node:path';
import {DEVENV, initProject, makeSandbox, type Sandbox} from '../helpers/env.js';
import {processesOf} from '../helpers/procs.js';
import {asOtherUser} from '../helpers/other-user.js';

let sb: Sandbox;
const projects: string[] = [];

const json = (r: SpawnSyncReturns<string>) => {
  if (r.status !== 0) throw new Error(`devenv exited ${r.status}: ${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout);
};
const up = (p: string) => json(sb.devenv(['up', '-d', '--json'], {cwd: p})).services[0];
const ps = (p: string) => json(sb.devenv(['ps', '--json'], {cwd: p})).services[0];
const psql = (p: string, sql: string): string => {
  const r = sb.devenv(['exec', '--', 'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-tAc', sql], {cwd: p});
  if (r.status !== 0) throw new Error(`psql failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
};
const dataDir = (p: string) => join(p, '.devenv', 'state', 'postgres');

const newProject = (name: string, templates?: string[]) => {
  // Python for the flake's sake; its venv is not what these tests are about.
  const p = initProject(sb, name, templates, {venv: false});
  projects.push(p);
  return p;
};

let alpha: string;
let beta: string;
let a: {pid: number; port: number; started: boolean; readyMs: number; steps: string[]};
let b: typeof a;

beforeAll(() => {
  sb = makeSandbox('devenv-svc-');
  alpha = newProject('alpha');
  beta = newProject('beta');
  a = up(alpha);
  b = up(beta);
});

afterAll(() => {
  for (const p of projects) sb.devenv(['down'], {cwd: p});
  const left = projects.flatMap((p) => processesOf(dataDir(p)));
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL'); // never leak a server, even when down failed
    } catch {}
  }
  sb.cleanup();
  if (left.length) throw new Error(`servers outlived the tests: ${left.join(' ')}`);
});

describe('two projects at once', () => {
  test('first up runs initdb, creates the database and is ready; the ports differ', () => {
    for (const r of [a, b]) {
      expect(r.started).toBe(true);
      expect(r.steps).toEqual(expect.arrayContaining(['initdb']));
      expect(r.pid).toBeGreaterThan(0);
    }
    expect(a.steps).toContain('created database alpha');
    expect(a.port).not.toBe(b.port);
  });

  test("psql with no arguments inside each project reaches that project's own server", () => {
    expect(psql(alpha, "select current_database(), current_setting('port'), current_setting('data_directory'), current_user")).toBe(`alpha|${a.port}|${dataDir(alpha)}|${process.env.USER}`);
    expect(psql(beta, "select current_database(), current_setting('port'), current_setting('data_directory')")).toBe(`beta|${b.port}|${dataDir(beta)}`);
  });

  test('DATABASE_URL reaches the same server over TCP on 127.0.0.1', () => {
    const r = sb.devenv(['exec', '--', 'sh', '-c', 'psql -X "$DATABASE_URL" -tAc "select current_database(), inet_server_addr(), current_setting(\'port\')"; echo "$DATABASE_URL"'], {cwd: alpha});
    expect(r.status).toBe(0);
    const [row, url] = r.stdout.trim().split('\n');
    expect(row).toBe(`alpha|127.0.0.1|${a.port}`);
    expect(url).toMatch(new RegExp(`^postgresql://${process.env.USER}:[A-Za-z0-9_-]{24}@127\\.0\\.0\\.1:${a.port}/alpha$`));
  });

  test('TCP needs the project password: another local user cannot just connect to 127.0.0.1', async () => {
    const r = sb.devenv(['exec', '--', 'sh', '-c', `PGPASSFILE=/nonexistent PGPASSWORD= psql -X -w -h 127.0.0.1 -p ${a.port} -d alpha -tAc 'select 1'`], {cwd: alpha});
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/password/);
    // A real second user, pointed at this project's PGPASSFILE: it cannot read it (0600).
    const [psqlBin, pgpass] = sb.devenv(['exec', '--', 'sh', '-c', 'command -v psql; echo "$PGPASSFILE"'], {cwd: alpha}).stdout.trim().split('\n');
    const other = await asOtherUser(psqlBin, ['-X', '-w', '-h', '127.0.0.1', '-p', String(a.port), '-U', process.env.USER!, '-d', 'alpha', '-tAc', 'select 1'], {env: {PGPASSFILE: pgpass}}).done;
    expect(other.status).not.toBe(0);
    expect(other.stderr).toMatch(/no password supplied/);
  });

  test('TCP listens on 127.0.0.1 only; the socket is in the short runtime dir', () => {
    expect(psql(alpha, "select current_setting('listen_addresses')")).toBe('127.0.0.1');
    const st = ps(alpha);
    expect(st.socketDir.startsWith(sb.env.XDG_RUNTIME_DIR!)).toBe(true);
    expect(existsSync(join(st.socketDir, `.s.PGSQL.${a.port}`))).toBe(true);
  });

  test('a second up starts nothing (same pid); two concurrent ups agree', async () => {
    const again = up(alpha);
    expect(again).toMatchObject({started: false, pid: a.pid, port: a.port});
    const runs = await Promise.all([0, 1].map(() => runAsync(['up', '-d', '--json'], alpha)));
    for (const r of runs) expect(JSON.parse(r.stdout).services[0]).toMatchObject({started: false, pid: a.pid});
    expect(processesOf(dataDir(alpha)).filter((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('\0-D\0')).length).toBe(1);
  });

  test('ps, ps --json and status --json list the service', () => {
    expect(ps(alpha)).toMatchObject({name: 'postgres', state: 'running', pid: a.pid, port: a.port, dataDir: dataDir(alpha)});
    const text = sb.devenv(['ps'], {cwd: alpha});
    expect(text.stdout).toMatch(new RegExp(`postgres\\s+service\\s+running\\s+yes\\s+${a.pid}\\s+${a.port}\\s+-\\s+${dataDir(alpha).replace(/[.]/g, '\\.')}`));
    const st = json(sb.devenv(['status', '--json'], {cwd: beta}));
    expect(st.services).toEqual([expect.objectContaining({name: 'postgres', state: 'running', pid: b.pid, port: b.port})]);
  });

  test('logs shows the server log; an unknown service is a usage error', () => {
    const r = sb.devenv(['logs', '-n', '50', 'postgres'], {cwd: alpha});
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('database system is ready to accept connections');
    const bad = sb.devenv(['logs', 'redis'], {cwd: alpha});
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown service: redis');
  });
});

describe('data survives', () => {
  test('down leaves no process; a table survives down and up', () => {
    psql(alpha, 'create table kept(x int); insert into kept values (1), (2)');
    const d = sb.devenv(['down'], {cwd: alpha});
    expect(d.status).toBe(0);
    expect(d.stdout).toContain(`postgres: stopped (pid ${a.pid})`);
    expect(processesOf(dataDir(alpha))).toEqual([]);
    expect(ps(alpha).state).toBe('stopped');
    expect(sb.devenv(['down'], {cwd: alpha}).stdout).toContain('postgres: not running');
    a = up(alpha);
    expect(a.started).toBe(true);
    expect(a.steps).not.toContain('initdb');
    expect(psql(alpha, 'select sum(x) from kept')).toBe('3');
  });

  test('after kill -9 of the postmaster: ps says crashed, up recovers with committed data', () => {
    psql(alpha, 'insert into kept values (10)'); // committed, then the crash
    process.kill(a.pid, 'SIGKILL');
    const deadline = Date.now() + 5000;
    while (ps(alpha).state !== 'crashed' && Date.now() < deadline);
    expect(ps(alpha)).toMatchObject({state: 'crashed', detail: expect.stringContaining(`pid ${a.pid}`)});
    const r = up(alpha);
    expect(r.started).toBe(true);
    expect(r.pid).not.toBe(a.pid);
    expect(r.steps.join('\n')).toContain('removed a stale postmaster.pid');
    a = r;
    expect(psql(alpha, 'select sum(x) from kept')).toBe('13');
  });

  test("another project's live postmaster named in our postmaster.pid is never adopted (devenv.sh#2349)", () => {
    expect(sb.devenv(['down'], {cwd: beta}).status).toBe(0);
    copyFileSync(join(dataDir(alpha), 'postmaster.pid'), join(dataDir(beta), 'postmaster.pid'));
    expect(ps(beta)).toMatchObject({state: 'crashed', detail: expect.stringContaining(dataDir(alpha))});
    // down must not stop alpha's server
    expect(sb.devenv(['down'], {cwd: beta}).status).toBe(0);
    expect(ps(alpha)).toMatchObject({state: 'running', pid: a.pid});
    copyFileSync(join(dataDir(alpha), 'postmaster.pid'), join(dataDir(beta), 'postmaster.pid'));
    b = up(beta);
    expect(b).toMatchObject({started: true});
    expect(b.pid).not.toBe(a.pid);
    expect(psql(beta, "select current_setting('data_directory')")).toBe(dataDir(beta));
    expect(ps(alpha)).toMatchObject({state: 'running', pid: a.pid});
  });
});

describe('foreground up', () => {
  test("streams the log with a 'postgres | ' prefix; Ctrl-C stops the server and leaves no process", async () => {
    const p = newProject('fore');
    const child = spawn(process.execPath, [DEVENV, 'up'], {cwd: p, env: {...sb.env, PWD: p}, stdio: ['ignore', 'pipe', 'pipe']});
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    const deadline = Date.now() + 120_000;
    while (!out.includes('ready to accept connections') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(out).toMatch(/^postgres \| .*database system is ready to accept connections$/m);
    expect(psql(p, 'select 1')).toBe('1');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(err).toContain('postgres: stopped');
    expect(out).toMatch(/^postgres \| .*database system is shut down$/m);
    expect(processesOf(dataDir(p))).toEqual([]);
  });
});

describe('paths', () => {
  test('a project at a deep path (> 110 chars) works: its socket lives in the short runtime dir', () => {
    const deep = join('deep', 'a'.repeat(40), 'b'.repeat(40), 'c'.repeat(30));
    mkdirSync(join(sb.dir, deep), {recursive: true});
    const p = newProject(join(deep, 'app'));
    expect(p.length).toBeGreaterThan(110);
    const r = up(p);
    expect(r.started).toBe(true);
    expect(psql(p, "select current_setting('data_directory')")).toBe(dataDir(p));
    expect(sb.devenv(['down'], {cwd: p}).status).toBe(0);
    expect(processesOf(dataDir(p))).toEqual([]);
  });
});

describe('bad input', () => {
  let other: Server | undefined;
  afterAll(() => {
    other?.close();
  });

  test('port taken by another program: exit 5 naming the port and what to do; nothing started', async () => {
    const p = newProject('taken');
    const port = ps(p).port;
    other = createServer();
    await new Promise<void>((r) => other!.listen(port, '127.0.0.1', r));
    const r = await runAsync(['up', '-d'], p);
    expect(r.status).toBe(5);
    expect(r.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
    expect(r.stderr).toMatch(/hint: .*port = .*\[services\.postgres\]/);
    expect(processesOf(dataDir(p))).toEqual([]);
    await new Promise<void>((r2) => other!.close(() => r2()));
    other = undefined;
  });

  test('a data dir from another major version: exit 5, says both versions; the dir is untouched', () => {
    // A cluster devenv made (so it carries devenv's marker), as if the project had run
    // PostgreSQL 14 before its devenv.toml moved to 15.
    const p = newProject('oldpg');
    expect(sb.devenv(['up', '-d'], {cwd: p}).status).toBe(0);
    expect(sb.devenv(['down'], {cwd: p}).status).toBe(0);
    writeFileSync(join(dataDir(p), 'PG_VERSION'), '14\n');
    const before = readdirSync(dataDir(p)).sort();
    const r = sb.devenv(['up', '-d'], {cwd: p});
    expect(r.status).toBe(5);
    expect(r.stderr).toContain('holds a PostgreSQL 14 cluster');
    expect(r.stderr).toContain("this project's postgres is 15");
    expect(r.stderr).toMatch(/hint: .*pg_upgrade/);
    expect(readdirSync(dataDir(p)).sort()).toEqual(before);
    expect(readFileSync(join(dataDir(p), 'PG_VERSION'), 'utf8')).toBe('14\n');
  });

  test('a project without services: up exits 1 and says how to add PostgreSQL', () => {
    const p = newProject('plain', ['python']);
    const r = sb.devenv(['up', '-d'], {cwd: p});
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('defines no services');
    expect(r.stderr).toContain('[services.postgres]');
    expect(json(sb.devenv(['ps', '--json'], {cwd: p})).services).toEqual([]);
  });

  test('[services.postgres] but a hand-written flake without PostgreSQL: exit 5, says what to add', () => {
    const p = newProject('noflakepg');
    writeFileSync(
      join(p, 'flake.nix'),
      '{\n  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";\n  outputs = { self, nixpkgs }: {\n    devShells.x86_64-linux.default = let pkgs = nixpkgs.legacyPackages.x86_64-linux; in pkgs.mkShell { packages = [ pkgs.python311 ]; };\n    devShells.aarch64-linux.default = let pkgs = nixpkgs.legacyPackages.aarch64-linux; in pkgs.mkShell { packages = [ pkgs.python311 ]; };\n  };\n}\n',
    );
    const r = sb.devenv(['up', '-d'], {cwd: p});
    expect(r.status).toBe(5);
    expect(r.stderr).toContain("the project's environment has no PostgreSQL");
    expect(r.stderr).toMatch(/hint: .*postgresql_15/);
    expect(existsSync(join(dataDir(p), 'PG_VERSION'))).toBe(false);
  });
});

describe('config changes', () => {
  test('a server still running after its [services.postgres] section was removed: ps shows it, down stops it', () => {
    const p = join(sb.dir, 'fore');
    const r = up(p);
    const toml = join(p, 'devenv.toml');
    const lines = readFileSync(toml, 'utf8').split('\n');
    const from = lines.indexOf('[services.postgres]');
    const to = lines.findIndex((l, i) => i > from && l.startsWith('['));
    lines.splice(from, to - from);
    writeFileSync(toml, lines.join('\n'));
    expect(ps(p)).toMatchObject({state: 'running', pid: r.pid});
    const d = sb.devenv(['down'], {cwd: p});
    expect(d.status).toBe(0);
    expect(d.stdout).toContain(`postgres: stopped (pid ${r.pid})`);
    expect(processesOf(dataDir(p))).toEqual([]);
    expect(sb.devenv(['up', '-d'], {cwd: p}).status).toBe(1);
  });

  test('a broken devenv.toml does not keep down from stopping the server', () => {
    const p = join(sb.dir, 'taken');
    const r = up(p);
    const toml = join(p, 'devenv.toml');
    const good = readFileSync(toml, 'utf8');
    writeFileSync(toml, good + '\nbogus = [\n');
    const d = sb.devenv(['down'], {cwd: p});
    writeFileSync(toml, good);
    expect(d.stdout).toContain(`postgres: stopped (pid ${r.pid})`);
    expect(d.status).toBe(0);
    expect(processesOf(dataDir(p))).toEqual([]);
  });
});

/** devenv run without blocking the event loop (for concurrent runs and in-test listeners). */
function runAsync(args: string[], cwd: string): Promise<{status: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [DEVENV, ...args], {cwd, env: {...sb.env, PWD: cwd}, stdio: ['ignore', 'pipe', 'pipe']});
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('exit', (status) => resolve({status, stdout, stderr}));
  });
}
