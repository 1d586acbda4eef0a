// The whole project under `devenv up` (issue 12): PostgreSQL, Redis, MariaDB, a user process and
// tasks, in two checkouts of one repository (a clone and a worktree) side by side, through the
// real CLI, real Nix (offline fixture) and real servers, as the unprivileged test user.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawn, spawnSync, type SpawnSyncReturns} from 'node:child_process';
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {get} from 'node:http';
import {createServer, type Server} from 'node:net';
import {join} from 'node:path';
import {userInfo} from 'node:os';
import {git, repoWithWorktree} from '../helpers/checkouts.js';
import {DEVENV, makeSandbox, type Sandbox} from '../helpers/env.js';
import {alive, processesOf} from '../helpers/procs.js';
import {asOtherUser, nodeAsOtherUser, type OtherRun, watchCommandLines} from '../helpers/other-user.js';

let sb: Sandbox;
let main: string;
let wt: string;
let clone: string;
const dirs: string[] = [];

const TOML = `name = "shop"
packages = ["python311", "coreutils"]

[dotenv]
files = [".env.local"]

[services.postgres]
seed = "main"

[services.redis]

[services.mysql]
databases = ["shop"]
seed = "main"

[tasks.migrate]
exec = "echo migrating; psql -X -q -v ON_ERROR_STOP=1 -f migrations/001.sql && date +%s%N > .migrated"
after = ["postgres"]
sources = ["migrations/*.sql"]

[processes.web]
exec = "test -f .migrated && exec python3 server.py"
port = "auto"
ready = "http"
after = ["migrate", "redis", "mysql"]
restart = "never"

[processes.flaky]
exec = "if [ -f .flaky-ok ]; then exec sleep 100000; else touch .flaky-ok; echo first-try-fails; exit 1; fi"
after = ["web"]

[processes.crashy]
exec = "test -f .crashy-ok && exec sleep 100000; echo boom-$RANDOM; exit 3"
restart = "on-failure"
max_restarts = 2
after = ["web"]

[tasks.test]
exec = "psql -X -tAc 'select 1' >/dev/null && redis-cli ping && echo TESTPORTS $PGPORT $REDIS_PORT $MYSQL_TCP_PORT && exit $(cat .test-exit 2>/dev/null || echo 0)"
after = ["postgres", "redis", "mysql"]
`;

const SERVER = `import http.server, os, socketserver
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = os.getcwd().encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
socketserver.TCPServer.allow_reuse_address = True
with socketserver.TCPServer(('127.0.0.1', int(os.environ['PORT'])), H) as s:
    print('serving on', os.environ['PORT'], 'WEB_PORT', os.environ.get('WEB_PORT'), flush=True)
    s.serve_forever()
`;

