// memcached, Mosquitto and NATS (issue 25) under `devenv up`, in two checkouts of one repository
// (the main one and a worktree) side by side: real servers from the offline package set, real
// clients (mosquitto_pub/sub) or a few lines of node speaking each protocol, as the test user;
// another local user (devenv-other) is refused by each.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawnSync} from 'node:child_process';
import {readFileSync, statSync, writeFileSync} from 'node:fs';
import {createConnection} from 'node:net';
import {join} from 'node:path';
import {repoWithWorktree, serviceCli} from '../helpers/checkouts.js';
import {DEVENV, makeSandbox, type Sandbox} from '../helpers/env.js';
import {asOtherUser, nodeAsOtherUser} from '../helpers/other-user.js';

let sb: Sandbox;
let main: string;
let wt: string;

const TOML = `name = "queues"

[services.memcached]
memory = 16

[services.mosquitto]

[services.nats]
jetstream = true
`;

const {run, ok, sh, ps, envOf, devenvAsync} = serviceCli(() => sb);

/** Send `first`, collect what the server says until `done` holds (or 3 s). */
function talk(port: number, first: Buffer | string, done: (s: string) => boolean, ms = 3000): Promise<string> {
  return new Promise((resolve) => {
    const s = createConnection({port, host: '127.0.0.1'});
    let b = '';
    const end = () => (clearTimeout(t), s.destroy(), resolve(b));
    const t = setTimeout(end, ms);
    s.on('connect', () => s.write(first));
    s.on('data', (d) => {
      b += d.toString('latin1');
      if (done(b)) end();
    });
    s.on('error', (e) => ((b += `error ${(e as NodeJS.ErrnoException).code}`), end()));
    s.on('close', end);
  });
}

const mcLogin = (user: string, pw: string) => `set x 0 0 ${user.length + pw.length + 1}\r\n${user} ${pw}\r\n`;

/** NATS: log in, then each [subject, payload] as a request on one inbox; the replies' payloads. */
async function natsRequests(port: number, user: string, pass: string, reqs: [string, string][]): Promise<string[]> {
  const cmds = reqs.map(([subj, body], i) => `PUB ${subj} _INBOX.t.${i} ${Buffer.byteLength(body)}\r\n${body}\r\n`).join('');
  const out = await talk(port, `CONNECT ${JSON.stringify({user, pass, verbose: false})}\r\nSUB _INBOX.t.* 1\r\n${cmds}PING\r\n`, (s) => (s.match(/^MSG /gm) ?? []).length >= reqs.length || /-ERR/.test(s), 20_000);
  if (!/-ERR/.test(out) && (out.match(/^MSG /gm) ?? []).length < reqs.length) throw new Error(`NATS answered ${reqs.length} request(s) with: ${JSON.stringify(out)}`);
  const replies: string[] = [];
  // MSG <subject> <sid> [reply-to] <bytes> (JetStream's acks leave an empty reply-to: two spaces).
  // Each reply goes to its request's inbox (_INBOX.t.<i>): JetStream's API may answer a stream
  // create after the publish that follows it is acked, so arrival order is not request order.
  const re = /^MSG _INBOX\.t\.(\d+) \S+ +(?:\S+ +)?(\d+)\r\n/gm;
  let m: RegExpExecArray | null;
  while ((m = re.exec(out))) replies[Number(m[1])] = out.slice(m.index + m[0].length, m.index + m[0].length + Number(m[2]));
  if (/-ERR/.test(out)) replies.push(out.slice(out.indexOf('-ERR')).split('\r\n')[0]);
  if (replies.filter((r) => r !== undefined).length < reqs.length) throw new Error(`NATS answered ${reqs.length} request(s) with: ${JSON.stringify(out)}`);
  return replies;
}

/** An MQTT 3.1.1 CONNECT (user/password when given); the CONNACK's return code. */
function mqttConnack(port: number, user?: string, pw?: string): Promise<number | string> {
  const str = (s: string) => Buffer.concat([Buffer.from([0, Buffer.byteLength(s)]), Buffer.from(s)]);
  const flags = 0x02 | (user !== undefined ? 0x80 : 0) | (pw !== undefined ? 0x40 : 0);
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, flags, 0, 30]), str(''), ...(user !== undefined ? [str(user)] : []), ...(pw !== undefined ? [str(pw)] : [])]);
  return talk(port, Buffer.concat([Buffer.from([0x10, body.length]), body]), (s) => s.length >= 4).then((s) => (s.length >= 4 && s.charCodeAt(0) === 0x20 ? s.charCodeAt(3) : s));
}

beforeAll(async () => {
  sb = makeSandbox('devenv-more-');
  main = join(sb.dir, 'main');
  spawnSync('mkdir', ['-p', main]);
  writeFileSync(join(main, 'devenv.toml'), TOML);
  writeFileSync(join(main, '.gitignore'), '.devenv/\n');
  wt = repoWithWorktree(sb, main);
  for (const d of [main, wt]) ok(run(d, ['allow']));
  // Both checkouts start side by side.
  const ups = await Promise.all([main, wt].map((d) => devenvAsync(d, ['up', '-d'])));
  for (const u of ups) if (u.status !== 0) throw new Error(`up failed:\n${u.out}`);
}, 600_000);

