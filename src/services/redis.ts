// Redis as a per-project service: data in <state>/redis, TCP on 127.0.0.1 at the checkout's
// own port, a private Unix socket; readiness and liveness by Redis's own PING. It has a
// password (requirepass), read from a 0600 config file in the private socket dir: any local
// user can reach 127.0.0.1, and a command line is readable by all of them.
import {join} from 'node:path';
import {existsSync} from 'node:fs';
import {readFileOrNull, writeFileAtomic} from '../util/fs.js';
import {DaemonService, type DaemonLayout, socketProbe, type Tools} from './daemon.js';
import {readMarker} from './marker.js';

export interface RedisLayout extends DaemonLayout {
  settings?: Record<string, string | number | boolean>;
  /** requirepass; '' for a leftover server found without devenv.toml (then read from passwordFile). */
  password: string;
  passwordFile: string;
}

/** devenv sets these; the same keys in [services.redis.settings] are ignored. */
const MANAGED = ['port', 'bind', 'unixsocket', 'unixsocketperm', 'dir', 'pidfile', 'daemonize', 'logfile', 'requirepass'];

/** The config file holding the password: in the private socket dir, written at each start. */
export const redisConfFile = (l: RedisLayout): string => join(l.socketDir, 'redis.conf');

export function redisArgs(l: RedisLayout): {args: string[]; ignored: string[]} {
  // The config file comes first (redis-server's rule); the rest are visible, harmless options.
  const args = [redisConfFile(l), '--port', String(l.port), '--bind', '127.0.0.1', '--unixsocket', l.socket, '--unixsocketperm', '700', '--dir', l.dataDir, '--pidfile', l.pidFile, '--daemonize', 'no', '--logfile', ''];
  const ignored: string[] = [];
  for (const [k, v] of Object.entries(l.settings ?? {})) {
    if (MANAGED.includes(k)) ignored.push(k);
    else args.push(`--${k}`, typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v));
  }
  return {args, ignored};
}

/** A double-quoted Redis config string. */
const confString = (s: string): string => '"' + s.replace(/[\\"]/g, (c) => '\\' + c) + '"';

export function writeRedisConf(l: RedisLayout): void {
  writeFileAtomic(redisConfFile(l), `# Written by devenv at each start.\nrequirepass ${confString(l.password)}\n`, 0o600);
}

export function redisEnv(l: RedisLayout): Record<string, string> {
  return {REDIS_URL: `redis://default:${encodeURIComponent(l.password)}@127.0.0.1:${l.port}/0`, REDIS_HOST: '127.0.0.1', REDIS_PORT: String(l.port), REDIS_SOCKET: l.socket};
}

/** AUTH then PING, as RESP arrays (any byte of the password is safe). */
export function authPing(password: string): string {
  const bulk = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
  return `*2\r\n${bulk('AUTH')}${bulk(password)}*1\r\n${bulk('PING')}`;
}

/**
 * +OK then +PONG. A server started by an older devenv has no password: Redis answers AUTH with an
 * error naming that, then PONG; it is still ours (our private socket) and alive.
 */
export function authPingAnswer(b: Buffer): boolean | undefined {
  const s = b.toString('latin1');
  if (/^(\+OK|-ERR [^\r]*without any password[^\r]*)\r\n\+PONG\r\n/.test(s)) return true;
  if (s.length > 512 || (s.startsWith('-') && !/without any password/.test(s)) || /\r\n-/.test(s)) return false;
  return undefined;
}

export class RedisService extends DaemonService {
  readonly name = 'redis';
  protected readonly programs = ['redis-server', 'redis-check-rdb'];
  protected readonly toolNames = ['redis-server'];

  private get password(): string {
    const r = this.l as RedisLayout;
    if (r.password) return r.password;
    // A leftover server (its section gone from devenv.toml): its password is still in the file.
    return readFileOrNull(r.passwordFile)?.trim() ?? '';
  }

  protected ping(): Promise<boolean> {
    return socketProbe(this.l.socket, authPing(this.password), authPingAnswer);
  }

  protected initialized(): boolean {
    return existsSync(this.l.dataDir) && !!readMarker(this.l.dataDir);
  }

  protected async init(): Promise<string[]> {
    return ['created the data dir'];
  }

  protected command(tools: Tools): {cmd: string; args: string[]} {
    writeRedisConf(this.l as RedisLayout);
    return {cmd: tools.bin['redis-server'], args: redisArgs(this.l as RedisLayout).args};
  }
}

export const redisDataFile = (l: DaemonLayout): string => join(l.dataDir, 'dump.rdb');
