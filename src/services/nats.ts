// NATS as a per-checkout service: nats-server on 127.0.0.1 at the checkout's own port, a user
// and password of its own (read from a 0600 config in the private runtime dir, never a command
// line), JetStream's store in <state>/nats when enabled. Ready and alive when the server answers
// CONNECT (with the credentials) and PING with PONG.
import type {Project} from '../project/project.js';
import {existsSync} from 'node:fs';
import {join} from 'node:path';
import type {NatsConfig} from '../manifest/model.js';
import {serviceEnabled} from '../manifest/model.js';
import {writeFileAtomic} from '../util/fs.js';
import {DaemonService, type DaemonOptions, type Tools} from './daemon.js';
import {readMarker} from './marker.js';
import type {ServiceDefinition} from './registry.js';
import {type CredLayout, credLayout, passwordOf, tcpConverse} from './servers.js';

export interface NatsLayout extends CredLayout {
  jetstream: boolean;
}

export const natsConfFile = (l: NatsLayout): string => join(l.socketDir, 'nats.conf');

/** nats-server's config: JSON strings are valid strings of its format. */
export function natsConf(l: NatsLayout): string {
  const q = JSON.stringify;
  return [
    '# Written by devenv at each start.',
    `listen: ${q(`127.0.0.1:${l.port}`)}`,
    `pid_file: ${q(l.pidFile)}`,
    'authorization {',
    `  user: ${q(l.user)}`,
    `  password: ${q(l.password)}`,
    '}',
    // nats-server keeps its streams in <store_dir>/jetstream.
    ...(l.jetstream ? ['jetstream {', `  store_dir: ${q(l.dataDir)}`, '}'] : []),
    '',
  ].join('\n');
}

export function natsEnv(l: NatsLayout): Record<string, string> {
  return {
    NATS_URL: `nats://${encodeURIComponent(l.user)}:${encodeURIComponent(l.password)}@127.0.0.1:${l.port}`,
    NATS_HOST: '127.0.0.1',
    NATS_PORT: String(l.port),
    NATS_USER: l.user,
    NATS_PASSWORD: l.password,
  };
}

/** INFO from the server, then CONNECT with the credentials and PING: PONG means in and alive. */
export function natsProbe(port: number, user: string, password: string): Promise<boolean> {
  let sent = false;
  return tcpConverse(port, undefined, (data, write) => {
    const s = data.toString('latin1');
    if (!sent) {
      if (!/^INFO \{[^\r\n]*\} ?\r\n/.test(s)) return s.includes('\r\n') ? false : undefined;
      sent = true;
      write(`CONNECT ${JSON.stringify({user, pass: password, verbose: false, pedantic: false, name: 'devenv-probe'})}\r\nPING\r\n`);
      return undefined;
    }
    if (/\r\nPONG\r\n/.test(s)) return true;
    if (/\r\n-ERR /.test(s)) return false;
    return undefined;
  });
}

export class NatsService extends DaemonService {
  readonly name = 'nats';
  protected readonly programs = ['nats-server'];
  protected readonly toolNames = ['nats-server'];
  private readonly n: NatsLayout;

  constructor(o: DaemonOptions & {layout: NatsLayout}) {
    super(o);
    this.n = o.layout;
  }

  protected ping(): Promise<boolean> {
    return natsProbe(this.l.port, this.n.user, passwordOf(this.n));
  }

  protected initialized(): boolean {
    return existsSync(this.l.dataDir) && !!readMarker(this.l.dataDir);
  }

  protected async init(): Promise<string[]> {
    return ['created the data dir'];
  }

  protected command(tools: Tools): {cmd: string; args: string[]} {
    writeFileAtomic(natsConfFile(this.n), natsConf(this.n), 0o600);
    return {cmd: tools.bin['nats-server'], args: ['-c', natsConfFile(this.n)]};
  }
}

export const natsLayout = (p: Project, cfg: NatsConfig, leftover = false): NatsLayout => ({...credLayout(p, 'nats', cfg.port, leftover), jetstream: !!cfg.jetstream});

export const NATS: ServiceDefinition<NatsLayout> = {
  name: 'nats',
  section: 'services.nats',
  enabled: (m) => serviceEnabled(m.services?.nats),
  packages: () => ['nats-server'],
  layout: async (p, m) => natsLayout(p, m.services!.nats!),
  leftover: (p) => natsLayout(p, {}, true),
  env: natsEnv,
  create: (p, layout, toolsEnv) => new NatsService({root: p.root, layout, toolsEnv, section: 'services.nats'}),
};
