// RabbitMQ (issue 25) under `devenv up`, in two checkouts of one repository (the main one and a
// worktree) side by side: the real server from the offline package set, its management HTTP API
// for messages, a few lines of node speaking AMQP for logins. Erlang starts slowly: one start per
// checkout, plus one restart of the main checkout for the durable message.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawnSync} from 'node:child_process';
import {existsSync, statSync, writeFileSync} from 'node:fs';
import {request} from 'node:http';
import {join} from 'node:path';
import {repoWithWorktree, serviceCli} from '../helpers/checkouts.js';
import {makeSandbox, type Sandbox} from '../helpers/env.js';
import {asOtherUser, nodeAsOtherUser} from '../helpers/other-user.js';

let sb: Sandbox;
let main: string;
let wt: string;

const TOML = `name = "bus"

[services.rabbitmq]
management = true
`;

const {run, ok, sh, ps, envOf, devenvAsync} = serviceCli(() => sb);

/**
 * An AMQP 0-9-1 login (PLAIN) and vhost open, in plain node: prints "open" when the vhost opened,
 * else what refused it. The same script runs as the test user and as the other user.
 */
const AMQP_LOGIN = `
const [port, user, pass, vhost] = process.argv.slice(1);
const s = require('net').createConnection(Number(port), '127.0.0.1');
const u16 = (n) => Buffer.from([n >> 8, n & 255]);
const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const ss = (x) => Buffer.concat([Buffer.from([Buffer.byteLength(x)]), Buffer.from(x)]);
const frame = (c, m, args) => { const p = Buffer.concat([u16(c), u16(m), args]); return Buffer.concat([Buffer.from([1, 0, 0]), u32(p.length), p, Buffer.from([0xce])]); };
let buf = Buffer.alloc(0);
const done = (w) => { console.log(w); s.destroy(); };
s.on('connect', () => s.write('AMQP\\x00\\x00\\x09\\x01'));
s.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  while (buf.length >= 7 && buf.length >= 8 + buf.readUInt32BE(3)) {
    const size = buf.readUInt32BE(3);
    const c = buf.readUInt16BE(7), m = buf.readUInt16BE(9);
    const body = buf.subarray(11, 7 + size);
    buf = buf.subarray(8 + size);
    if (c === 10 && m === 10) s.write(frame(10, 11, Buffer.concat([u32(0), ss('PLAIN'), u32(user.length + pass.length + 2), Buffer.from('\\0' + user + '\\0' + pass), ss('en_US')])));
    else if (c === 10 && m === 30) { s.write(frame(10, 31, Buffer.concat([u16(1), u32(131072), u16(0)]))); s.write(frame(10, 40, Buffer.concat([ss(vhost), ss(''), Buffer.from([0])]))); }
    else if (c === 10 && m === 41) return done('open');
    else if (c === 10 && m === 50) return done('refused ' + body.readUInt16BE(0) + ' ' + body.subarray(3, 3 + body[2]).toString());
  }
});
s.on('close', () => done('closed'));
s.on('error', (e) => done('error ' + e.code));
`;
const amqpLogin = (port: string | number, user: string, pass: string, vhost: string): string => {
  const r = spawnSync(process.execPath, ['-e', AMQP_LOGIN, String(port), user, pass, vhost], {encoding: 'utf8', timeout: 20_000});
  return r.stdout.trim().split('\n')[0];
};

/** The management HTTP API as the checkout's user (a new connection each: the server restarts in between). */
function api(env: Record<string, string>, method: string, path: string, body?: unknown): Promise<{status: number; json: unknown}> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(new URL(`api/${path}`, env.RABBITMQ_MANAGEMENT_URL), {
      method,
      agent: false,
      auth: `${env.RABBITMQ_USERNAME}:${env.RABBITMQ_PASSWORD}`,
      headers: {'content-type': 'application/json', ...(data ? {'content-length': Buffer.byteLength(data)} : {})},
    }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({status: res.statusCode!, json: text ? JSON.parse(text) : undefined}));
    });
    req.once('error', (e) => reject(new Error(`${method} ${path}: ${e.message}; the server's log:\n${spawnSync('tail', ['-n', '20', join(env.DEVENV_ROOT, '.devenv', 'state', 'rabbitmq.log')], {encoding: 'utf8'}).stdout}`)));
    req.end(data);
  });
}

beforeAll(async () => {
  sb = makeSandbox('devenv-rabbit-');
  main = join(sb.dir, 'main');
  spawnSync('mkdir', ['-p', main]);
  writeFileSync(join(main, 'devenv.toml'), TOML);
  writeFileSync(join(main, '.gitignore'), '.devenv/\n');
  wt = repoWithWorktree(sb, main);
  for (const d of [main, wt]) ok(run(d, ['allow']));
  const ups = await Promise.all([main, wt].map((d) => devenvAsync(d, ['up', '-d'])));
  for (const u of ups) if (u.status !== 0) throw new Error(`up failed:\n${u.out}`);
}, 600_000);

afterAll(() => {
  for (const d of [main, wt]) run(d, ['down']);
  sb.cleanup();
}, 300_000);

