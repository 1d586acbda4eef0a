// The project's front door: Caddy as a reverse proxy on the checkout's own port, 127.0.0.1 only.
// Each process with a port gets http://<process>.<checkout>.localhost:<port>, routed by the Host
// header (*.localhost is loopback in browsers and curl), so two worktrees of one app never fight
// over a port and a tab says which checkout it shows; `routes` maps path prefixes of the bare
// http://<checkout>.localhost:<port> to processes. Caddy over nginx: Debian's caddy is one Go
// binary with a JSON config and an admin API on a Unix socket, so a route change is a reload
// over that socket, with no temp dirs or module paths to patch into the store.
// The config (no secrets) is rendered into the checkout's state dir, 0600; readiness is an HTTP
// request to the front door itself, answered by this checkout's Caddy only.
import {createHash} from 'node:crypto';
import {existsSync} from 'node:fs';
import {request} from 'node:http';
import {basename, join} from 'node:path';
import {stateDir} from '../paths.js';
import {readFileOrNull, readJson, realPath, writeFileAtomic} from '../util/fs.js';
import {DaemonService, type DaemonLayout, type Tools} from './daemon.js';
import {readMarker} from './marker.js';
import {lockSync} from './ports.js';
import type {StartOptions, StartResult, ServiceStatus} from './service.js';

export interface CaddyLayout extends DaemonLayout {
  /** The checkout's DNS label: <process>.<label>.localhost. */
  label: string;
  /** One host per process with a port. */
  hosts: {name: string; host: string; port: number}[];
  /** Path prefix -> process port, longest first. */
  routes: {path: string; process: string; port: number}[];
  configFile: string;
}

/** A DNS label: lower case letters, digits and inner hyphens, at most 63 bytes. */
export const dnsLabel = (s: string, max = 63): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, max)
    .replace(/^-+|-+$/g, '');

const labelsFile = (): string => join(stateDir(), 'checkout-labels.json');

/**
 * The checkout's label, from its directory name (a worktree's own name), chosen once and recorded
 * in the user's state dir: a second checkout with the same name gets a suffix from its path.
 */
export function checkoutLabel(root: string): string {
  const real = realPath(root);
  const known = readJson<Record<string, string>>(labelsFile()) ?? {};
  for (const [label, r] of Object.entries(known)) if (r === real) return label;
  const release = lockSync(labelsFile() + '.lock');
  try {
    const reg = readJson<Record<string, string>>(labelsFile()) ?? {};
    for (const [label, r] of Object.entries(reg)) if (r === real) return label;
    const base = dnsLabel(basename(real), 40) || 'checkout';
    const hash = createHash('sha256').update(real).digest('hex');
    let label = base;
    for (let n = 4; reg[label] !== undefined && n <= 16; n += 2) label = `${base}-${hash.slice(0, n)}`;
    reg[label] = real;
    writeFileAtomic(labelsFile(), JSON.stringify(reg, null, 1) + '\n');
    return label;
  } finally {
    release();
  }
}

/** Forget the labels of checkouts that no longer exist (devenv gc): their names are free again. */
export function releaseCheckoutLabels(): string[] {
  const release = lockSync(labelsFile() + '.lock');
  try {
    const reg = readJson<Record<string, string>>(labelsFile()) ?? {};
    const gone = Object.keys(reg).filter((label) => !existsSync(reg[label]));
    for (const label of gone) delete reg[label];
    if (gone.length) writeFileAtomic(labelsFile(), JSON.stringify(reg, null, 1) + '\n');
    return gone;
  } finally {
    release();
  }
}

/** `<NAME>_URL` for a process name (web-api -> WEB_API_URL). */
export const processUrlVar = (name: string): string => `${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URL`;

export const processUrl = (l: CaddyLayout, h: {host: string}): string => `http://${h.host}.${l.label}.localhost:${l.port}`;
export const frontDoorUrl = (l: CaddyLayout): string => `http://${l.label}.localhost:${l.port}`;

/** Each process's URL, by process name. */
export const processUrls = (l: CaddyLayout): Record<string, string> => Object.fromEntries(l.hosts.map((h) => [h.name, processUrl(l, h)]));

export function caddyEnv(l: CaddyLayout): Record<string, string> {
  return Object.fromEntries(l.hosts.map((h) => [processUrlVar(h.name), processUrl(l, h)]));
}

const readyHost = (l: CaddyLayout): string => `devenv-ready.${l.label}.localhost`;
/** What only this checkout's front door answers on its ready host. */
const readyToken = (l: CaddyLayout): string => `devenv front door ${l.label} ${createHash('sha256').update(l.configFile).digest('hex').slice(0, 16)}\n`;

