// What the servers of issue 25 (memcached, RabbitMQ, Mosquitto, NATS) share on the daemon base:
// a layout with per-checkout credentials (a password kept 0600 in the user's state dir, never in
// the checkout or the store), a private config dir for the server's own 0600 config, and a
// probe that speaks the server's protocol over TCP on 127.0.0.1.
import {join} from 'node:path';
import type {Project} from '../project/project.js';
import {readFileOrNull} from '../util/fs.js';
import {converse, type DaemonLayout} from './daemon.js';
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

/** A conversation with a server on 127.0.0.1:`port` by its protocol (see daemon.ts converse). */
export const tcpConverse = (port: number, onConnect: Parameters<typeof converse>[1], step: Parameters<typeof converse>[2], timeoutMs = 1500): Promise<boolean> =>
  converse({port, host: '127.0.0.1'}, onConnect, step, timeoutMs);