describe('RabbitMQ in two checkouts side by side', () => {
  test('each checkout has its own server, vhost, user and password; AMQP_URL logs in; a durable message stays across down/up', async () => {
    const st = {main: ps(main).rabbitmq, wt: ps(wt).rabbitmq};
    expect(st.main).toMatchObject({state: 'running', ready: true});
    expect(st.wt).toMatchObject({state: 'running', ready: true});
    expect(st.main.port).not.toBe(st.wt.port);
    const e = {main: envOf(main), wt: envOf(wt)};
    for (const env of Object.values(e)) {
      const u = new URL(env.AMQP_URL);
      expect(u.port).toBe(env.RABBITMQ_PORT);
      expect(amqpLogin(u.port, decodeURIComponent(u.username), decodeURIComponent(u.password), decodeURIComponent(u.pathname.slice(1)))).toBe('open');
    }
    expect(e.main.RABBITMQ_PASSWORD).not.toBe(e.wt.RABBITMQ_PASSWORD);
    // One checkout's credentials do not open the other's server.
    expect(amqpLogin(e.wt.RABBITMQ_PORT, e.main.RABBITMQ_USERNAME, e.main.RABBITMQ_PASSWORD, e.main.RABBITMQ_VHOST)).not.toBe('open');

    // A durable queue and a persistent message in each, through the management API.
    for (const [name, env] of Object.entries(e)) {
      const vh = encodeURIComponent(env.RABBITMQ_VHOST);
      expect((await api(env, 'PUT', `queues/${vh}/jobs`, {durable: true})).status).toBeLessThan(300);
      expect((await api(env, 'POST', `exchanges/${vh}/amq.default/publish`, {properties: {delivery_mode: 2}, routing_key: 'jobs', payload: `job from ${name}`, payload_encoding: 'string'})).json).toEqual({routed: true});
    }
    ok(run(main, ['down']));
    expect(ps(main).rabbitmq.state).toBe('stopped');
    ok(run(main, ['up', '-d']));
    for (const [name, env] of Object.entries({main: envOf(main), wt: e.wt})) {
      const got = await api(env, 'POST', `queues/${encodeURIComponent(env.RABBITMQ_VHOST)}/jobs/get`, {count: 5, ackmode: 'ack_requeue_false', encoding: 'auto'});
      expect((got.json as {payload: string}[]).map((m) => m.payload)).toEqual([`job from ${name}`]);
    }
  });

  test('another local user is refused (AMQP and HTTP) and cannot read the config; Erlang keeps its cookie in the state dir', async () => {
    const st = ps(main).rabbitmq;
    const e = envOf(main);
    const other = nodeAsOtherUser(`${AMQP_LOGIN}`, {args: [e.RABBITMQ_PORT, 'guest', 'guest', e.RABBITMQ_VHOST]});
    expect((await other.done).stdout.trim()).not.toBe('open');
    const http = nodeAsOtherUser(`fetch(${JSON.stringify(new URL('api/queues', e.RABBITMQ_MANAGEMENT_URL).href)}).then((r) => console.log(r.status), (err) => console.log('error', err.message))`);
    expect((await http.done).stdout.trim()).toBe('401');
    const conf = join(st.socketDir!, 'rabbitmq.conf');
    expect(statSync(conf).mode & 0o777).toBe(0o600);
    expect((await asOtherUser('cat', [conf]).done).status).not.toBe(0);
    expect(statSync(join(st.dataDir!, '.erlang.cookie')).mode & 0o777).toBe(0o400);
    expect(existsSync(join(sb.dir, 'home', '.erlang.cookie'))).toBe(false);
  });

  test('down stops epmd too; the offline package set stays unmodified (nix-store --verify-path)', async () => {
    const bin = sh(main, 'readlink -f "$(command -v rabbitmq-server)"; readlink -f "$(command -v epmd)"').split('\n');
    // The server's process group: beam.smp, the checkout's own epmd and Erlang's helpers.
    const groups = [ps(main).rabbitmq.pid!, ps(wt).rabbitmq.pid!];
    const members = () =>
      spawnSync('sh', ['-c', 'for p in /proc/[0-9]*; do s=$(cat $p/stat 2>/dev/null) || continue; s=${s##*) }; set -- $s; [ "$1" = Z ] || echo "${p#/proc/} $3 $(cat $p/comm)"; done'], {encoding: 'utf8'})
        .stdout.trim().split('\n').map((l) => l.split(' ')).filter(([, pg]) => groups.includes(Number(pg)));
    expect(members().map(([, , comm]) => comm)).toEqual(expect.arrayContaining(['epmd', 'beam.smp']));
    for (const d of await Promise.all([main, wt].map((c) => devenvAsync(c, ['down'])))) expect(d.status).toBe(0);
    expect(members()).toEqual([]);
    const paths = [...new Set(bin.map((b) => b.split('/').slice(0, 4).join('/')))];
    const r = spawnSync('nix-store', ['--verify-path', ...paths], {encoding: 'utf8'});
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
