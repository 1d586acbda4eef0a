// The front door's pure parts: checkout labels (DNS-safe, unique per checkout, freed by gc), the
// rendered Caddy config (loopback only, longest path prefix first) and the route checks. Real
// Caddy and curl against two worktrees run in test/integration/frontdoor.test.ts.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {mkdirSync, mkdtempSync, realpathSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {ManifestError} from '../../src/errors.js';
import {parseManifest} from '../../src/manifest/parse.js';
import {serviceVarOwner} from '../../src/manifest/model.js';
import {caddyConfig, type CaddyLayout, checkoutLabel, dnsLabel, processUrlVar, releaseCheckoutLabels} from '../../src/services/caddy.js';
import {checkGraph} from '../../src/services/index.js';

let dir: string;
const saved = process.env.XDG_STATE_HOME;
beforeAll(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'devenv-door-unit-')));
  process.env.XDG_STATE_HOME = join(dir, 'state');
});
afterAll(() => {
  if (saved === undefined) delete process.env.XDG_STATE_HOME;
  else process.env.XDG_STATE_HOME = saved;
  rmSync(dir, {recursive: true, force: true});
});

describe('checkout labels', () => {
  test('DNS-safe: lower case, hyphens for anything else, none at the ends, 63 bytes at most', () => {
    expect(dnsLabel('Feature_X')).toBe('feature-x');
    expect(dnsLabel('..my app (copy)..')).toBe('my-app-copy');
    expect(dnsLabel('x'.repeat(80))).toHaveLength(63);
    expect(dnsLabel('___')).toBe('');
    expect(processUrlVar('api_v2')).toBe('API_V2_URL');
  });

  test('two checkouts with one directory name get distinct labels, each kept; gc frees a removed one', () => {
    const a = join(dir, 'a', 'Shop');
    const b = join(dir, 'b', 'shop');
    const c = join(dir, 'c', '___');
    for (const d of [a, b, c]) mkdirSync(d, {recursive: true});
    expect(checkoutLabel(a)).toBe('shop');
    const lb = checkoutLabel(b);
    expect(lb).toMatch(/^shop-[0-9a-f]{4}$/);
    expect(checkoutLabel(c)).toBe('checkout');
    expect(checkoutLabel(b)).toBe(lb);
    expect(checkoutLabel(a)).toBe('shop');
    rmSync(a, {recursive: true});
    expect(releaseCheckoutLabels()).toEqual(['shop']);
    mkdirSync(a, {recursive: true});
    expect(checkoutLabel(b)).toBe(lb);
  });
});

describe('caddy config', () => {
  const layout: CaddyLayout = {
    port: 24000,
    dataDir: '/s/caddy',
    logFile: '/s/caddy.log',
    pidFile: '/r/caddy.pid',
    socketDir: '/r',
    socket: '/r/admin.sock',
    configFile: '/s/caddy/caddy.json',
    label: 'shop',
    hosts: [
      {name: 'web', host: 'web', port: 21000},
      {name: 'api_v2', host: 'api-v2', port: 21001},
    ],
    routes: [
      {path: '/api/v2', process: 'api_v2', port: 21001},
      {path: '/', process: 'web', port: 21000},
    ],
  };
  test('listens on 127.0.0.1 only, no HTTPS, admin on its private socket; hosts before path routes, longest prefix first', () => {
    const c = JSON.parse(caddyConfig(layout));
    expect(c.admin.listen).toBe('unix//r/admin.sock');
    const srv = c.apps.http.servers.devenv;
    expect(srv.listen).toEqual(['127.0.0.1:24000']);
    expect(srv.automatic_https).toEqual({disable: true});
    const matches = srv.routes.map((r: {match?: unknown[]}) => JSON.stringify(r.match));
    expect(matches.slice(1, 3)).toEqual([JSON.stringify([{host: ['web.shop.localhost']}]), JSON.stringify([{host: ['api-v2.shop.localhost']}])]);
    expect(matches.slice(4)).toEqual([JSON.stringify([{path: ['/api/v2', '/api/v2/*']}]), JSON.stringify([{path: ['/*']}])]);
  });

  test('routes must name processes with a port; <NAME>_URL belongs to the front door', () => {
    const err = (toml: string) => {
      try {
        checkGraph(parseManifest(toml));
      } catch (e) {
        expect(e).toBeInstanceOf(ManifestError);
        return (e as ManifestError).message;
      }
      return 'no error';
    };
    const procs = '[processes.web]\nexec = "x"\nport = "auto"\n[processes.worker]\nexec = "y"\n';
    expect(err(`${procs}[services.caddy]\nroutes = {"/" = "web"}\n`)).toBe('no error');
    expect(err(`${procs}[services.caddy]\nroutes = {"/" = "worker"}\n`)).toContain("names 'worker', which is a process without a port");
    expect(err(`${procs}[services.caddy]\nroutes = {"/jobs" = "cron"}\n`)).toContain("names 'cron', which is no process of this project");
    expect(err(`${procs}[services.caddy]\nroutes = {"jobs" = "web"}\n`)).not.toBe('no error');
    expect(serviceVarOwner(parseManifest(`${procs}[services.caddy]\n`), 'WEB_URL')).toBe('services.caddy');
    expect(serviceVarOwner(parseManifest(procs), 'WEB_URL')).toBeUndefined();
  });
});
