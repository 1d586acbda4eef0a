// The pure parts of issue 12: devenv.toml's processes and tasks (schema and graph), globs for
// task sources, the order `up` starts things in, the servers' arguments and client variables.
// Real servers run in test/integration/services-project.test.ts.
import {describe, expect, test} from '@jest/globals';
import {mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {ManifestError} from '../../src/errors.js';
import {nixAttributes, SERVICE_VARS} from '../../src/manifest/model.js';
import {parseManifest} from '../../src/manifest/parse.js';
import {checkGraph, closure, topoOrder} from '../../src/services/index.js';
import {mysqlArgs, mysqlEnv, type MysqlLayout} from '../../src/services/mysql.js';
import {prefixer} from '../../src/services/orchestrate.js';
import {authPing, authPingAnswer, redisArgs, redisConfFile, redisEnv} from '../../src/services/redis.js';
import {portVar, postgresEnv, writePgpass} from '../../src/services/registry.js';
import {checkProcessPortVars} from '../../src/manifest/port-vars.js';
import {globToRegExp, matchSources, sourcesDigest} from '../../src/services/tasks.js';
import {githubWorkflow} from '../../src/usecases/generate.js';

const manifestError = (toml: string): ManifestError => {
  try {
    const m = parseManifest(toml);
    checkGraph(m);
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    return e as ManifestError;
  }
  throw new Error('no error');
};

describe('devenv.toml: services, processes, tasks', () => {
  test('a whole project parses; redis and mariadb join the packages', () => {
    const m = parseManifest(`name = "app"
[services.postgres]
seed = "main"
[services.redis]
settings = {maxmemory = "64mb"}
[services.mysql]
databases = ["app", "app_test"]
[tasks.migrate]
exec = "alembic upgrade head"
after = ["postgres"]
sources = ["migrations/**/*.py"]
[processes.web]
exec = "uvicorn app:app --port $PORT"
port = "auto"
ready = {http = "/health"}
after = ["migrate", "redis"]
restart = "always"
max_restarts = 3
env = {LOG_LEVEL = "debug"}
`);
    checkGraph(m);
    expect(nixAttributes(m)).toEqual(['postgresql_15', 'redis', 'mariadb']);
    expect(m.processes!.web).toMatchObject({port: 'auto', ready: {http: '/health'}, restart: 'always'});
  });

  test('bad values are named with their key', () => {
    expect(manifestError('[processes.web]\nexec = "x"\nrestart = "sometimes"\n').message).toMatch(/processes\.web\.restart must be one of never, on-failure, always/);
    expect(manifestError('[processes.web]\nport = "auto"\n').message).toMatch(/exec/);
    expect(manifestError('[processes.Web]\nexec = "x"\n').message).toMatch(/Web/);
    expect(manifestError('[processes.postgres]\nexec = "x"\n').message).toMatch(/postgres/);
    expect(manifestError('[tasks.t]\nexec = "x"\nsources = ["/etc/passwd"]\n').message).toMatch(/tasks\.t\.sources/);
    expect(manifestError('[services.redis]\nport = 80\n').message).toMatch(/services\.redis\.port must be >= 1024/);
    expect(manifestError('[services.mysql]\ndatabases = ["a;drop"]\n').message).toMatch(/services\.mysql\.databases/);
  });

  test('after must name something that exists, and not make a cycle', () => {
    expect(manifestError('[processes.web]\nexec = "x"\nafter = ["db"]\n').message).toMatch(/processes\.web\.after names 'db', which is no service, process or task/);
    expect(manifestError('[tasks.a]\nexec = "x"\nafter = ["b"]\n[tasks.b]\nexec = "x"\nafter = ["a"]\n').message).toMatch(/cycle: (a -> b -> a|b -> a -> b)/);
    expect(manifestError('[tasks.a]\nexec = "x"\nafter = ["a"]\n').message).toMatch(/after itself/);
    expect(manifestError('[tasks.x]\nexec = "x"\n[processes.x]\nexec = "y"\n').message).toMatch(/both a process and a task/);
    // after a service that is not enabled
    expect(manifestError('[processes.web]\nexec = "x"\nafter = ["redis"]\n').message).toMatch(/names 'redis'/);
  });
});

describe('order', () => {
  const deps = new Map<string, string[]>([
    ['postgres', []],
    ['redis', []],
    ['migrate', ['postgres']],
    ['web', ['migrate', 'redis']],
    ['worker', ['redis']],
  ]);
  test('each unit comes after what it names; stop order is the reverse', () => {
    const order = topoOrder(['postgres', 'redis', 'web', 'worker', 'migrate'], deps);
    expect(order).toEqual(['postgres', 'redis', 'migrate', 'web', 'worker']);
  });
  test('up <name> takes what it needs and nothing else', () => {
    expect([...closure(['web'], deps)].sort()).toEqual(['migrate', 'postgres', 'redis', 'web']);
    expect([...closure(['worker'], deps)].sort()).toEqual(['redis', 'worker']);
  });
});

describe('task sources', () => {
  test('globs', () => {
    expect(globToRegExp('src/**/*.ts').test('src/a/b/c.ts')).toBe(true);
    expect(globToRegExp('src/**/*.ts').test('src/c.ts')).toBe(true);
    expect(globToRegExp('src/*.ts').test('src/a/c.ts')).toBe(false);
    expect(globToRegExp('*.{sql,py}').test('x.py')).toBe(true);
    expect(globToRegExp('a?.txt').test('ab.txt')).toBe(true);
    expect(globToRegExp('a.txt').test('abtxt')).toBe(false);
  });

  test('the digest follows content, not mtimes; .git, .devenv and symlinked dirs are not walked', () => {
    const d = mkdtempSync(join(tmpdir(), 'devenv-src-'));
    try {
      mkdirSync(join(d, 'm'));
      mkdirSync(join(d, '.devenv', 'm'), {recursive: true});
      writeFileSync(join(d, 'm', '1.sql'), 'a');
      writeFileSync(join(d, '.devenv', 'm', '2.sql'), 'b');
      symlinkSync('/etc', join(d, 'm', 'etc'));
      expect(matchSources(d, ['**/*.sql'])).toEqual(['m/1.sql']);
      const a = sourcesDigest(d, ['m/*.sql']);
      writeFileSync(join(d, 'm', '1.sql'), 'a'); // same content, new mtime
      expect(sourcesDigest(d, ['m/*.sql']).digest).toBe(a.digest);
      writeFileSync(join(d, 'm', '1.sql'), 'b');
      expect(sourcesDigest(d, ['m/*.sql']).digest).not.toBe(a.digest);
      writeFileSync(join(d, 'm', '1.sql'), 'a');
      writeFileSync(join(d, 'm', '3.sql'), '');
      expect(sourcesDigest(d, ['m/*.sql']).files).toBe(2);
    } finally {
      rmSync(d, {recursive: true, force: true});
    }
  });
});

describe('servers', () => {
  const base = {port: 23456, dataDir: '/p/.devenv/state/x', logFile: '/p/x.log', socketDir: '/run/d/x-abc', socket: '/run/d/x-abc/s.sock', pidFile: '/run/d/x-abc/x.pid'};
  const rl = {...base, password: 'pw/+:@x', passwordFile: '/s/redis.password'};
  test('redis listens on 127.0.0.1 and its private socket; managed settings cannot be overridden; the password is in its config file only', () => {
    const {args, ignored} = redisArgs({...rl, settings: {maxmemory: '64mb', port: 1, bind: '0.0.0.0', appendonly: true, requirepass: 'known'}});
    expect(args[0]).toBe(redisConfFile(rl));
    expect(args.join(' ')).toContain('--port 23456 --bind 127.0.0.1 --unixsocket /run/d/x-abc/s.sock --unixsocketperm 700');
    expect(args.join(' ')).toContain('--maxmemory 64mb --appendonly yes');
    expect(args.join(' ')).not.toContain('pw/');
    expect(args.join(' ')).not.toContain('known');
    expect(ignored).toEqual(['port', 'bind', 'requirepass']);
    expect(redisEnv(rl)).toEqual({REDIS_URL: 'redis://default:pw%2F%2B%3A%40x@127.0.0.1:23456/0', REDIS_HOST: '127.0.0.1', REDIS_PORT: '23456', REDIS_SOCKET: '/run/d/x-abc/s.sock'});
  });

  test('redis liveness: AUTH then PING; an error or a server without our password is not alive, an old passwordless one is', () => {
    expect(authPing('a b')).toBe('*2\r\n$4\r\nAUTH\r\n$3\r\na b\r\n*1\r\n$4\r\nPING\r\n');
    expect(authPingAnswer(Buffer.from('+OK\r\n'))).toBeUndefined();
    expect(authPingAnswer(Buffer.from('+OK\r\n+PONG\r\n'))).toBe(true);
    expect(authPingAnswer(Buffer.from('-WRONGPASS invalid username-password pair or user is disabled.\r\n'))).toBe(false);
    expect(authPingAnswer(Buffer.from('-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n+PONG\r\n'))).toBe(true);
  });

  test('service variables: the servers set exactly the names [env] may not set', () => {
    expect(Object.keys(redisEnv(rl)).sort()).toEqual([...SERVICE_VARS.redis].sort());
    const ml: MysqlLayout = {...base, user: 'me', password: 'p', database: 'app', databases: ['app'], home: '/h'};
    expect([...Object.keys(mysqlEnv(ml)), 'DATABASE_URL'].sort()).toEqual([...SERVICE_VARS.mysql].sort());
    const pl = {port: 1, dataDir: '/d', socketDir: '/s', logFile: '/l', user: 'me', database: 'app', version: 15, passwordFile: '/p', password: 'x', pgpassFile: '/pp'};
    expect(Object.keys(postgresEnv(pl)).sort()).toEqual([...SERVICE_VARS.postgres].sort());
  });

  test('PGPASSFILE: entries for this server only, fields escaped, 0600', () => {
    const d = mkdtempSync(join(tmpdir(), 'pgpass-'));
    try {
      const f = join(d, 'pgpass');
      writePgpass(f, 24001, 'a:b\\c', 'p:w');
      expect(readFileSync(f, 'utf8')).toBe('localhost:24001:*:a\\:b\\\\c:p\\:w\n127.0.0.1:24001:*:a\\:b\\\\c:p\\:w\n');
      expect(statSync(f).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(d, {recursive: true, force: true});
    }
  });

  test('[env] may not set a service or process variable of this project; without that service it may', () => {
    const e = manifestError('[services.redis]\n[processes.web]\nexec = "x"\nport = "auto"\n\n[env]\nA = "1"\nREDIS_URL = "redis://elsewhere"\n');
    expect(e.message).toContain('env.REDIS_URL cannot be set: devenv sets it for [services.redis]');
    expect(e.location).toBe('devenv.toml:8:1');
    expect(e.hint).toContain('[dotenv]');
    expect(manifestError('[processes.web-api]\nexec = "x"\nport = 3000\n[env]\nWEB_API_PORT = "1"\n').message).toContain('[processes.web-api]');
    expect(parseManifest('[services.redis]\n[env]\nPGHOST = "db.example"\nWEB_PORT = "1"\n').env).toEqual({PGHOST: 'db.example', WEB_PORT: '1'});
    expect(parseManifest('[services.postgres]\nenable = false\n[env]\nDATABASE_URL = "x"\n').env).toEqual({DATABASE_URL: 'x'});
  });

  test('mysql: no option files of the host, 127.0.0.1 only; the clients find it through MYSQL_HOME', () => {
    const l: MysqlLayout = {...base, user: 'me', password: 'p@ss', database: 'app', databases: ['app'], home: '/s/mysql-home', settings: {'bind-address': '0.0.0.0', 'max-connections': 20}};
    const args = mysqlArgs(l);
    expect(args[0]).toBe('--no-defaults');
    expect(args).toContain('--bind-address=127.0.0.1');
    expect(args).not.toContain('--bind-address=0.0.0.0');
    expect(args).toContain('--max-connections=20');
    expect(mysqlEnv(l)).toMatchObject({MYSQL_TCP_PORT: '23456', MYSQL_PORT: '23456', MYSQL_PWD: 'p@ss', MYSQL_UNIX_PORT: '/run/d/x-abc/s.sock', MYSQL_HOME: '/s/mysql-home', MYSQL_URL: 'mysql://me:p%40ss@127.0.0.1:23456/app'});
  });

  test("a process whose port variable a service sets is refused: the services' own variable list decides", () => {
    for (const [name, svc] of [['redis', 'redis'], ['mysql-tcp', 'mysql'], ['mysql', 'mysql']]) {
      const m = {processes: {[name]: {exec: 'true', port: 'auto'}}} as unknown as Parameters<typeof checkProcessPortVars>[0];
      expect(() => checkProcessPortVars(m, '', 'devenv.toml')).toThrow(`is the one [services.${svc}] sets`);
    }
    expect(() => checkProcessPortVars({processes: {pg: {exec: 'true', port: 'auto'}}} as unknown as Parameters<typeof checkProcessPortVars>[0], '', 'devenv.toml')).not.toThrow();
  });

  test('process port variables and coloured prefixes', () => {
    expect(portVar('web-api')).toBe('WEB_API_PORT');
    const plain = prefixer(['postgres', 'web'], false);
    expect(plain('web')).toBe('web      | ');
    const col = prefixer(['postgres', 'web'], true);
    expect(col('postgres')).toBe('\x1b[36mpostgres | \x1b[0m');
    expect(col('web')).not.toBe(col('postgres'));
  });
});

test('the GitHub workflow installs Nix, restores the Nix cache and runs devenv test', () => {
  const w = githubWorkflow();
  expect(w).toMatch(/uses: cachix\/install-nix-action@v\d+/);
  expect(w).toMatch(/uses: nix-community\/cache-nix-action@v\d+/);
  expect(w).toMatch(/\n {10}devenv test\n/);
  expect(w).not.toMatch(/\t/);
});
