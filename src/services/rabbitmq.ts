// RabbitMQ as a per-checkout service: AMQP on 127.0.0.1 at the checkout's own port, a vhost and a
// user with a password of its own (created on the first boot from rabbitmq.conf's default_*; the
// config is 0600 in the private runtime dir), its database in <state>/rabbitmq, which is also
// Erlang's HOME (the .erlang.cookie lands there, never in the store or your home). Erlang's port
// mapper (epmd) runs per checkout on a port of its own, loopback only, in the server's process
// group, so `down` stops it too; the distribution port is loopback only as well. Ready and alive
// when an AMQP login with those credentials opens the vhost. The management plugin (HTTP API and
// UI) runs on a port of its own when `management = true`.
import type {Project} from '../project/project.js';
import {existsSync} from 'node:fs';
import {dirname, join} from 'node:path';
import type {RabbitmqConfig} from '../manifest/model.js';
import {serviceEnabled} from '../manifest/model.js';
import {writeFileAtomic} from '../util/fs.js';
import {DaemonService, type DaemonOptions, type Tools} from './daemon.js';
import {readMarker} from './marker.js';
import {findPort, projectPort} from './ports.js';
import type {ServiceDefinition} from './registry.js';
import {type CredLayout, credLayout, passwordOf, tcpConverse} from './servers.js';

export interface RabbitmqLayout extends CredLayout {
  vhost: string;
  distPort: number;
  epmdPort: number;
  /** The management plugin's port, when enabled. */
  managementPort?: number;
}

const conf = (l: RabbitmqLayout): string => join(l.socketDir, 'rabbitmq.conf');
const launcher = (l: RabbitmqLayout): string => join(l.socketDir, 'start.sh');
const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** rabbitmq.conf (sysctl format: a value is the rest of the line). */
export function rabbitmqConf(l: RabbitmqLayout): string {
  return [
    '# Written by devenv at each start. default_* create the vhost and user on the first boot.',
    `listeners.tcp.default = 127.0.0.1:${l.port}`,
    `default_vhost = ${l.vhost}`,
    `default_user = ${l.user}`,
    `default_pass = ${l.password}`,
    'default_permissions.configure = .*',
    'default_permissions.read = .*',
    'default_permissions.write = .*',
    'default_user_tags.administrator = true',
    'log.console = true',
    'log.file = false',
    // devenv's liveness checks log in at every `ps`: not worth three lines each.
    'log.connection.level = warning',
    ...(l.managementPort ? [`management.tcp.ip = 127.0.0.1`, `management.tcp.port = ${l.managementPort}`] : []),
    '',
  ].join('\n');
}

/** The environment of rabbitmq-server: everything in the state and runtime dirs, nothing read from /etc. */
export function rabbitmqServerEnv(l: RabbitmqLayout): Record<string, string> {
  return {
    HOME: l.dataDir,
    RABBITMQ_NODENAME: 'rabbit@localhost',
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(l.port),
    RABBITMQ_DIST_PORT: String(l.distPort),
    ERL_EPMD_PORT: String(l.epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    RABBITMQ_MNESIA_BASE: join(l.dataDir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(l.dataDir, 'log'),
    RABBITMQ_PID_FILE: l.pidFile,
    RABBITMQ_CONFIG_FILE: conf(l),
    RABBITMQ_CONFIG_FILES: join(l.socketDir, 'conf.d'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(l.socketDir, 'advanced.config'),
    RABBITMQ_CONF_ENV_FILE: '/dev/null',
    RABBITMQ_ENABLED_PLUGINS_FILE: join(l.socketDir, 'enabled_plugins'),
    // Else rabbitmq-server runs erl as its child and waits: the pid devenv started would not be
    // the server's (beam.smp answers SIGTERM with a clean stop itself).
    RUNNING_UNDER_SYSTEMD: 'true',
  };
}

export function rabbitmqEnv(l: RabbitmqLayout): Record<string, string> {
  const url = `amqp://${encodeURIComponent(l.user)}:${encodeURIComponent(l.password)}@127.0.0.1:${l.port}/${encodeURIComponent(l.vhost)}`;
  return {
    AMQP_URL: url,
    RABBITMQ_URL: url,
    RABBITMQ_HOST: '127.0.0.1',
    RABBITMQ_PORT: String(l.port),
    RABBITMQ_VHOST: l.vhost,
    RABBITMQ_USERNAME: l.user,
    RABBITMQ_PASSWORD: l.password,
    ...(l.managementPort ? {RABBITMQ_MANAGEMENT_URL: `http://127.0.0.1:${l.managementPort}/`} : {}),
  };
}

// --- AMQP 0-9-1, as much as a login needs ---
const shortstr = (s: string): Buffer => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)]);
const longstr = (b: Buffer): Buffer => Buffer.concat([u32(b.length), b]);
const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
/** A method frame on channel 0. */
export function amqpMethod(cls: number, method: number, args: Buffer): Buffer {
  const payload = Buffer.concat([u16(cls), u16(method), args]);
  return Buffer.concat([Buffer.from([1, 0, 0]), u32(payload.length), payload, Buffer.from([0xce])]);
}

