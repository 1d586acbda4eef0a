// What the servers of issue 25 (memcached, RabbitMQ, Mosquitto, NATS) share on the daemon base:
// a layout with per-checkout credentials (a password kept 0600 in the user's state dir, never in
// the checkout or the store), a private config dir for the server's own 0600 config, and a
// probe that speaks the server's protocol over TCP on 127.0.0.1.
import {createConnection} from 'node:net';
import {join} from 'node:path';
import type {Project} from '../project/project.js';
import {readFileOrNull} from '../util/fs.js';
import type {DaemonLayout} from './daemon.js';
import {findPort, projectPort} from './ports.js';
import {projectPassword, userName} from './account.js';

export interface CredLayout extends DaemonLayout {
  user: string;
  /** '' for a leftover server found without devenv.toml: then read from passwordFile. */
  password: string;
  passwordFile: string;
}

/** The checkout's password for `service` (shared by its `devenv test` instances). */
export const passwordFile = (p: Project, service: string): string => join(p.stateDir, `${service}.password`);

/**
 * Where a server's files are: data in <state>/<name>, its log beside, its pid file and config
 * in the private runtime dir (0700; the pid file stays findable when the state dir is deleted).
 */
export function credLayout(p: Project, name: string, fixedPort: number | undefined, leftover = false): CredLayout {
  const state = p.layout.serviceState;
  const sock = p.layout.socketDir(name);
  const pwFile = passwordFile(p, name);
  const port = fixedPort ?? (leftover ? (findPort(p.layout.portKey, name) ?? 0) : projectPort(p.layout.portKey, name));
  return {
    port,
    dataDir: join(state, name),
    logFile: join(state, `${name}.log`),
    socketDir: sock,
    socket: join(sock, `${name}.sock`),
    pidFile: join(sock, `${name}.pid`),
    user: userName(),
    password: leftover ? '' : projectPassword(pwFile),
    passwordFile: pwFile,
  };
}

export const passwordOf = (l: CredLayout): string => l.password || (readFileOrNull(l.passwordFile)?.trim() ?? '');

/**
 * A conversation with a server on 127.0.0.1:`port`: `step` sees the bytes so far and may write;
 * it returns true or false to end, undefined to wait for more. False on timeout or hang-up.
 */
export function tcpConverse(port: number, onConnect: ((write: (b: Buffer | string) => void) => void) | undefined, step: (data: Buffer, write: (b: Buffer | string) => void) => boolean | undefined, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let done = false;
    const s = createConnection({port, host: '127.0.0.1'});
    const write = (b: Buffer | string) => {
      if (!s.destroyed) s.write(b);
    };
    const finish = (v: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(t);
      s.destroy();
      resolve(v);
    };
    const t = setTimeout(() => finish(false), timeoutMs);
    s.once('connect', () => onConnect?.(write));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const v = step(buf, write);
      if (v !== undefined) finish(v);
      else if (buf.length > 1 << 20) finish(false);
    });
    s.once('error', () => finish(false));
    s.once('close', () => finish(false));
  });
}
