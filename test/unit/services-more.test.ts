// The pure parts of issue 25's servers (memcached, RabbitMQ, Mosquitto, NATS): their client
// variables, config files, password hashing and devenv.toml sections. Real servers run in
// test/integration/services-more.test.ts and services-rabbitmq.test.ts.
import {describe, expect, test} from '@jest/globals';
import {pbkdf2Sync} from 'node:crypto';
import {ManifestError} from '../../src/errors.js';
import {nixAttributes, SERVICE_VARS, serviceVarOwner} from '../../src/manifest/model.js';
import {parseManifest} from '../../src/manifest/parse.js';
import {memcachedArgs, memcachedEnv, memcachedLogin} from '../../src/services/memcached.js';
import {mosquittoConf, mosquittoEnv, mosquittoPasswdLine, mqttConnect} from '../../src/services/mosquitto.js';
import {natsConf, natsEnv} from '../../src/services/nats.js';
import {rabbitmqConf, rabbitmqEnv, rabbitmqServerEnv} from '../../src/services/rabbitmq.js';
import {SERVICES} from '../../src/services/registry.js';

const base = {port: 23456, dataDir: '/st/x', logFile: '/st/x.log', socketDir: '/run/d/x-abc', socket: '/run/d/x-abc/x.sock', pidFile: '/run/d/x-abc/x.pid', user: 'me', password: 'pw"\\x', passwordFile: '/s/x.password'};

describe('memcached, RabbitMQ, Mosquitto, NATS', () => {
  test('each sets exactly the client variables [env] may not set', () => {
    expect(Object.keys(memcachedEnv({...base, memory: 64})).sort()).toEqual([...SERVICE_VARS.memcached].sort());
    expect(Object.keys(rabbitmqEnv({...base, vhost: 'devenv', distPort: 1, epmdPort: 2, managementPort: 3})).sort()).toEqual([...SERVICE_VARS.rabbitmq].sort());
    expect(Object.keys(mosquittoEnv(base)).sort()).toEqual([...SERVICE_VARS.mosquitto].sort());
    expect(Object.keys(natsEnv({...base, jetstream: false})).sort()).toEqual([...SERVICE_VARS.nats].sort());
    expect(rabbitmqEnv({...base, vhost: 'devenv', distPort: 1, epmdPort: 2}).RABBITMQ_MANAGEMENT_URL).toBeUndefined();
    expect(natsEnv({...base, jetstream: false}).NATS_URL).toBe('nats://me:pw%22%5Cx@127.0.0.1:23456');
  });

  test('no secret on a command line; everything on loopback', () => {
    const args = memcachedArgs({...base, memory: 32}).join(' ');
    expect(args).not.toContain('pw');
    expect(args).toContain('-l 127.0.0.1 -p 23456 -U 0 -B ascii -Y /run/d/x-abc/auth');
    const env = JSON.stringify(rabbitmqServerEnv({...base, vhost: 'devenv', distPort: 1, epmdPort: 2}));
    expect(env).not.toContain('pw');
    expect(rabbitmqServerEnv({...base, vhost: 'devenv', distPort: 1, epmdPort: 2})).toMatchObject({HOME: '/st/x', ERL_EPMD_ADDRESS: '127.0.0.1', RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1', RABBITMQ_CONF_ENV_FILE: '/dev/null'});
    expect(rabbitmqConf({...base, password: 'p', vhost: 'devenv', distPort: 1, epmdPort: 2, managementPort: 3})).toContain('listeners.tcp.default = 127.0.0.1:23456\n');
    expect(rabbitmqConf({...base, password: 'p', vhost: 'devenv', distPort: 1, epmdPort: 2, managementPort: 3})).toContain('management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = 3\n');
    expect(mosquittoConf(base)).toMatch(/^allow_anonymous false$/m);
    expect(mosquittoConf(base)).toMatch(/^listener 23456 127\.0\.0\.1$/m);
  });

  test("NATS's config quotes the password (a quote or backslash in it cannot end the string)", () => {
    const conf = natsConf({...base, jetstream: true});
    expect(conf).toContain('  password: "pw\\"\\\\x"\n');
    expect(conf).toContain('listen: "127.0.0.1:23456"');
    expect(conf).toContain('store_dir: "/st/x"');
    expect(natsConf({...base, jetstream: false})).not.toContain('jetstream');
  });

  test("Mosquitto's password line is mosquitto_passwd's PBKDF2-SHA512 format", () => {
    const salt = Buffer.from('0123456789ab');
    const line = mosquittoPasswdLine('me', 'secret', salt);
    const [user, hash] = line.trim().split(':');
    const [, kind, rounds, s, h] = hash.split('$');
    expect([user, kind, rounds]).toEqual(['me', '7', '101']);
    expect(Buffer.from(s, 'base64')).toEqual(salt);
    expect(Buffer.from(h, 'base64')).toEqual(pbkdf2Sync('secret', salt, 101, 64, 'sha512'));
    // CONNECT: protocol MQTT 3.1.1, username + password + clean session flags.
    const c = mqttConnect('me', 'pw');
    expect([...c.subarray(0, 2)]).toEqual([0x10, c.length - 2]);
    expect(c.subarray(2, 12).toString('latin1')).toBe('\x00\x04MQTT\x04\xc2\x00\x3c');
    expect(memcachedLogin('me', 'pw')).toBe('set devenv 0 0 5\r\nme pw\r\n');
  });

  test('devenv.toml: the sections, their packages and their names', () => {
    const m = parseManifest('[services.memcached]\nmemory = 16\n[services.rabbitmq]\nmanagement = true\n[services.mosquitto]\n[services.nats]\njetstream = true\n');
    expect(nixAttributes(m)).toEqual(['memcached', 'rabbitmq-server', 'mosquitto', 'nats-server']);
    expect(SERVICES.filter((d) => d.enabled(m)).flatMap((d) => d.packages(m))).toEqual(['memcached', 'mosquitto', 'nats-server', 'rabbitmq-server']);
    expect(serviceVarOwner(m, 'AMQP_URL')).toBe('services.rabbitmq');
    expect(() => parseManifest('[services.nats]\njetstream = "yes"\n')).toThrow(ManifestError);
    expect(() => parseManifest('[services.memcached]\nmemory = 1\n')).toThrow(ManifestError);
    expect(() => parseManifest('[services.mosquitto]\nport = 80\n')).toThrow(ManifestError);
    expect(() => parseManifest('[processes.nats]\nexec = "x"\n')).toThrow(ManifestError);
    expect(() => parseManifest('[services.rabbitmq]\nmanagement = true\n\n[env]\nAMQP_URL = "amqp://elsewhere"\n')).toThrow(/AMQP_URL cannot be set/);
  });
});