afterAll(() => {
  for (const d of [main, wt]) run(d, ['down']);
  sb.cleanup();
}, 300_000);

describe('memcached, Mosquitto and NATS in two checkouts side by side', () => {
  test('each checkout runs its own servers on its own ports, with its own credentials; each client reaches its own', async () => {
    const st = {main: ps(main), wt: ps(wt)};
    for (const s of ['memcached', 'mosquitto', 'nats']) {
      expect(st.main[s]).toMatchObject({state: 'running', ready: true});
      expect(st.wt[s]).toMatchObject({state: 'running', ready: true});
      expect(st.main[s].port).not.toBe(st.wt[s].port);
    }
    const e = {main: envOf(main), wt: envOf(wt)};
    expect(e.main.MEMCACHED_PORT).toBe(String(st.main.memcached.port));
    expect(e.main.NATS_URL).toBe(`nats://${encodeURIComponent(e.main.NATS_USER)}:${e.main.NATS_PASSWORD}@127.0.0.1:${st.main.nats.port}`);
    expect(e.main.MQTT_URL).toMatch(new RegExp(`^mqtt://[^:]+:[^@]{16,}@127\\.0\\.0\\.1:${st.main.mosquitto.port}$`));
    expect(e.main.MEMCACHED_PASSWORD).not.toBe(e.wt.MEMCACHED_PASSWORD);

    // memcached: log in, store the checkout's name, read it back; each sees its own value.
    for (const [name, env] of Object.entries(e)) {
      const r = await talk(Number(env.MEMCACHED_PORT), `${mcLogin(env.MEMCACHED_USERNAME, env.MEMCACHED_PASSWORD)}set owner 0 0 ${name.length}\r\n${name}\r\n`, (s) => (s.match(/STORED/g) ?? []).length >= 2);
      expect(r).toBe('STORED\r\nSTORED\r\n');
    }
    for (const [name, env] of Object.entries(e)) {
      const r = await talk(Number(env.MEMCACHED_PORT), `${mcLogin(env.MEMCACHED_USERNAME, env.MEMCACHED_PASSWORD)}get owner\r\n`, (s) => s.includes('END\r\n'));
      expect(r).toBe(`STORED\r\nVALUE owner 0 ${name.length}\r\n${name}\r\nEND\r\n`);
    }
    // One checkout's password does not open the other's server.
    expect(await talk(Number(e.wt.MEMCACHED_PORT), `${mcLogin(e.main.MEMCACHED_USERNAME, e.main.MEMCACHED_PASSWORD)}get owner\r\n`, (s) => s.includes('\r\n'))).toMatch(/^CLIENT_ERROR/);

    // Mosquitto, through its own clients and MQTT_URL: a retained message per checkout.
    for (const d of [main, wt]) sh(d, `mosquitto_pub -L "$MQTT_URL/devenv/owner" -r -q 1 -m "${d}"`);
    for (const d of [main, wt]) expect(sh(d, 'mosquitto_sub -L "$MQTT_URL/devenv/owner" -C 1 -W 10')).toBe(d);
    expect(await mqttConnack(st.wt.mosquitto.port!, e.main.MQTT_USERNAME, e.main.MQTT_PASSWORD)).toBe(5);

    // NATS: a JetStream stream per checkout (its store in the checkout's state dir), one message in it.
    for (const [name, env] of Object.entries(e)) {
      const [created, ack] = await natsRequests(Number(env.NATS_PORT), env.NATS_USER, env.NATS_PASSWORD, [
        ['$JS.API.STREAM.CREATE.ORDERS', JSON.stringify({name: 'ORDERS', subjects: ['orders.>'], storage: 'file'})],
        ['orders.new', `from ${name}`],
      ]);
      expect(JSON.parse(created)).toMatchObject({config: {name: 'ORDERS'}});
      expect(JSON.parse(ack)).toMatchObject({stream: 'ORDERS', seq: 1});
    }
    expect(await natsRequests(st.wt.nats.port!, e.main.NATS_USER, e.main.NATS_PASSWORD, [['x', '']])).toEqual([expect.stringMatching(/^-ERR 'Authorization Violation'/)]);
  });

  test('another local user is refused by each server and cannot read their credentials', async () => {
    const st = ps(main);
    const other = nodeAsOtherUser(`
const net = require('net');
const talk = (port, first) => new Promise((res) => {
  const s = net.createConnection(port, '127.0.0.1');
  let b = '';
  s.on('connect', () => s.write(Buffer.from(first, 'base64')));
  s.on('data', (d) => { b += d.toString('latin1'); });
  s.on('error', (e) => { b += 'error ' + e.code; });
  setTimeout(() => { s.destroy(); res(b); }, 700);
});
(async () => {
  console.log(JSON.stringify(await talk(${st.memcached.port}, process.argv[1])));
  console.log(JSON.stringify(await talk(${st.nats.port}, process.argv[2])));
  console.log(JSON.stringify(await talk(${st.mosquitto.port}, process.argv[3])));
})();`, {
      args: [
        Buffer.from('get owner\r\nset owner 0 0 5\r\nstole\r\n').toString('base64'),
        Buffer.from('CONNECT {"verbose":false}\r\nPUB orders.new 5\r\nstole\r\nPING\r\n').toString('base64'),
        // CONNECT without credentials, clean session.
        Buffer.from([0x10, 12, 0, 4, 77, 81, 84, 84, 4, 2, 0, 30, 0, 0]).toString('base64'),
      ],
    });
    const lines = (await other.done).stdout.trim().split('\n').map((l) => JSON.parse(l) as string);
    expect(lines[0]).toMatch(/^CLIENT_ERROR/);
    expect(lines[0]).not.toMatch(/VALUE|STORED/);
    expect(lines[1]).toMatch(/-ERR 'Authorization Violation'/);
    expect(lines[1]).not.toMatch(/PONG/);
    expect(lines[2].slice(0, 4)).toBe('\x20\x02\x00\x05'); // CONNACK: not authorised
    // The servers read their secrets from 0600 files in a private dir; the other user reads none.
    for (const [s, f] of [['memcached', 'auth'], ['nats', 'nats.conf'], ['mosquitto', 'passwd']]) {
      const file = join(st[s].socketDir!, f);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect((await asOtherUser('cat', [file]).done).status).not.toBe(0);
    }
    expect(readFileSync(join(st.nats.socketDir!, 'nats.conf'), 'utf8')).toContain('listen: "127.0.0.1:');
  });

  test('down and up keep the retained MQTT message and the JetStream stream; memcached starts empty (a cache)', async () => {
    ok(run(main, ['down']));
    expect(Object.values(ps(main)).map((s) => s.state)).toEqual(['stopped', 'stopped', 'stopped']);
    const up = ok(run(main, ['up', '-d']));
    expect(up.stdout).toMatch(/nats: started/);
    const e = envOf(main);
    expect(sh(main, 'mosquitto_sub -L "$MQTT_URL/devenv/owner" -C 1 -W 10')).toBe(main);
    const [info] = await natsRequests(Number(e.NATS_PORT), e.NATS_USER, e.NATS_PASSWORD, [['$JS.API.STREAM.INFO.ORDERS', '']]);
    expect(JSON.parse(info)).toMatchObject({config: {name: 'ORDERS'}, state: {messages: 1}});
    expect(await talk(Number(e.MEMCACHED_PORT), `${mcLogin(e.MEMCACHED_USERNAME, e.MEMCACHED_PASSWORD)}get owner\r\n`, (s) => s.includes('END\r\n'))).toBe('STORED\r\nEND\r\n');
    // The worktree's servers ran on throughout.
    expect(sh(wt, 'mosquitto_sub -L "$MQTT_URL/devenv/owner" -C 1 -W 10')).toBe(wt);
  });

  test('with /proc hidden, ps still finds each server running and ready (pid file, kill 0, its protocol)', () => {
    const uid = process.getuid!();
    const gid = process.getgid!();
    const r = spawnSync('unshare', ['--user', `--map-user=${uid}`, `--map-group=${gid}`, '--mount', '--keep-caps', 'sh', '-c', 'mount -t tmpfs none /proc && exec "$@"', 'sh', process.execPath, DEVENV, 'ps', '--json'], {cwd: wt, env: {...sb.env, PWD: wt}, encoding: 'utf8', timeout: 120_000});
    expect(r.status).toBe(0);
    const st = Object.fromEntries(JSON.parse(r.stdout).services.map((s: {name: string}) => [s.name, s]));
    for (const n of ['memcached', 'mosquitto', 'nats']) expect(st[n]).toMatchObject({state: 'running', ready: true});
  });

  test('a data dir devenv did not create is refused', () => {
    ok(run(wt, ['down', 'nats']));
    const data = ps(wt).nats.dataDir!;
    spawnSync('mv', [data, `${data}.mine`]);
    spawnSync('mkdir', ['-p', join(data, 'jetstream')]);
    const r = run(wt, ['up', '-d', 'nats']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/has no devenv marker of yours/);
    spawnSync('rm', ['-rf', data]);
    spawnSync('mv', [`${data}.mine`, data]);
    ok(run(wt, ['up', '-d', 'nats']));
  });

  test('the offline package set stays unmodified by the running servers (nix-store --verify-path)', () => {
    const bins = sh(main, 'for b in memcached mosquitto nats-server; do readlink -f "$(command -v $b)"; done').split('\n');
    const paths = [...new Set(bins.map((b) => b.split('/').slice(0, 4).join('/')))];
    expect(paths.every((p) => p.startsWith('/nix/store/'))).toBe(true);
    const r = spawnSync('nix-store', ['--verify-path', ...paths], {encoding: 'utf8'});
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