const run = (cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> => sb.devenv(args, {cwd, env, timeout: 300_000});
const ok = (r: SpawnSyncReturns<string>): SpawnSyncReturns<string> => {
  if (r.status !== 0) throw new Error(`devenv exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
  return r;
};
const json = (r: SpawnSyncReturns<string>) => JSON.parse(ok(r).stdout);
const ps = (cwd: string): Record<string, {state: string; pid?: number; port?: number; restarts?: number; ready?: boolean; detail?: string; socketDir?: string}> =>
  Object.fromEntries(json(run(cwd, ['ps', '--json'])).services.map((s: {name: string}) => [s.name, s]));
const sh = (cwd: string, script: string): string => ok(run(cwd, ['exec', '--', 'bash', '-c', script])).stdout.trim();
const httpGet = (port: number): Promise<string> =>
  new Promise((resolve, reject) => {
    get({host: '127.0.0.1', port, path: '/'}, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve(b));
    }).once('error', reject);
  });

/** devenv with /proc hidden: a user and mount namespace of our own (same uid), a tmpfs over /proc. */
function devenvNoProc(cwd: string, args: string[]): SpawnSyncReturns<string> {
  const uid = process.getuid!();
  const gid = process.getgid!();
  return spawnSync('unshare', ['--user', `--map-user=${uid}`, `--map-group=${gid}`, '--mount', '--keep-caps', 'sh', '-c', 'mount -t tmpfs none /proc && exec "$@"', 'sh', process.execPath, DEVENV, ...args], {
    cwd,
    env: {...sb.env, PWD: cwd},
    encoding: 'utf8',
    timeout: 300_000,
  });
}

function newCheckoutProject(): void {
  main = join(sb.dir, 'main');
  ok(spawnSync('mkdir', ['-p', join(main, 'migrations')], {encoding: 'utf8'}) as SpawnSyncReturns<string>);
  writeFileSync(join(main, 'devenv.toml'), TOML);
  writeFileSync(join(main, 'server.py'), SERVER);
  writeFileSync(join(main, 'migrations', '001.sql'), 'CREATE TABLE IF NOT EXISTS items (name text);\n');
  writeFileSync(join(main, '.gitignore'), '.devenv/\n.migrated\n.flaky-ok\n.test-exit\n.crashy-ok\n.env.local\n');
  wt = repoWithWorktree(sb, main);
  clone = join(sb.dir, 'clone');
  git(sb.dir, 'clone', '-q', main, clone);
  dirs.push(main, wt, clone);
  for (const d of dirs) ok(run(d, ['allow']));
}

beforeAll(() => {
  sb = makeSandbox('devenv-proj-');
  newCheckoutProject();
}, 600_000);

afterAll(() => {
  for (const d of dirs) run(d, ['down']);
  const left = dirs.flatMap((d) => processesOf(d));
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  sb.cleanup();
  if (left.length) throw new Error(`processes outlived the tests: ${left.join(' ')}`);
}, 300_000);

describe('the whole project in two checkouts side by side', () => {
  let upMain: SpawnSyncReturns<string>;
  /** Every command line another local user saw during the first `up` (initdb, install-db, set-up SQL). */
  let seen: {passes: number; cmdlines: string[]};

  test('up -d in the main checkout starts services, runs the migration, then the process; a failing process stops after its limit with its last lines', async () => {
    const watcher: OtherRun = watchCommandLines();
    await watcher.waitFor(/watching/);
    // Start all but crashy first: crashy is the crash loop. As from cron or a `USER=postgres`
    // prefix: $USER is not the real user, and must not name the database roles.
    upMain = run(main, ['up', '-d', 'web', 'flaky'], {USER: 'postgres', LOGNAME: 'postgres'});
    watcher.end();
    seen = JSON.parse((await watcher.done).stdout.trim().split('\n').pop()!);
    ok(upMain);
    const out = upMain.stdout;
    expect(out).toMatch(/postgres: started/);
    expect(out).toMatch(/redis: started/);
    expect(out).toMatch(/mysql: started/);
    expect(out).toMatch(/migrate: done/);
    expect(out).toMatch(/web: started/);
    // after = ["migrate", ...]: the migration ran before web started.
    expect(out.indexOf('migrate: done')).toBeLessThan(out.indexOf('web: started'));
    expect(existsSync(join(main, '.migrated'))).toBe(true);
    expect(upMain.stderr).toContain('migrating');

    const crash = run(main, ['up', '-d', 'crashy']);
    expect(crash.status).toBe(5);
    expect(crash.stderr).toMatch(/crashy exited 3 times in a row; gave up \(max_restarts = 2\)/);
    expect(crash.stderr).toMatch(/boom-\d+/);
    const st = ps(main);
    expect(st.crashy).toMatchObject({state: 'failed', restarts: 2});
  });

  test('restart on failure: flaky failed once and was restarted; a killed process comes back with a new pid', async () => {
    const st = ps(main);
    expect(st.flaky).toMatchObject({state: 'running', restarts: 1, ready: true});
    const old = st.flaky.pid!;
    process.kill(old, 'SIGKILL');
    const deadline = Date.now() + 20_000;
    let now = ps(main).flaky;
    while ((now.pid === old || now.state !== 'running') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      now = ps(main).flaky;
    }
    expect(now).toMatchObject({state: 'running', restarts: 2});
    expect(now.pid).not.toBe(old);
  });

  test('the worktree and the clone run their own servers on distinct ports; each client reaches its own', async () => {
    // The worktree seeds its databases from the main checkout's on first start.
    sh(main, `psql -X -q -c "INSERT INTO items VALUES ('from-main')" && mysql -e "CREATE TABLE t (v text); INSERT INTO t VALUES ('from-main')"`);
    const w = ok(run(wt, ['up', '-d', 'web']));
    expect(w.stdout).toMatch(new RegExp(`seeded database shop from ${main}`));
    expect(w.stdout).toMatch(/seeded databases shop from/);
    const c = ok(run(clone, ['up', '-d', 'web']));
    expect(c.stdout).not.toMatch(/seeded/);

    const ports = [main, wt, clone].map((d) => ps(d));
    for (const name of ['postgres', 'redis', 'mysql', 'web']) {
      const seen = ports.map((p) => p[name].port);
      expect(new Set(seen).size).toBe(3);
      for (const p of ports) expect(p[name].state).toBe('running');
    }
    for (const d of [main, wt, clone]) {
      // Plain clients, no arguments: this checkout's servers.
      const out = sh(d, `redis-cli set owner ${d} >/dev/null && redis-cli get owner && mysql -N -e "SELECT database(), @@port" && psql -X -tAc "select current_setting('port')" && echo $WEB_PORT $REDIS_PORT $MYSQL_TCP_PORT $PGPORT`).split('\n');
      const st = ps(d);
      expect(out[0]).toBe(d);
      expect(out[1]).toBe(`shop\t${st.mysql.port}`);
      expect(out[2]).toBe(String(st.postgres.port));
      expect(out[3]).toBe(`${st.web.port} ${st.redis.port} ${st.mysql.port} ${st.postgres.port}`);
      expect(await httpGet(st.web.port!)).toBe(d);
    }
  });

  test('the seeded worktree is independent of the main checkout afterwards', () => {
    expect(sh(wt, `psql -X -tAc "select string_agg(name, ',') from items"`)).toBe('from-main');
    expect(sh(wt, 'mysql -N -e "SELECT v FROM t"')).toBe('from-main');
    sh(wt, `psql -X -q -c "INSERT INTO items VALUES ('from-wt')" && mysql -e "INSERT INTO t VALUES ('from-wt')"`);
    expect(sh(main, `psql -X -tAc "select string_agg(name, ',' order by name) from items"`)).toBe('from-main');
    expect(sh(main, 'mysql -N -e "SELECT count(*) FROM t"')).toBe('1');
    expect(sh(wt, `psql -X -tAc "select count(*) from items"`)).toBe('2');
  });

  test('no secret on any command line: another local user watching /proc during the first up sees none', () => {
    const me = userInfo().username;
    const env = sh(main, 'echo "$DATABASE_URL"; echo "$MYSQL_URL"; echo "$REDIS_URL"').split('\n');
    const secret = (url: string) => decodeURIComponent(new URL(url).password);
    const secrets = env.map(secret).filter(Boolean);
    expect(secrets.length).toBeGreaterThanOrEqual(2);
    // The watch itself worked: it saw the servers and devenv's own set-up commands.
    expect(seen.cmdlines.some((c) => /\/mariadbd --no-defaults/.test(c))).toBe(true);
    expect(seen.cmdlines.some((c) => /\/redis-server /.test(c))).toBe(true);
    expect(seen.cmdlines.some((c) => /\/initdb -D/.test(c) && c.includes(`-U ${me}`))).toBe(true);
    for (const pw of secrets) expect(seen.cmdlines.filter((c) => c.includes(pw))).toEqual([]);
  });

  test("the database roles are the real user's, though the first up ran with USER=postgres", () => {
    const me = userInfo().username;
    const out = sh(main, `psql -X -tAc "select current_user, (select count(*) from pg_roles where rolname = 'postgres')" && mysql -N -e "select current_user()"`).split('\n');
    expect(out).toEqual([`${me}|0`, `${me}@127.0.0.1`]);
  });

  test('standard client variables: a plain postgres://localhost/<db> connects (PGPASSFILE); MYSQL_PWD and MYSQL_PORT', () => {
    const st = ps(main);
    // No password in the URL, no socket: libpq finds it in PGPASSFILE (node-postgres reads it too).
    const out = sh(main, [
      'psql -X -w postgres://localhost/shop -tAc "select current_database(), inet_server_addr(), current_setting(\'port\')"',
      'stat -c %a "$PGPASSFILE"',
      'echo "$PGPASSFILE"',
      // No my.cnf (--no-defaults): the password comes from MYSQL_PWD, the port from MYSQL_PORT.
      'mysql --no-defaults -h 127.0.0.1 -P "$MYSQL_PORT" -u "$MYSQL_USER" -N -e "select database(), @@port" shop',
      'echo "$MYSQL_PORT $MYSQL_TCP_PORT"',
    ].join(' && ')).split('\n');
    expect(out[0]).toBe(`shop|127.0.0.1|${st.postgres.port}`);
    expect(out[1]).toBe('600');
    expect(out[2].startsWith(main + '/')).toBe(false); // a secret never lands in the checkout
    expect(out[3]).toBe(`shop\t${st.mysql.port}`);
    expect(out[4]).toBe(`${st.mysql.port} ${st.mysql.port}`);
  });

  test('MariaDB liveness checks do not flood its log with "Aborted connection"', () => {
    const log = join(main, '.devenv', 'state', 'mysql.log');
    const aborted = () => (readFileSync(log, 'utf8').match(/Aborted connection/g) ?? []).length;
    const before = aborted();
    // Each ps and up asks the running server whether it is alive.
    for (let i = 0; i < 4; i++) expect(ps(main).mysql).toMatchObject({state: 'running', ready: true});
    expect(ok(run(main, ['up', '-d', 'mysql'])).stdout).toMatch(/mysql: already running/);
    sh(main, 'mysql -N -e "select 1"'); // the server has handled the checks' goodbyes by now
    expect(aborted()).toBe(before);
  });

  test("Redis has a password: REDIS_URL and the redis-cli wrapper carry it; without it, and for another local user, it refuses", async () => {
    const st = ps(main);
    const out = sh(main, 'echo "$REDIS_URL"; redis-cli ping; redis-cli -u "$REDIS_URL" --no-auth-warning ping; redis-cli -p "$REDIS_PORT" ping 2>&1; true').split('\n');
    expect(out[0]).toMatch(new RegExp(`^redis://default:[^@]{16,}@127\\.0\\.0\\.1:${st.redis.port}/0$`));
    expect(out.slice(1).filter(Boolean)).toEqual(['PONG', 'PONG', expect.stringMatching(/NOAUTH/)]);
    // The server reads the password from a private config file (the first-up watch above shows no command line holds it).
    const conf = join(st.redis.socketDir!, 'redis.conf');
    expect(readFileSync(conf, 'utf8')).toContain(`requirepass "${decodeURIComponent(new URL(out[0]).password)}"`);
    expect(statSync(conf).mode & 0o777).toBe(0o600);
    // Another local user reaches 127.0.0.1 but gets nothing without the password, and cannot read it.
    const other = nodeAsOtherUser(`
const s = require('net').createConnection(${st.redis.port}, '127.0.0.1');
let b = '';
s.on('connect', () => s.write('PING\\r\\nFLUSHALL\\r\\n'));
s.on('data', (d) => { b += d; if (b.split('\\r\\n').length > 2) { console.log(b.trim()); s.destroy(); } });
s.on('error', (e) => console.log('error', e.code));`);
    const r = await other.done;
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([expect.stringMatching(/^-NOAUTH/), expect.stringMatching(/^-NOAUTH/)]);
    const cat = await asOtherUser('cat', [conf]).done;
    expect(cat.status).not.toBe(0);
    expect(sh(main, 'redis-cli dbsize')).toMatch(/^\d+$/);
  });

  test('[env] may not set a service variable (file:line, nothing started); a [dotenv] file may, for your own shell', () => {
    const d = join(sb.dir, 'envclash');
    mkdirSync(d);
    writeFileSync(join(d, 'devenv.toml'), 'name = "clash"\npackages = ["coreutils"]\n\n[services.postgres]\n\n[env]\nGREETING = "hi"\nPGUSER = "app"\n');
    for (const args of [['up', '-d'], ['exec', '--', 'true']]) {
      const r = run(d, args);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/devenv\.toml:8:1: env\.PGUSER cannot be set: devenv sets it for \[services\.postgres\]/);
      expect(r.stderr).toContain('[dotenv]');
    }
    expect(existsSync(join(d, '.devenv', 'state', 'postgres'))).toBe(false);
    // The developer's own, uncommitted [dotenv] file may point their shell elsewhere.
    writeFileSync(join(main, '.env.local'), 'REDIS_URL=redis://cache.example:6379/0\n');
    ok(run(main, ['allow']));
    expect(sh(main, 'echo "$REDIS_URL"')).toBe('redis://cache.example:6379/0');
    rmSync(join(main, '.env.local'));
    ok(run(main, ['allow']));
  });

  test('a task is skipped while its sources are unchanged and runs again when they change', () => {
    const again = ok(run(main, ['up', '-d', 'web']));
    expect(again.stdout).toMatch(/migrate: skipped, its sources \(1 file\) are unchanged since its last success/);
    expect(again.stdout).toMatch(/web: already running/);
    writeFileSync(join(main, 'migrations', '002.sql'), 'CREATE TABLE IF NOT EXISTS more (x int);\n');
    const r = ok(run(main, ['run', 'migrate']));
    expect(r.stderr).toMatch(/migrate: done/);
    expect(ok(run(main, ['run', 'migrate'])).stderr).toMatch(/migrate: skipped/);
    expect(ok(run(main, ['run', 'migrate', '--force'])).stderr).toMatch(/migrate: done/);
  });

  test('devenv test runs [tasks.test] on throwaway servers and fresh ports, leaves the running ones alone, exits with its code', () => {
    const before = ps(main);
    // The test task comes after every process too: crashy must come up this time.
    writeFileSync(join(main, '.crashy-ok'), '');
    const t = ok(run(main, ['test'])); // on failure: devenv's own words, not just the code
    const ports = /TESTPORTS (\d+) (\d+) (\d+)/.exec(t.stdout);
    expect(ports).not.toBeNull();
    expect(Number(ports![1])).not.toBe(before.postgres.port);
    expect(Number(ports![2])).not.toBe(before.redis.port);
    expect(Number(ports![3])).not.toBe(before.mysql.port);
    expect(t.stdout).toContain('PONG');
    const after = ps(main);
    for (const n of ['postgres', 'redis', 'mysql', 'web']) expect(after[n]).toMatchObject({state: 'running', pid: before[n].pid});
    // The data of the developer's servers is untouched.
    expect(sh(main, 'psql -X -tAc "select count(*) from items"')).toBe('1');
    writeFileSync(join(main, '.test-exit'), '7\n');
    const failing = run(main, ['test']);
    rmSync(join(main, '.test-exit'));
    rmSync(join(main, '.crashy-ok'));
    expect(failing.status).toBe(7);
    // Nothing of the test instances is left: no port, no process.
    const reg = JSON.parse(readFileSync(join(sb.env.XDG_STATE_HOME!, 'devenv', 'ports.json'), 'utf8'));
    expect(Object.values(reg).filter((r) => String(r).includes('#test-'))).toEqual([]);
    expect(readdirSync('/tmp').filter((f) => f.startsWith('devenv-test-state-')).length).toBe(0);
  });

  test('logs shows a process log and a task log', () => {
    expect(ok(run(main, ['logs', 'web'])).stdout).toMatch(/serving on \d+ WEB_PORT \d+/);
    expect(ok(run(main, ['logs', 'migrate'])).stdout).toContain('migrating');
  });

  test('down leaves no process of any checkout behind', () => {
    for (const d of [main, wt, clone]) {
      const r = ok(run(d, ['down']));
      expect(r.stdout).toMatch(/web: stopped/);
      expect(r.stdout.indexOf('web: stopped')).toBeLessThan(r.stdout.indexOf('postgres: stopped'));
    }
    for (const d of [main, wt, clone]) expect(processesOf(d)).toEqual([]);
    for (const d of [main, wt, clone]) for (const s of Object.values(ps(d))) expect(['stopped']).toContain(s.state);
  });
});

