// memcached as a per-checkout service: on 127.0.0.1 at the checkout's own port, with a user and
// password of its own through memcached's own authentication (-Y: an auth file, 0600 in the
// private runtime dir; the ASCII protocol, whose clients log in with a `set` of "user pass").
// Debian's build has SASL too, but only through Cyrus libsasl2, which would need its plugins and
// a sasldb from outside the package set; -Y needs nothing else. memcached keeps no data across a
// restart (it is a cache); its data dir is its marked working directory. Ready and alive when
// a login and `version` answer STORED and VERSION.
import type {Project} from '../project/project.js';
import {existsSync} from 'node:fs';
import {join} from 'node:path';
import type {MemcachedConfig} from '../manifest/model.js';
import {serviceEnabled} from '../manifest/model.js';
import {writeFileAtomic} from '../util/fs.js';
import {DaemonService, type DaemonOptions, type Tools} from './daemon.js';
import {readMarker} from './marker.js';
import type {ServiceDefinition} from './registry.js';
import {type CredLayout, credLayout, passwordOf, tcpConverse} from './servers.js';

export interface MemcachedLayout extends CredLayout {
  memory: number;
}

export const memcachedAuthFile = (l: MemcachedLayout): string => join(l.socketDir, 'auth');

export function memcachedArgs(l: MemcachedLayout): string[] {
  // -U 0: no UDP (it would answer anyone, without a login); -B ascii: what -Y requires.
  return ['-l', '127.0.0.1', '-p', String(l.port), '-U', '0', '-B', 'ascii', '-Y', memcachedAuthFile(l), '-P', l.pidFile, '-m', String(l.memory)];
}

export function memcachedEnv(l: MemcachedLayout): Record<string, string> {
  return {
    MEMCACHED_HOST: '127.0.0.1',
    MEMCACHED_PORT: String(l.port),
    MEMCACHED_SERVERS: `127.0.0.1:${l.port}`,
    MEMCACHED_USERNAME: l.user,
    MEMCACHED_PASSWORD: l.password,
  };
}

/** The ASCII login: a `set` whose data is "user password". */
export function memcachedLogin(user: string, password: string): string {
  const data = `${user} ${password}`;
  return `set devenv 0 0 ${Buffer.byteLength(data)}\r\n${data}\r\n`;
}

export function memcachedProbe(port: number, user: string, password: string): Promise<boolean> {
  return tcpConverse(port, (write) => write(memcachedLogin(user, password) + 'version\r\n'), (data) => {
    const s = data.toString('latin1');
    if (/^STORED\r\nVERSION [^\r]*\r\n/.test(s)) return true;
    if (/\r\n/.test(s) && !s.startsWith('STORED')) return false;
    if (/^STORED\r\n[^V]/.test(s)) return false;
    return undefined;
  });
}

export class MemcachedService extends DaemonService {
  readonly name = 'memcached';
  protected readonly programs = ['memcached'];
  protected readonly toolNames = ['memcached'];

  protected ping(): Promise<boolean> {
    const l = this.l as MemcachedLayout;
    return memcachedProbe(l.port, l.user, passwordOf(l));
  }

  protected initialized(): boolean {
    return existsSync(this.l.dataDir) && !!readMarker(this.l.dataDir);
  }

  protected async init(): Promise<string[]> {
    return ['created the data dir'];
  }

  protected command(tools: Tools): {cmd: string; args: string[]} {
    const l = this.l as MemcachedLayout;
    writeFileAtomic(memcachedAuthFile(l), `${l.user}:${l.password}\n`, 0o600);
    return {cmd: tools.bin.memcached, args: memcachedArgs(l)};
  }
}

export const memcachedLayout = (p: Project, cfg: MemcachedConfig, leftover = false): MemcachedLayout => ({...credLayout(p, 'memcached', cfg.port, leftover), memory: cfg.memory ?? 64});

export const MEMCACHED: ServiceDefinition<MemcachedLayout> = {
  name: 'memcached',
  section: 'services.memcached',
  enabled: (m) => serviceEnabled(m.services?.memcached),
  packages: () => ['memcached'],
  layout: async (p, m) => memcachedLayout(p, m.services!.memcached!),
  leftover: (p) => memcachedLayout(p, {}, true),
  env: memcachedEnv,
  create: (p, layout, toolsEnv) => new MemcachedService({root: p.root, layout, toolsEnv, section: 'services.memcached'} as DaemonOptions),
};
