// Pure logic of the PostgreSQL service: postmaster.pid parsing, "is this server ours",
// server arguments and the database SQL. The real server is exercised in test/integration/services.test.ts.
import {describe, expect, test} from '@jest/globals';
import {ServiceError} from '../../src/errors.js';
import {refuseRoot} from '../../src/services/postgres.js';
import {judge, missingDatabasesQuery, parseMajor, parseOwner, parsePidFile, type Probe, serverArgs, sqlIdent, sqlLiteral, wantedDatabases} from '../../src/services/postgres-files.js';

const PIDFILE = '4242\n/p/app/.devenv/state/postgres\n1764030000\n28092\n/run/u/devenv/pg-abc\n127.0.0.1\n  1234567     98304\nready   \n';

describe('postmaster.pid', () => {
  test('all lines of a ready server', () => {
    expect(parsePidFile(PIDFILE)).toEqual({pid: 4242, dataDir: '/p/app/.devenv/state/postgres', startTime: 1764030000, port: 28092, socketDir: '/run/u/devenv/pg-abc', listen: '127.0.0.1', status: 'ready'});
  });
  test('a file still being written (no port or status yet) still names the pid', () => {
    expect(parsePidFile('4242\n/p/d\n')).toMatchObject({pid: 4242, dataDir: '/p/d', port: undefined, status: undefined});
  });
  test('single-user mode writes a negative pid', () => {
    expect(parsePidFile('-77\n/p/d\n')?.pid).toBe(77);
  });
  test('empty, garbage and zero are not pid files', () => {
    for (const t of ['', '\n', 'abc\n/p/d\n', '0\n/p/d\n', '12.5\n']) expect(parsePidFile(t)).toBeUndefined();
  });
});

describe('versions', () => {
  test('from postgres --version and PG_VERSION', () => {
    expect(parseMajor('postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)')).toBe(15);
    expect(parseMajor('postgres (PostgreSQL) 16.4')).toBe(16);
    expect(parseMajor('14\n')).toBe(14);
    expect(parseMajor('garbage')).toBeUndefined();
  });
  test('owner marker', () => {
    expect(parseOwner('{"root":"/p/app","service":"postgres"}')).toEqual({root: '/p/app', service: 'postgres'});
    expect(parseOwner('{"root":5}')).toBeUndefined();
    expect(parseOwner('{not json')).toBeUndefined();
    expect(parseOwner(null)).toBeUndefined();
  });
});

describe('is the running server this project\'s? (devenv.sh#2349)', () => {
  const dataDir = '/p/app/.devenv/state/postgres';
  const base = {root: '/p/app', dataDir, realDataDir: dataDir, pidFile: parsePidFile(PIDFILE), pidFileText: PIDFILE, owner: {root: '/p/app', service: 'postgres'}};
  const probe = (o: Partial<{alive: boolean; postgres: boolean; cwd: string | undefined}> = {}): Probe => ({
    alive: () => o.alive ?? true,
    isPostgres: () => o.postgres ?? true,
    cwd: () => ('cwd' in o ? o.cwd : dataDir),
  });

  test('alive, postgres, working in our dir, our marker: ours', () => {
    expect(judge(base, probe())).toEqual({kind: 'ours', pid: 4242, status: 'ready', port: 28092});
  });
  test('no pid file: nothing runs', () => {
    expect(judge({...base, pidFile: undefined, pidFileText: null}, probe())).toEqual({kind: 'none'});
  });
  test('dead pid (kill -9, reboot): stale', () => {
    expect(judge(base, probe({alive: false}))).toMatchObject({kind: 'stale', pid: 4242, why: expect.stringContaining('no longer running')});
  });
  test('pid reused by another program: stale', () => {
    expect(judge(base, probe({postgres: false}))).toMatchObject({kind: 'stale', why: expect.stringContaining('another program')});
  });
  test("pid reused by another project's postgres: stale, never adopted", () => {
    expect(judge(base, probe({cwd: '/p/other/.devenv/state/postgres'}))).toMatchObject({kind: 'stale', why: expect.stringContaining('/p/other')});
  });
  test("another user's postgres (cwd unreadable): stale", () => {
    expect(judge(base, probe({cwd: undefined}))).toMatchObject({kind: 'stale'});
  });
  test('an unreadable pid file: stale', () => {
    expect(judge({...base, pidFile: undefined, pidFileText: 'xx'}, probe())).toMatchObject({kind: 'stale', pid: 0});
  });
  test('a server in our dir started for another path (a moved project): foreign', () => {
    const text = PIDFILE.replace('/p/app/', '/old/app/');
    expect(judge({...base, pidFile: parsePidFile(text), pidFileText: text}, probe())).toMatchObject({kind: 'foreign', why: expect.stringContaining('/old/app')});
  });
  test('a server in our dir whose marker names another project: foreign', () => {
    expect(judge({...base, owner: {root: '/p/other', service: 'postgres'}}, probe())).toMatchObject({kind: 'foreign', why: expect.stringContaining('/p/other')});
  });
  test('a symlinked project path matches by its real path', () => {
    expect(judge({...base, dataDir: '/link/app/.devenv/state/postgres', root: '/p/app'}, probe())).toMatchObject({kind: 'ours'});
  });
});

describe('server arguments', () => {
  const l = {dataDir: '/p/d', port: 28092, socketDir: '/run/u/devenv/pg-abc'};
  test('TCP on 127.0.0.1 only, the short socket dir, the project port', () => {
    expect(serverArgs(l).args).toEqual(['-D', '/p/d', '-c', 'port=28092', '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=/run/u/devenv/pg-abc']);
  });
  test('user settings pass through; booleans become on/off; managed keys are ignored and reported', () => {
    const r = serverArgs(l, {shared_buffers: '256MB', max_connections: 50, fsync: false, port: 1, listen_addresses: '*'});
    expect(r.args.slice(8)).toEqual(['-c', 'shared_buffers=256MB', '-c', 'max_connections=50', '-c', 'fsync=off']);
    expect(r.ignored).toEqual(['port', 'listen_addresses']);
    expect(r.args.filter((a) => a.startsWith('listen_addresses'))).toEqual(['listen_addresses=127.0.0.1']);
  });
  test('a socket dir with a space or comma is quoted as a list element', () => {
    expect(serverArgs({...l, socketDir: '/tmp/a b,c'}).args[7]).toBe('unix_socket_directories="/tmp/a b,c"');
  });
});

describe('databases', () => {
  test('listed ones plus PGDATABASE, without postgres or duplicates', () => {
    expect(wantedDatabases(['app', 'app_test'], 'app')).toEqual(['app', 'app_test']);
    expect(wantedDatabases(undefined, 'proj')).toEqual(['proj']);
    expect(wantedDatabases(['postgres'], 'postgres')).toEqual([]);
  });
  test('quoting', () => {
    expect(sqlLiteral("a'b")).toBe("'a''b'");
    expect(sqlIdent('my-db"x')).toBe('"my-db""x"');
    expect(missingDatabasesQuery(['app', "o'k"])).toContain("ARRAY['app', 'o''k']::text[]");
  });
});

describe('root', () => {
  test('uid 0 is refused with what to do; others pass', () => {
    let err: unknown;
    try {
      refuseRoot(0);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as ServiceError).exitCode).toBe(5);
    expect((err as ServiceError).message).toMatch(/PostgreSQL refuses to run as root/);
    expect((err as ServiceError).hint).toMatch(/unprivileged user/);
    expect(() => refuseRoot(1000)).not.toThrow();
  });
});