describe('liveness without /proc', () => {
  test('with /proc hidden, up starts, ps reports, a killed process is restarted, down stops everything', async () => {
    const probe = spawnSync('unshare', ['--user', `--map-user=${process.getuid!()}`, `--map-group=${process.getgid!()}`, '--mount', '--keep-caps', 'sh', '-c', 'mount -t tmpfs none /proc && ls /proc | wc -l'], {encoding: 'utf8'});
    expect(probe.stdout.trim()).toBe('0');
    const r = devenvNoProc(main, ['up', '-d', 'flaky']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/postgres: started/);
    expect(r.stdout).toMatch(/redis: started/);
    expect(r.stdout).toMatch(/mysql: started/);
    const st = Object.fromEntries(JSON.parse(devenvNoProc(main, ['ps', '--json']).stdout).services.map((s: {name: string}) => [s.name, s]));
    for (const n of ['postgres', 'redis', 'mysql', 'web', 'flaky']) expect(st[n].state).toBe('running');
    // Truth from outside the namespace: these pids are the real servers.
    expect(readFileSync(`/proc/${st.redis.pid}/cmdline`, 'utf8')).toContain('redis-server');
    process.kill(st.flaky.pid, 'SIGKILL');
    const deadline = Date.now() + 20_000;
    let now = st.flaky;
    while ((now.pid === st.flaky.pid || now.state !== 'running') && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 200));
      now = JSON.parse(devenvNoProc(main, ['ps', '--json']).stdout).services.find((s: {name: string}) => s.name === 'flaky');
    }
    expect(now.state).toBe('running');
    expect(now.pid).not.toBe(st.flaky.pid);
    // A second up inside the namespace starts nothing again.
    const again = devenvNoProc(main, ['up', '-d', 'flaky']);
    expect(again.status).toBe(0);
    expect(again.stdout).not.toMatch(/: started/);
    const down = devenvNoProc(main, ['down']);
    expect(down.status).toBe(0);
    expect(processesOf(main)).toEqual([]);
  });
});