export function caddyConfig(l: CaddyLayout): string {
  const proxy = (port: number) => ({handler: 'reverse_proxy', upstreams: [{dial: `127.0.0.1:${port}`}]});
  const text = (status: number, body: string) => ({handler: 'static_response', status_code: status, headers: {'Content-Type': ['text/plain; charset=utf-8']}, body});
  const own = `${l.label}.localhost`;
  const routes = [
    {match: [{host: [readyHost(l)]}], handle: [text(200, readyToken(l))], terminal: true},
    ...l.hosts.map((h) => ({match: [{host: [`${h.host}.${own}`]}], handle: [proxy(h.port)], terminal: true})),
    // Another checkout's (or an unknown process's) *.localhost name reached this port: say so
    // rather than answer with this checkout's app.
    {
      match: [{host: ['*.localhost', '*.*.localhost', '*.*.*.localhost'], not: [{host: [own]}]}],
      handle: [text(404, `devenv: {http.request.host} is not a URL of this checkout (${l.label}); its URLs: ${l.hosts.map((h) => processUrl(l, h)).join(' ') || 'none'}\n`)],
      terminal: true,
    },
    ...l.routes.map((r) => ({match: [{path: r.path === '/' ? ['/*'] : [r.path, `${r.path}/*`]}], handle: [proxy(r.port)], terminal: true})),
  ];
  const config = {
    // The admin API on a socket in a 0700 dir (reloads), saving no copy of the config anywhere.
    admin: {listen: `unix/${l.socket}`, origins: ['localhost'], config: {persist: false}},
    storage: {module: 'file_system', root: l.dataDir},
    apps: {http: {servers: {devenv: {listen: [`127.0.0.1:${l.port}`], automatic_https: {disable: true}, routes}}}},
  };
  return JSON.stringify(config, null, 2) + '\n';
}

/** One HTTP request; resolves to status and body, or undefined on any failure. */
function httpRequest(opts: {port?: number; socketPath?: string; host: string; path: string; method?: string; body?: string}, timeoutMs = 1000): Promise<{status: number; body: string} | undefined> {
  return new Promise((resolve) => {
    const req = request(
      {host: '127.0.0.1', port: opts.port, socketPath: opts.socketPath, path: opts.path, method: opts.method ?? 'GET', headers: {Host: opts.host, ...(opts.body ? {'Content-Type': 'application/json'} : {})}, timeout: timeoutMs},
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d).length > 65536 && req.destroy());
        res.on('end', () => resolve({status: res.statusCode ?? 0, body}));
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end(opts.body);
  });
}

export class CaddyService extends DaemonService {
  readonly name = 'caddy';
  protected readonly programs = ['caddy'];
  protected readonly toolNames = ['caddy'];

  private get door(): CaddyLayout {
    return this.l as CaddyLayout;
  }

  protected async ping(): Promise<boolean> {
    const r = await httpRequest({port: this.l.port, host: readyHost(this.door), path: '/'});
    return r?.status === 200 && r.body === readyToken(this.door);
  }

  protected initialized(): boolean {
    return existsSync(this.l.dataDir) && !!readMarker(this.l.dataDir);
  }

  protected async init(): Promise<string[]> {
    return ['created the data dir'];
  }

  protected command(tools: Tools): {cmd: string; args: string[]} {
    writeFileAtomic(this.door.configFile, caddyConfig(this.door), 0o600);
    return {cmd: tools.bin.caddy, args: ['run', '--config', this.door.configFile, '--pidfile', this.l.pidFile]};
  }

  /** Already running with other routes (devenv.toml changed): load the new config over the admin socket. */
  async start(opts: StartOptions = {}): Promise<StartResult> {
    const r = await super.start(opts);
    const url = frontDoorUrl(this.door);
    if (r.started || !this.door.label) return {...r, url};
    const text = caddyConfig(this.door);
    if (readFileOrNull(this.door.configFile) === text) return {...r, url};
    const res = await httpRequest({socketPath: this.l.socket, host: 'localhost', path: '/load', method: 'POST', body: text}, 10_000);
    if (res?.status !== 200) return {...r, url, steps: [...r.steps, `its routes changed but reloading failed (${res ? `${res.status} ${res.body.trim()}` : 'no answer on its admin socket'}); 'devenv down caddy' and 'devenv up' again`]};
    writeFileAtomic(this.door.configFile, text, 0o600);
    return {...r, url, steps: [...r.steps, 'its routes changed: reloaded']};
  }

  async status(): Promise<ServiceStatus> {
    const s = await super.status();
    return this.door.label ? {...s, url: frontDoorUrl(this.door)} : s;
  }
}
