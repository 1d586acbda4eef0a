// Orchestration that a team can trust (issue 20): `devenv test` and fixed ports, the test task
// after everything, recorded pids proven before they are signalled, a removed worktree's
// servers, readiness that ends on Ctrl-C / down / timeout, task definitions in the sources
// memo, port-variable collisions, services after a task. Real CLI, real Nix (offline
// fixture), real servers, as the unprivileged test user.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawn, type ChildProcess, type SpawnSyncReturns} from 'node:child_process';
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {createServer, type Server} from 'node:net';
import {join} from 'node:path';
import {git, repoWithWorktree} from '../helpers/checkouts.js';
import {DEVENV, makeSandbox, type Sandbox} from '../helpers/env.js';
import {alive, processesOf} from '../helpers/procs.js';

let sb: Sandbox;
let main: string;
let wt: string;
let tls: string;
let fixedPort: number;
const dirs: string[] = [];
const foreign: ChildProcess[] = [];

const toml = (extra = '') => `name = "orch"
packages = ["coreutils", "python311"]

[services.postgres]

[services.redis]
port = ${fixedPort}

[processes.ticker]
exec = "touch .ticker-up; echo ticking; exec sleep 100000"

[processes.slow]
exec = "echo slow-started; exec sleep 100000"
ready = {exec = "test -f .slow-ok"}
${extra}
[processes.web]
exec = "exec python3 -m http.server $PORT --bind 127.0.0.1"
port = "auto"
ready = "tcp"

[tasks.gen]
exec = "echo gen-run >> .gen.log"
sources = ["gen.txt"]

[tasks.test]
exec = "psql -X -tAc 'select 40+2' && redis-cli ping && test -f .ticker-up && echo TESTREDIS $REDIS_PORT"
`;