/** Frames complete so far: [class, method] of each method frame. */
function methods(data: Buffer): [number, number][] {
  const out: [number, number][] = [];
  let i = 0;
  while (data.length >= i + 7) {
    const size = data.readUInt32BE(i + 3);
    if (data.length < i + 8 + size) break;
    if (data[i] === 1) out.push([data.readUInt16BE(i + 7), data.readUInt16BE(i + 9)]);
    i += 8 + size;
  }
  return out;
}

/** Log in (PLAIN), open the vhost, close cleanly: true when the vhost opened. */
export function amqpProbe(port: number, user: string, password: string, vhost: string): Promise<boolean> {
  let step = 0;
  return tcpConverse(port, (write) => write(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1')), (data, write) => {
    const got = methods(data);
    for (; step < got.length; step++) {
      const [c, m] = got[step];
      if (c === 10 && m === 10) write(amqpMethod(10, 11, Buffer.concat([u32(0), shortstr('PLAIN'), longstr(Buffer.from(`\0${user}\0${password}`)), shortstr('en_US')])));
      else if (c === 10 && m === 30) {
        write(amqpMethod(10, 31, Buffer.concat([u16(1), u32(131072), u16(0)])));
        write(amqpMethod(10, 40, Buffer.concat([shortstr(vhost), shortstr(''), Buffer.from([0])])));
      } else if (c === 10 && m === 41) write(amqpMethod(10, 50, Buffer.concat([u16(200), shortstr(''), u16(0), u16(0)])));
      else if (c === 10 && m === 51) return true;
      else return false; // Connection.Close from the server: refused
    }
    return undefined;
  }, 3000);
}

export class RabbitmqService extends DaemonService {
  readonly name = 'rabbitmq';
  protected readonly programs = ['beam.smp'];
  protected readonly toolNames = ['rabbitmq-server', 'epmd'];

  protected ping(): Promise<boolean> {
    const l = this.l as RabbitmqLayout;
    return amqpProbe(l.port, l.user, passwordOf(l), l.vhost);
  }

  protected initialized(): boolean {
    return existsSync(this.l.dataDir) && !!readMarker(this.l.dataDir);
  }

  protected async init(): Promise<string[]> {
    return ['created the data dir'];
  }

  protected command(tools: Tools): {cmd: string; args: string[]} {
    const l = this.l as RabbitmqLayout;
    writeFileAtomic(conf(l), rabbitmqConf(l), 0o600);
    writeFileAtomic(join(l.socketDir, 'enabled_plugins'), l.managementPort ? '[rabbitmq_management].\n' : '[].\n', 0o600);
    // epmd in the foreground, in the server's process group: it goes when the group is stopped.
    const env = rabbitmqServerEnv(l);
    const script = [
      '# Written by devenv at each start.',
      ...Object.entries(env).map(([k, v]) => `export ${k}=${sq(v)}`),
      `export PATH=${sq(dirname(tools.bin.epmd))}:"$PATH"`,
      `${sq(tools.bin.epmd)} &`,
      `exec ${sq(tools.bin['rabbitmq-server'])}`,
      '',
    ].join('\n');
    writeFileAtomic(launcher(l), script, 0o700);
    return {cmd: '/bin/sh', args: [launcher(l)]};
  }
}

export function rabbitmqLayout(p: Project, cfg: RabbitmqConfig, leftover = false): RabbitmqLayout {
  const base = credLayout(p, 'rabbitmq', cfg.port, leftover);
  const port = (n: string): number => (leftover ? (findPort(p.layout.portKey, n) ?? 0) : projectPort(p.layout.portKey, n));
  return {
    ...base,
    vhost: 'devenv',
    distPort: port('rabbitmq-dist'),
    epmdPort: port('rabbitmq-epmd'),
    managementPort: cfg.management ? (cfg.management_port ?? port('rabbitmq-management')) : undefined,
  };
}

export const RABBITMQ: ServiceDefinition<RabbitmqLayout> = {
  name: 'rabbitmq',
  section: 'services.rabbitmq',
  enabled: (m) => serviceEnabled(m.services?.rabbitmq),
  packages: () => ['rabbitmq-server'],
  layout: async (p, m) => rabbitmqLayout(p, m.services!.rabbitmq!),
  leftover: (p) => rabbitmqLayout(p, {}, true),
  env: rabbitmqEnv,
  create: (p, layout, toolsEnv) => new RabbitmqService({root: p.root, layout, toolsEnv, section: 'services.rabbitmq'} as DaemonOptions),
};
