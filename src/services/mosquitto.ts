// Mosquitto (MQTT) as a per-checkout service: on 127.0.0.1 at the checkout's own port, no
// anonymous clients, one user whose password is hashed into a 0600 password file (mosquitto's
// PBKDF2-SHA512 format, computed here: mosquitto_passwd -b would put it on a command line), and
// persistence (retained messages, durable sessions) in <state>/mosquitto. Ready and alive when
// an MQTT CONNECT with those credentials gets CONNACK 0.
import {randomBytes, pbkdf2Sync} from 'node:crypto';
import {existsSync} from 'node:fs';
import {join} from 'node:path';
import type {MosquittoConfig} from '../manifest/model.js';
import {serviceEnabled} from '../manifest/model.js';
import {writeFileAtomic} from '../util/fs.js';
import {DaemonService, type DaemonOptions, type Tools} from './daemon.js';
import {readMarker} from './marker.js';
import type {ServiceDefinition} from './registry.js';
import {type CredLayout, credLayout, passwordOf, tcpConverse} from './servers.js';

export type MosquittoLayout = CredLayout;

export const mosquittoConfFile = (l: MosquittoLayout): string => join(l.socketDir, 'mosquitto.conf');
export const mosquittoPasswdFile = (l: MosquittoLayout): string => join(l.socketDir, 'passwd');

/** A password file line as mosquitto_passwd writes it ($7$: PBKDF2-SHA512, 101 rounds, 12-byte salt). */
export function mosquittoPasswdLine(user: string, password: string, salt = randomBytes(12)): string {
  const hash = pbkdf2Sync(password, salt, 101, 64, 'sha512');
  return `${user}:$7$101$${salt.toString('base64')}$${hash.toString('base64')}\n`;
}

export function mosquittoConf(l: MosquittoLayout): string {
  return [
    '# Written by devenv at each start.',
    'per_listener_settings false',
    'allow_anonymous false',
    `password_file ${mosquittoPasswdFile(l)}`,
    `pid_file ${l.pidFile}`,
    'persistence true',
    `persistence_location ${l.dataDir}/`,
    'log_dest stderr',
    'log_timestamp_format %Y-%m-%dT%H:%M:%S',
    // devenv's liveness checks connect at every `ps`: not worth a line each.
    'connection_messages false',
    `listener ${l.port} 127.0.0.1`,
    '',
  ].join('\n');
}

export function mosquittoEnv(l: MosquittoLayout): Record<string, string> {
  return {
    MQTT_URL: `mqtt://${encodeURIComponent(l.user)}:${encodeURIComponent(l.password)}@127.0.0.1:${l.port}`,
    MQTT_HOST: '127.0.0.1',
    MQTT_PORT: String(l.port),
    MQTT_USERNAME: l.user,
    MQTT_PASSWORD: l.password,
  };
}

/** An MQTT length-prefixed string. */
const mqttString = (s: string): Buffer => {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};

/** An MQTT 3.1.1 CONNECT with username and password, clean session, no client id. */
export function mqttConnect(user: string, password: string): Buffer {
  const body = Buffer.concat([mqttString('MQTT'), Buffer.from([4, 0xc2, 0, 60]), mqttString(''), mqttString(user), mqttString(password)]);
  const len: number[] = [];
  let n = body.length;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    len.push(byte);
  } while (n > 0);
  return Buffer.concat([Buffer.from([0x10, ...len]), body]);
}

/** CONNECT; CONNACK with return code 0 means in and alive; then a clean DISCONNECT. */
export function mosquittoProbe(port: number, user: string, password: string): Promise<boolean> {
  return tcpConverse(port, (write) => write(mqttConnect(user, password)), (data, write) => {
    if (data.length < 4) return undefined;
    const ok = data[0] === 0x20 && data[1] === 2 && data[3] === 0;
    if (ok) write(Buffer.from([0xe0, 0]));
    return ok;
  });
}

export class MosquittoService extends DaemonService {
  readonly name = 'mosquitto';
  protected readonly programs = ['mosquitto'];
  protected readonly toolNames = ['mosquitto'];

  protected ping(): Promise<boolean> {
    return mosquittoProbe(this.l.port, (this.l as MosquittoLayout).user, passwordOf(this.l as MosquittoLayout));
  }

  protected initialized(): boolean {
    return existsSync(this.l.dataDir) && !!readMarker(this.l.dataDir);
  }

  protected async init(): Promise<string[]> {
    return ['created the data dir'];
  }

  protected command(tools: Tools): {cmd: string; args: string[]} {
    const l = this.l as MosquittoLayout;
    writeFileAtomic(mosquittoPasswdFile(l), mosquittoPasswdLine(l.user, l.password), 0o600);
    writeFileAtomic(mosquittoConfFile(l), mosquittoConf(l), 0o600);
    return {cmd: tools.bin.mosquitto, args: ['-c', mosquittoConfFile(l)]};
  }
}

export const MOSQUITTO: ServiceDefinition<MosquittoLayout> = {
  name: 'mosquitto',
  section: 'services.mosquitto',
  enabled: (m) => serviceEnabled(m.services?.mosquitto),
  packages: () => ['mosquitto'],
  layout: async (p, m) => credLayout(p, 'mosquitto', (m.services!.mosquitto as MosquittoConfig).port),
  leftover: (p) => credLayout(p, 'mosquitto', undefined, true),
  env: mosquittoEnv,
  create: (p, layout, toolsEnv) => new MosquittoService({root: p.root, layout, toolsEnv, section: 'services.mosquitto'} as DaemonOptions),
};