const run = (cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> => sb.devenv(args, {cwd, env, timeout: 300_000});
const ok = (r: SpawnSyncReturns<string>): SpawnSyncReturns<string> => {
  if (r.status !== 0) throw new Error(`devenv exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
  return r;
};
const ps = (cwd: string): Record<string, {state: string; pid?: number; port?: number}> => Object.fromEntries(JSON.parse(ok(run(cwd, ['ps', '--json'])).stdout).services.map((s: {name: string}) => [s.name, s]));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port (the kernel's choice). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as {port: number}).port;
      s.close(() => resolve(p));
    });
  });
}

/** devenv in the background, its output collected. */
function bg(cwd: string, args: string[]): {child: ChildProcess; out: () => string; done: Promise<number | null>} {
  const child = spawn(process.execPath, [DEVENV, ...args], {cwd, env: {...sb.env, PWD: cwd}});
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const done = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return {child, out: () => out, done};
}

async function until(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The keeper state file of a process of the main checkout (in the user's state dir). */
function stateFile(name: string): string {
  const base = join(sb.env.XDG_STATE_HOME!, 'devenv', 'projects');
  for (const id of readdirSync(base)) {
    const f = join(base, id, 'processes', `${name}.state.json`);
    if (existsSync(f) && readFileSync(join(base, id, 'processes', `${name}.spec.json`), 'utf8').includes(main)) return f;
  }
  throw new Error(`no state file for ${name}`);
}

beforeAll(async () => {
  sb = makeSandbox('devenv-orch-');
  fixedPort = await freePort();
  main = join(sb.dir, 'main');
  mkdirSync(main);
  writeFileSync(join(main, 'devenv.toml'), toml());
  writeFileSync(join(main, 'gen.txt'), 'one\n');
  writeFileSync(join(main, '.gitignore'), '.devenv/\n.ticker-up\n.gen.log\n.slow-ok\n');
  // slow is ready while this file exists (the readiness tests remove it).
  writeFileSync(join(main, '.slow-ok'), '');
  wt = repoWithWorktree(sb, main);
  dirs.push(main, wt);
  for (const d of dirs) ok(run(d, ['allow']));
}, 600_000);

afterAll(() => {
  for (const c of foreign) c.kill('SIGKILL');
  for (const d of [...dirs, tls].filter(Boolean)) run(d, ['down']);
  const left = [...dirs, tls].filter(Boolean).flatMap((d) => processesOf(d));
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  sb.cleanup();
  if (left.length) throw new Error(`processes outlived the tests: ${left.join(' ')}`);
}, 300_000);

describe('devenv test', () => {
  test('a fixed port is the port the tests get when it is free, and the test task starts once every service and process is ready', () => {
    const t = ok(run(main, ['test']));
    // No `after` in [tasks.test]: PostgreSQL was initialised and ready, the process running.
    expect(t.stdout).toMatch(/^test +\| 42$/m);
    expect(t.stdout).toContain('PONG');
    expect(t.stdout).toContain(`TESTREDIS ${fixedPort}`);
    expect(ps(main).redis.state).toBe('stopped');
  });

  test("with the developer's Redis on the fixed port, devenv test refuses in one line and touches nothing", () => {
    ok(run(main, ['up', '-d', 'redis']));
    const mine = ps(main).redis;
    expect(mine.port).toBe(fixedPort);
    ok(run(main, ['exec', '--', 'redis-cli', 'set', 'precious', 'data']));
    const t = run(main, ['test']);
    expect(t.status).toBe(5);
    expect(t.stderr).toContain(`redis needs port ${fixedPort} (fixed in devenv.toml), which your running redis (pid ${mine.pid}) holds`);
    expect(t.stderr).toMatch(/stop yours first \('devenv down redis'\), or remove port = \d+ from \[services\.redis\]/);
    // Nothing ran against it: no server started, the data is there.
    expect(t.stdout).not.toContain('PONG');
    expect(t.stderr).not.toMatch(/postgres: started/);
    expect(ok(run(main, ['exec', '--', 'redis-cli', 'get', 'precious'])).stdout.trim()).toBe('data');
    expect(ps(main).redis).toMatchObject({state: 'running', pid: mine.pid});
    ok(run(main, ['down', 'redis']));
  });
});

describe('recorded pids are proven before they are signalled', () => {
  test('a state file naming live pids of other programs (pid reuse, a reboot): up does not call it running, down leaves them alone', async () => {
    ok(run(main, ['up', '-d', 'ticker']));
    const file = stateFile('ticker');
    const real = JSON.parse(readFileSync(file, 'utf8'));
    // "The machine went down": the keeper and its process are gone, their state file stays.
    process.kill(real.keeperPid, 'SIGKILL');
    process.kill(-real.pid, 'SIGKILL');
    await until('the keeper to die', () => !alive(real.keeperPid) && !alive(real.pid));
    // Now another program of the user holds those pids (as after a reboot, or a wrap-around).
    const other = spawn('sleep', ['1000'], {detached: true, stdio: 'ignore'});
    foreign.push(other);
    const stat = readFileSync(`/proc/${other.pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    for (const variant of ['reused', 'rebooted']) {
      // reused: same boot, another process's start time; rebooted: the start time matches, the boot does not.
      const id = variant === 'reused' ? real.keeperId : {...real.keeperId, boot: '00000000-0000-0000-0000-000000000000', bootAt: 1, start};
      writeFileSync(file, JSON.stringify({...real, keeperPid: other.pid, pid: other.pid, keeperId: id, pidId: id, state: 'running', ready: true}));
      expect(ps(main).ticker.state).not.toBe('running');
      const down = ok(run(main, ['down', 'ticker']));
      expect(down.stdout).not.toMatch(/ticker: stopped/);
      expect(alive(other.pid!)).toBe(true);
    }
    writeFileSync(file, JSON.stringify({...real, keeperPid: other.pid, pid: other.pid, state: 'running', ready: true}));
    const up = ok(run(main, ['up', '-d', 'ticker']));
    expect(up.stdout).not.toMatch(/already running/);
    expect(up.stdout).toMatch(/ticker: started/);
    expect(ps(main).ticker.pid).not.toBe(other.pid);
    expect(alive(other.pid!)).toBe(true);
    ok(run(main, ['down', 'ticker']));
    expect(alive(other.pid!)).toBe(true);
  });
});