describe('faults', () => {
  let holder: Server;
  afterAll(() => holder?.close());

  test('a port taken by another program: its pid is named and a free port offered', async () => {
    const st = ps(main);
    holder = createServer();
    await new Promise<void>((r) => holder.listen(st.redis.port, '127.0.0.1', () => r()));
    const r = run(main, ['up', '-d', 'redis']);
    expect(r.status).toBe(5);
    expect(r.stderr).toMatch(new RegExp(`port ${st.redis.port} on 127.0.0.1 is already in use by pid ${process.pid}`));
    expect(r.stderr).toMatch(/or use port \d+ \(free now\): port = \d+ under \[services\.redis\]/);
    await new Promise<void>((r2) => holder.close(() => r2()));
  });

  test('state deleted while running is reported; down still stops it', () => {
    ok(run(clone, ['up', '-d', 'redis', 'postgres']));
    const before = ps(clone);
    rmSync(join(clone, '.devenv', 'state'), {recursive: true, force: true});
    const st = ps(clone);
    for (const n of ['redis', 'postgres']) {
      expect(st[n]).toMatchObject({state: 'deleted', pid: before[n].pid});
      expect(st[n].detail).toMatch(/was deleted while it runs; 'devenv down' stops it/);
    }
    const down = ok(run(clone, ['down']));
    expect(down.stdout).toMatch(/redis: stopped/);
    expect(down.stdout).toMatch(/postgres: stopped/);
    expect(alive(before.redis.pid!)).toBe(false);
    expect(alive(before.postgres.pid!)).toBe(false);
  });

  test('two up at once start each thing once', async () => {
    const runAsync = () =>
      new Promise<{code: number | null; out: string}>((resolve) => {
        const c = spawn(process.execPath, [DEVENV, 'up', '-d', 'flaky'], {cwd: clone, env: {...sb.env, PWD: clone}});
        let out = '';
        c.stdout.on('data', (d) => (out += d));
        c.stderr.on('data', (d) => (out += d));
        c.on('close', (code) => resolve({code, out}));
      });
    rmSync(join(clone, '.flaky-ok'), {force: true});
    const [a, b] = await Promise.all([runAsync(), runAsync()]);
    expect([a.code, b.code]).toEqual([0, 0]);
    for (const n of ['postgres', 'redis', 'mysql', 'web', 'flaky']) {
      const starts = [a.out, b.out].filter((o) => new RegExp(`^${n}: started`, 'm').test(o)).length;
      expect(starts).toBe(1);
    }
    const servers = processesOf(clone).filter((p) => /redis-server|mariadbd|postgres/.test(readFileSync(`/proc/${p}/comm`, 'utf8')));
    expect(servers.filter((p) => readFileSync(`/proc/${p}/comm`, 'utf8').startsWith('redis-server')).length).toBe(1);
    expect(servers.filter((p) => readFileSync(`/proc/${p}/comm`, 'utf8').startsWith('mariadbd')).length).toBe(1);
    ok(run(clone, ['down']));
    expect(processesOf(clone)).toEqual([]);
  });

  test('foreground up: coloured prefixes per name; Ctrl-C stops what it started in reverse order', async () => {
    const c = spawn(process.execPath, [DEVENV, 'up', 'web'], {cwd: clone, env: {...sb.env, PWD: clone, FORCE_COLOR: '1'}});
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => c.on('close', (code) => r(code)));
    const deadline = Date.now() + 120_000;
    while (!/web: started/.test(err) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(err).toMatch(/web: started/);
    // The server's own lines, each with its coloured name prefix.
    while (!/serving on/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(out).toMatch(/\x1b\[\d+mweb +\| \x1b\[0mserving on \d+/);
    expect(out).toMatch(/\x1b\[\d+mredis +\| \x1b\[0m.*Ready to accept connections/);
    expect(out).toMatch(/\x1b\[\d+mpostgres +\| \x1b\[0m.*database system is ready/);
    c.kill('SIGINT');
    expect(await exited).toBe(0);
    const order = ['web', 'mysql', 'redis', 'postgres'].map((n) => err.indexOf(`${n}: stopped`));
    for (const i of order) expect(i).toBeGreaterThan(-1);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(processesOf(clone)).toEqual([]);
  });

  test('gc reclaims the ports and state of a checkout that no longer exists', () => {
    const reg = () => JSON.parse(readFileSync(join(sb.env.XDG_STATE_HOME!, 'devenv', 'ports.json'), 'utf8')) as Record<string, string>;
    expect(Object.values(reg()).filter((r) => r === wt).length).toBeGreaterThanOrEqual(4);
    ok(run(wt, ['down']));
    git(main, 'worktree', 'remove', '--force', wt);
    const r = ok(run(main, ['gc']));
    expect(r.stdout).toMatch(new RegExp(`reclaimed \\d+ port\\(s\\) and the state of 1 vanished checkout\\(s\\): ${wt}`));
    expect(Object.values(reg()).filter((x) => x === wt)).toEqual([]);
    expect(Object.values(reg()).filter((x) => x === main).length).toBeGreaterThanOrEqual(4);
  });
});
