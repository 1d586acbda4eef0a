// The front door ([services.caddy]) and a URL per checkout, for real: one app in a git repository
// and a worktree of it, both up side by side; curl (plain *.localhost, which curl resolves to
// loopback itself) reaches each checkout's own processes through its own Caddy, by Host header;
// `routes` maps path prefixes; `up`, `ps` (text and --json) and the environment (<NAME>_URL)
// give the same URLs; a route change reloads the running Caddy.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawnSync} from 'node:child_process';
import {mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {makeSandbox, type Sandbox} from '../helpers/env.js';

const TIMEOUT = 300_000;
let sb: Sandbox;
let app: string;
let wt: string;

const SERVER = `const http = require('http');
const path = require('path');
const name = process.argv[2];
http.createServer((req, res) => res.end(name + ' of ' + path.basename(process.cwd()) + ' ' + req.url + '\\n')).listen(Number(process.env.PORT), '127.0.0.1');
`;
const toml = (routes: string) =>
  [
    'name = "app"',
    'packages = ["nodejs"]',
    '',
    '[processes.web]',
    'exec = "node server.js web"',
    'port = "auto"',
    'ready = "http"',
    '',
    '[processes.api_v2]',
    'exec = "node server.js api"',
    'port = "auto"',
    'ready = "http"',
    '',
    '[services.caddy]',
    `routes = ${routes}`,
    '',
  ].join('\n');

const ok = (r: ReturnType<Sandbox['devenv']>) => {
  if (r.status !== 0) throw new Error(`exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r;
};
const git = (cwd: string, ...args: string[]) => {
  const r = spawnSync('git', args, {cwd, encoding: 'utf8', env: {...sb.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e'}});
  if (r.status !== 0) throw new Error(r.stderr);
};
const curl = (url: string, ...args: string[]) => {
  const r = spawnSync('curl', ['-sS', '--max-time', '10', ...args, url], {encoding: 'utf8'});
  return r.stdout + r.stderr;
};
const envOf = (dir: string, name: string) => ok(sb.devenv(['exec', '--', 'printenv', name], {cwd: dir})).stdout.trim();
const psJson = (dir: string) => JSON.parse(ok(sb.devenv(['ps', '--json'], {cwd: dir})).stdout).services as {name: string; url?: string; port?: number; pid?: number}[];

beforeAll(() => {
  sb = makeSandbox('devenv-door-');
  app = join(sb.dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'devenv.toml'), toml('{"/" = "web", "/api" = "api_v2"}'));
  writeFileSync(join(app, 'server.js'), SERVER);
  writeFileSync(join(app, '.gitignore'), '.devenv/\n');
  ok(sb.devenv(['generate'], {cwd: app, timeout: TIMEOUT}));
  git(app, 'init', '-q', '-b', 'main');
  git(app, 'add', '-A');
  git(app, 'commit', '-qm', 'init');
  wt = join(sb.dir, 'Feature_X');
  git(app, 'worktree', 'add', '-q', wt, '-b', 'feature');
  for (const d of [app, wt]) ok(sb.devenv(['allow'], {cwd: d, timeout: TIMEOUT}));
}, TIMEOUT);

afterAll(() => {
  for (const d of [app, wt]) sb?.devenv(['down'], {cwd: d});
  sb?.cleanup();
}, TIMEOUT);

describe('front door', () => {
  let ups: string[];
  test('up -d in both checkouts prints each process URL: <process>.<checkout>.localhost at the checkout\'s own proxy port', () => {
    ups = [app, wt].map((d) => ok(sb.devenv(['up', '-d'], {cwd: d, timeout: TIMEOUT})).stdout);
    const door = (out: string) => Number(/caddy: started \(pid \d+\) on port (\d+)/.exec(out)?.[1]);
    const [pa, pw] = ups.map(door);
    expect(pa).toBeGreaterThan(0);
    expect(pw).toBeGreaterThan(0);
    expect(pa).not.toBe(pw);
    expect(ups[0]).toMatch(new RegExp(`web: started .*, http://web\\.app\\.localhost:${pa}\\n`));
    expect(ups[0]).toMatch(new RegExp(`api_v2: started .*, http://api-v2\\.app\\.localhost:${pa}\\n`));
    // The worktree's label comes from its own directory name, made DNS-safe.
    expect(ups[1]).toMatch(new RegExp(`web: started .*, http://web\\.feature-x\\.localhost:${pw}\\n`));
  }, 2 * TIMEOUT);

  test('each URL answers from its own checkout, through curl; the environment and ps give the same URLs', () => {
    for (const [dir, label] of [
      [app, 'app'],
      [wt, 'Feature_X'],
    ]) {
      const web = envOf(dir, 'WEB_URL');
      const api = envOf(dir, 'API_V2_URL');
      expect(curl(web + '/x?y=1')).toBe(`web of ${label} /x?y=1\n`);
      expect(curl(api)).toBe(`api of ${label} /\n`);
      const ps = psJson(dir);
      expect(ps.find((s) => s.name === 'web')?.url).toBe(web);
      expect(ps.find((s) => s.name === 'api_v2')?.url).toBe(api);
      const text = ok(sb.devenv(['ps'], {cwd: dir})).stdout;
      expect(text.split('\n')[0]).toMatch(/ URL$/);
      expect(text).toContain(web);
    }
  }, TIMEOUT);

  test('routes map path prefixes of the bare checkout host; another checkout\'s name on this port is refused, not served', () => {
    const door = psJson(app).find((s) => s.name === 'caddy')!;
    expect(door.url).toBe(`http://app.localhost:${door.port}`);
    expect(curl(`${door.url}/`)).toBe('web of app /\n');
    expect(curl(`${door.url}/api`)).toBe('api of app /api\n');
    expect(curl(`${door.url}/api/items/1`)).toBe('api of app /api/items/1\n');
    expect(curl(`${door.url}/apix`)).toBe('web of app /apix\n');
    const other = curl(`http://web.feature-x.localhost:${door.port}/`, '-w', '%{http_code}');
    expect(other).toContain('is not a URL of this checkout (app)');
    expect(other).toMatch(/404$/);
  }, TIMEOUT);

  test('loopback only; its config lives in the checkout state dir, 0600', () => {
    const port = psJson(app).find((s) => s.name === 'caddy')!.port!;
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    const listening = readFileSync('/proc/net/tcp', 'utf8').split('\n').filter((l) => l.includes(`:${hex} `) && / 0A /.test(l));
    expect(listening.map((l) => l.trim().split(/\s+/)[1])).toEqual([`0100007F:${hex}`]);
    const conf = join(app, '.devenv', 'state', 'caddy', 'caddy.json');
    expect(statSync(conf).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(conf, 'utf8')).apps.http.servers.devenv.listen).toEqual([`127.0.0.1:${port}`]);
  });

  test('a route change reloads the running Caddy (same pid); a route naming no process with a port is refused with its place', () => {
    const before = psJson(app).find((s) => s.name === 'caddy')!;
    writeFileSync(join(app, 'devenv.toml'), toml('{"/" = "api_v2"}'));
    ok(sb.devenv(['allow'], {cwd: app, timeout: TIMEOUT}));
    const up = ok(sb.devenv(['up', '-d'], {cwd: app, timeout: TIMEOUT})).stdout;
    expect(up).toMatch(/caddy: already running .*\n {2}its routes changed: reloaded/);
    expect(curl(`${before.url}/api/x`)).toBe('api of app /api/x\n');
    expect(psJson(app).find((s) => s.name === 'caddy')).toMatchObject({port: before.port, url: before.url, pid: before.pid});
    writeFileSync(join(app, 'devenv.toml'), toml('{"/" = "worker"}'));
    const bad = sb.devenv(['up', '-d'], {cwd: app, timeout: TIMEOUT});
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain(`services.caddy.routes."/" names 'worker', which is no process of this project`);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    writeFileSync(join(app, 'devenv.toml'), toml('{"/" = "api_v2"}'));
  }, 2 * TIMEOUT);

  test('down stops the front door; its URLs then answer nothing', () => {
    const url = envOf(app, 'WEB_URL');
    ok(sb.devenv(['down'], {cwd: app, timeout: TIMEOUT}));
    expect(curl(url)).toMatch(/Failed to connect|Couldn't connect/);
    // The worktree's are untouched.
    expect(curl(envOf(wt, 'WEB_URL'))).toBe('web of Feature_X /\n');
  }, TIMEOUT);
});