describe('readiness', () => {
  let holder: Server | undefined;
  beforeAll(() => rmSync(join(main, '.slow-ok')));
  afterAll(() => {
    holder?.close();
  });

  test("a process whose port another program holds is refused before it starts, naming the holder", async () => {
    const port = ps(main).web.port!;
    holder = createServer();
    await new Promise<void>((r) => holder!.listen(port, '127.0.0.1', () => r()));
    const r = run(main, ['up', '-d', 'web']);
    expect(r.status).toBe(5);
    expect(r.stderr).toMatch(new RegExp(`web: port ${port} on 127.0.0.1 is already in use by pid ${process.pid}`));
    expect(r.stderr).toMatch(/under \[processes\.web\]/);
    expect(ps(main).web.state).toBe('stopped');
    await new Promise<void>((r2) => holder!.close(() => r2()));
    holder = undefined;
  });

  test('Ctrl-C of a foreground up during a readiness wait stops what it started at once', async () => {
    const up = bg(main, ['up', 'slow']);
    await until('slow to wait for readiness', () => /slow: waiting for it to be ready/.test(up.out()));
    const pid = ps(main).slow.pid!;
    expect(alive(pid)).toBe(true);
    const t0 = Date.now();
    up.child.kill('SIGINT');
    expect(await up.done).toBe(130);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(alive(pid)).toBe(false);
    expect(ps(main).slow.state).toBe('stopped');
    expect(ok(run(main, ['logs', 'slow'])).stdout).toMatch(/slow stopped by Ctrl-C of devenv up/);
  });

  test("a Ctrl-C'd foreground up is logged as such, not as 'stopped by devenv down'", async () => {
    const up = bg(main, ['up', 'ticker']);
    await until('ticker to start', () => /ticker: started/.test(up.out()));
    up.child.kill('SIGINT');
    expect(await up.done).toBe(0);
    const log = ok(run(main, ['logs', 'ticker'])).stdout.trim().split('\n');
    expect(log[log.length - 1]).toMatch(/ticker stopped by Ctrl-C of devenv up/);
  });

  test("down during another up's readiness wait stops it instead of waiting silently", async () => {
    const up = bg(main, ['up', '-d', 'slow']);
    await until('slow to wait for readiness', () => /slow: waiting for it to be ready/.test(up.out()));
    const pid = ps(main).slow.pid!;
    const t0 = Date.now();
    const down = ok(run(main, ['down']));
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(await up.done).toBe(5);
    expect(up.out()).toMatch(/slow: start interrupted by devenv down/);
    expect(alive(pid)).toBe(false);
    expect(down.status).toBe(0);
    expect(ps(main).slow.state).toBe('stopped');
  }, 90_000);

  test('up -d that times out stops the unit that did not become ready', () => {
    writeFileSync(join(main, 'devenv.toml'), toml('ready_timeout = 3\n'));
    const r = run(main, ['up', '-d', 'slow']);
    expect(r.status).toBe(5);
    expect(r.stderr).toMatch(/slow did not become ready within 3s/);
    expect(ps(main).slow.state).toBe('stopped');
    expect(processesOf(main).filter((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('sleep'))).toEqual([]);
    writeFileSync(join(main, 'devenv.toml'), toml());
  });
});

describe('tasks', () => {
  test("a task with sources runs again when its own exec, env or after changed", () => {
    writeFileSync(join(main, 'devenv.toml'), toml());
    const count = () => readFileSync(join(main, '.gen.log'), 'utf8').trim().split('\n').length;
    expect(ok(run(main, ['run', 'gen'])).stderr).toMatch(/gen: done/);
    expect(ok(run(main, ['run', 'gen'])).stderr).toMatch(/gen: skipped/);
    expect(count()).toBe(1);
    const edits: [string, string][] = [
      ['exec = "echo gen-run >> .gen.log"', 'exec = "echo gen-run; echo gen-run >> .gen.log"'],
      ['sources = ["gen.txt"]', 'sources = ["gen.txt"]\nenv = {GEN_MODE = "fast"}'],
      ['sources = ["gen.txt"]', 'sources = ["gen.txt"]\nafter = ["web"]'],
    ];
    let text = toml();
    for (const [from, to] of edits) {
      text = text.replace(from, to);
      writeFileSync(join(main, 'devenv.toml'), text);
      // `up gen` runs only the task's plan; after = ["web"] starts web first.
      const r = ok(run(main, ['up', '-d', 'gen']));
      expect(r.stdout + r.stderr).toMatch(/gen: done/);
    }
    expect(count()).toBe(4);
    expect(ok(run(main, ['up', '-d', 'gen'])).stdout).toMatch(/gen: skipped/);
    ok(run(main, ['down']));
    writeFileSync(join(main, 'devenv.toml'), toml());
  });

  test('process port variables that collide are refused at parse time with file:line', () => {
    const bad = join(sb.dir, 'bad');
    mkdirSync(bad);
    const cases: [string, RegExp][] = [
      ['[services.mysql]\n\n[processes.mysql-tcp]\nexec = "true"\nport = "auto"\n', /devenv\.toml:5:\d+: processes\.mysql-tcp: its port variable MYSQL_TCP_PORT is the one \[services\.mysql\] sets/],
      ['[processes.api_v2]\nexec = "true"\nport = 9001\n\n[processes.api-v2]\nexec = "true"\nport = "auto"\n', /devenv\.toml:7:\d+: processes\.api-v2: its port variable API_V2_PORT is also processes\.api_v2's/],
    ];
    for (const [text, want] of cases) {
      writeFileSync(join(bad, 'devenv.toml'), `name = "bad"\n\n${text}`);
      for (const cmd of [['generate'], ['up', '-d']]) {
        const r = run(bad, cmd);
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(want);
      }
      expect(existsSync(join(bad, 'flake.nix'))).toBe(false);
    }
  });
});

describe('a removed worktree', () => {
  test("its servers are reported by ps in the other checkout, stopped by gc, and their ports freed", () => {
    ok(run(wt, ['up', '-d', 'postgres', 'ticker', 'web']));
    const st = ps(wt);
    const pids = ['postgres', 'ticker', 'web'].map((n) => st[n].pid!);
    for (const p of pids) expect(alive(p)).toBe(true);
    git(main, 'worktree', 'remove', '--force', wt);
    expect(existsSync(wt)).toBe(false);
    const p = ok(run(main, ['ps']));
    expect(p.stdout).toMatch(new RegExp(`${wt} \\(a removed checkout of this repository\\) still runs: .*postgres \\(pid ${st.postgres.pid}\\).*'devenv gc' stops them`));
    expect(p.stdout).toMatch(/web \(pid \d+\)/);
    expect(p.stdout).toMatch(/ticker \(pid \d+\)/);
    const g = ok(run(main, ['gc']));
    expect(g.stdout).toMatch(new RegExp(`stopped what the removed checkout ${wt} still ran: .*postgres`));
    expect(g.stdout).toMatch(new RegExp(`reclaimed \\d+ port\\(s\\) and the state of 1 vanished checkout\\(s\\): ${wt}`));
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(processesOf(wt)).toEqual([]);
    const reg = JSON.parse(readFileSync(join(sb.env.XDG_STATE_HOME!, 'devenv', 'ports.json'), 'utf8')) as Record<string, string>;
    expect(Object.values(reg).filter((r) => r.startsWith(wt))).toEqual([]);
    expect(ok(run(main, ['ps'])).stdout).not.toContain(wt);
  });
});

describe('services after a task', () => {
  test('PostgreSQL starts after the task that makes its certificates; ./ paths in settings work under up and devenv test', () => {
    tls = join(sb.dir, 'tls');
    mkdirSync(tls);
    writeFileSync(
      join(tls, 'devenv.toml'),
      `name = "tls"
packages = ["coreutils", "openssl"]

[services.postgres]
after = ["certs"]
settings = {ssl = "on", ssl_cert_file = "./certs/server.crt", ssl_key_file = "./certs/server.key"}

[tasks.certs]
exec = "mkdir -p certs && openssl req -x509 -newkey rsa:2048 -nodes -keyout certs/server.key -out certs/server.crt -days 2 -subj /CN=localhost 2>/dev/null && chmod 600 certs/server.key && echo made-certs"
sources = ["certs.conf"]

[tasks.test]
exec = "PGSSLMODE=require psql -X -tAc 'select ssl from pg_stat_ssl where pid = pg_backend_pid()' \\"$DATABASE_URL\\""
`,
    );
    writeFileSync(join(tls, 'certs.conf'), 'CN=localhost\n');
    ok(run(tls, ['allow']));
    const up = ok(run(tls, ['up', '-d']));
    expect(up.stdout).toMatch(/certs: done/);
    expect(up.stdout.indexOf('certs: done')).toBeLessThan(up.stdout.indexOf('postgres: started'));
    expect(ok(run(tls, ['exec', '--', 'bash', '-c', `PGSSLMODE=require psql -X -tAc 'select ssl from pg_stat_ssl where pid = pg_backend_pid()' "$DATABASE_URL"`])).stdout.trim()).toBe('t');
    ok(run(tls, ['down']));
    const t = ok(run(tls, ['test']));
    expect(t.stdout.trim().split('\n').pop()).toMatch(/^test +\| t$/);
  });
});
