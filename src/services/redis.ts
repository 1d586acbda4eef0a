// Redis as a per-project service: data in <state>/redis, TCP on 127.0.0.1 at the checkout's
// own port, a private Unix socket; readiness and liveness by Redis's own PING.
import {join} from 'node:path';
import {existsSync} from 'node:fs';
import {DaemonService, type DaemonLayout, socketProbe, type Tools} from './daemon.js';
import {readMarker} from './marker.js';

export interface RedisLayout extends DaemonLayout {
  settings?: Record<string, string | number | boolean>;
}

/** devenv sets these; the same keys in [services.redis.settings] are ignored. */
const MANAGED = ['port', 'bind', 'unixsocket', 'unixsocketperm', 'dir', 'pidfile', 'daemonize', 'logfile'];

export function redisArgs(l: RedisLayout): {args: string[]; ignored: string[]} {
  const args = ['--port', String(l.port), '--bind', '127.0.0.1', '--unixsocket', l.socket, '--unixsocketperm', '700', '--dir', l.dataDir, '--pidfile', l.pidFile, '--daemonize', 'no', '--logfile', ''];
  const ignored: string[] = [];
  for (const [k, v] of Object.entries(l.settings ?? {})) {
    if (MANAGED.includes(k)) ignored.push(k);
    else args.push(`--${k}`, typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v));
  }
  return {args, ignored};
}

export function redisEnv(l: RedisLayout): Record<string, string> {
  return {REDIS_URL: `redis://127.0.0.1:${l.port}/0`, REDIS_HOST: '127.0.0.1', REDIS_PORT: String(l.port), REDIS_SOCKET: l.socket};
}

export class RedisService extends DaemonService {
  readonly name = 'redis';
  protected readonly programs = ['redis-server', 'redis-check-rdb'];
  protected readonly toolNames = ['redis-server'];

  protected ping(): Promise<boolean> {
    return socketProbe(this.l.socket, 'PING\r\n', (b) => b.toString('latin1').startsWith('+PONG'));
  }

  protected initialized(): boolean {
    return existsSync(this.l.dataDir) && !!readMarker(this.l.dataDir);
  }

  protected async init(): Promise<string[]> {
    return ['created the data dir'];
  }

  protected command(tools: Tools): {cmd: string; args: string[]} {
    return {cmd: tools.bin['redis-server'], args: redisArgs(this.l as RedisLayout).args};
  }
}

export const redisDataFile = (l: DaemonLayout): string => join(l.dataDir, 'dump.rdb');
