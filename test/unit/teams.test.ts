// Teams: [cache]/[nix] settings -> nix options, nix's log -> what it did, keys, push URLs.
import {expect, test} from '@jest/globals';
import {createPrivateKey, createPublicKey, sign, verify} from 'node:crypto';
import {mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {parseManifest} from '../../src/manifest/parse.js';
import {renderFlakeBody} from '../../src/flake/render.js';
import {nixConfFix, nixOptionArgs, parseNixActivity, parseTeamSettings, teamSettingsOf, untrustedMessage} from '../../src/teams/settings.js';
import {pushUrl, unsupportedStore} from '../../src/teams/push.js';
import {NixFailedError} from '../../src/errors.js';
import {generateKey, signingKey} from '../../src/teams/keys.js';

const KEY = 'cache.example.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=';
const TOML = `name = "x"\n[cache]\nsubstituters = ["https://cache.example.org", "file:///mnt/c"]\ntrusted-public-keys = ["${KEY}"]\npush = "s3://b?region=eu-west-1"\n[nix]\nbuilders = ["ssh-ng://u@h x86_64-linux /k 4"]\nbuilders-use-substitutes = true\n`;

test('settings become nix options; the flake nixConfig is always refused', async () => {
  const s = await parseTeamSettings(TOML);
  expect(nixOptionArgs(s)).toEqual([
    '--option', 'accept-flake-config', 'false',
    '--option', 'extra-substituters', 'https://cache.example.org file:///mnt/c',
    '--option', 'extra-trusted-public-keys', KEY,
    '--option', 'builders', 'ssh-ng://u@h x86_64-linux /k 4',
    '--option', 'builders-use-substitutes', 'true',
  ]);
  expect(nixOptionArgs(undefined)).toEqual(['--option', 'accept-flake-config', 'false']);
  // No table: the TOML parser is not even needed.
  expect(await parseTeamSettings('name = "x"\npackages = []\n')).toEqual(teamSettingsOf({}));
  // Dotted keys and inline tables count too.
  expect((await parseTeamSettings(`cache.substituters = ["file:///c"]\n`)).substituters).toEqual(['file:///c']);
  expect((await parseTeamSettings(`nix = { builders = ["ssh://h"] }\n`)).builders).toEqual(['ssh://h']);
});

test('the generated flake carries the caches as nixConfig, escaped', () => {
  const body = renderFlakeBody(parseManifest(TOML));
  expect(body).toContain(`  nixConfig = {\n    extra-substituters = [ "https://cache.example.org" "file:///mnt/c" ];\n    extra-trusted-public-keys = [ "${KEY}" ];\n  };\n`);
  expect(renderFlakeBody(parseManifest('name = "x"\n'))).not.toContain('nixConfig');
});

test('bad and hostile [cache]/[nix] values are refused with the place', () => {
  const bad = (t: string) => {
    try {
      parseManifest(t);
    } catch (e) {
      return (e as Error).message;
    }
    return 'accepted';
  };
  expect(bad('[cache]\nsubstituters = ["ftp://x"]\n')).toMatch(/^devenv\.toml:2:1: cache\.substituters\.0: 'ftp:\/\/x' is not allowed here/);
  expect(bad('[cache]\nsubstituters = ["https://a b"]\n')).toMatch(/is not allowed here/);
  expect(bad('[cache]\nsubstituters = ["https://x;rm -rf"]\n')).toMatch(/is not allowed here/);
  expect(bad('[cache]\ntrusted-public-keys = ["nokey"]\n')).toMatch(/cache\.trusted-public-keys\.0/);
  expect(bad('[cache]\npush = "s3://b?secret-key=/home/u/.ssh/id"\n')).toMatch(/must not name a secret-key/);
  expect(bad('[cache]\nsubstituters = ["file:///c?secret-key=/k"]\n')).toMatch(/must not name a secret-key/);
  expect(bad('[nix]\nbuilders = ["ssh-ng://h x86_64-linux ; ssh://evil"]\n')).toMatch(/nix\.builders\.0/);
  expect(bad('[nix]\nbuilders = ["http://h"]\n')).toMatch(/nix\.builders\.0/);
  expect(bad('[nix]\nmax-jobs = 4\n')).toMatch(/unknown key 'nix\.max-jobs'/);
  expect(bad('[cache]\nsubstituters = ["file:///c"]\n')).toBe('accepted');
});

test("nix's log says what was built, fetched, refused and ignored", () => {
  const log = [
    "warning: ignoring untrusted substituter 'file:///c'",
    "copying path '/nix/store/aaa-x' from 'file:///c'...",
    "\x1b[1mcopying path '/nix/store/bbb-y' from 'file:///c'...\x1b[0m",
    "warning: substituter 'file:///d' does not have a valid signature for path '/nix/store/ccc-z'",
    "warning: the substitute for '/nix/store/fff-v' from 'file:///d' is not signed by any of the keys in 'trusted-public-keys'",
    "warning: ignoring substitute for '/nix/store/ggg-u' from 'file:///d', as it's not signed by any of the keys in 'trusted-public-keys'",
    "warning: ignoring the client-specified setting 'builders', because it is a restricted setting and you are not a trusted user",
    "building '/nix/store/ddd-z.drv' on 'ssh-ng://u@h'...",
    "building '/nix/store/ddd-z.drv'...",
    "building '/nix/store/eee-w.drv'...",
  ].join('\n');
  const a = parseNixActivity(log);
  expect(a.built).toEqual(['/nix/store/ddd-z.drv', '/nix/store/eee-w.drv']);
  expect(a.remote).toEqual([{drv: '/nix/store/ddd-z.drv', on: 'ssh-ng://u@h'}]);
  expect(a.substituted.map((s) => s.path)).toEqual(['/nix/store/aaa-x', '/nix/store/bbb-y']);
  expect(a.refused).toEqual([{path: '/nix/store/ccc-z', from: 'file:///d'}, {path: '/nix/store/fff-v', from: 'file:///d'}, {path: '/nix/store/ggg-u', from: 'file:///d'}]);
  expect(a.ignoredSubstituters).toEqual(['file:///c']);
  expect(a.ignoredSettings).toEqual(['builders']);
});

test('the nix.conf lines for a user the daemon does not trust', async () => {
  const s = await parseTeamSettings(TOML);
  expect(nixConfFix(s, 'alice')).toEqual([
    'extra-trusted-substituters = https://cache.example.org file:///mnt/c',
    `extra-trusted-public-keys = ${KEY}`,
    'builders = ssh-ng://u@h x86_64-linux /k 4',
    'builders-use-substitutes = true',
  ]);
});

test('the message for a daemon that ignored only the builders asks for only those lines', async () => {
  const s = await parseTeamSettings(TOML);
  const m = untrustedMessage(s, 'alice', {substituters: [], builders: true});
  expect(m).toContain("the nix daemon ignores this project's [nix] builders: alice is not a trusted user");
  expect(m).toContain('\n    builders = ssh-ng://u@h x86_64-linux /k 4\n');
  expect(m).not.toContain('extra-trusted-substituters');
  expect(m).not.toContain('extra-trusted-public-keys');
  expect(untrustedMessage(s, 'alice', {substituters: ['file:///mnt/c'], builders: false})).toMatch(/\[cache\]: alice[^]*extra-trusted-substituters = file:\/\/\/mnt\/c\n[^]*extra-trusted-public-keys = /);
});

test('push URLs: binary caches are signed and zstd; ssh stores and a key in the URL are not', () => {
  expect(pushUrl('file:///c', '/home/u/.config/devenv/cache-keys/k.secret')).toEqual({url: 'file:///c?secret-key=/home/u/.config/devenv/cache-keys/k.secret&compression=zstd', signed: true});
  expect(pushUrl('s3://b?region=x&compression=xz', '/k').url).toBe('s3://b?region=x&compression=xz&secret-key=/k');
  expect(pushUrl('ssh-ng://h', '/k')).toEqual({url: 'ssh-ng://h', signed: false});
  expect(() => pushUrl('file:///c?secret-key=/other', '/k')).toThrow(/names a secret-key/);
  expect(() => pushUrl('file:///c d', '/k')).toThrow(/not a store URL/);
});

test("keys are ed25519 in Nix's format, the secret 0600, never overwritten", () => {
  const dir = mkdtempSync(join(tmpdir(), 'devenv-keys-'));
  const old = process.env.XDG_CONFIG_HOME;
  process.env.XDG_CONFIG_HOME = dir;
  try {
    const k = generateKey('team-1');
    expect(statSync(k.secretFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'devenv', 'cache-keys')).mode & 0o777).toBe(0o700);
    const [name, sec] = readFileSync(k.secretFile, 'utf8').trim().split(':');
    expect(name).toBe('team-1');
    const raw = Buffer.from(sec, 'base64');
    expect(raw.length).toBe(64);
    const pub = Buffer.from(k.publicKey.split(':')[1], 'base64');
    expect(raw.subarray(32).equals(pub)).toBe(true);
    // The seed signs what the public key verifies.
    const priv = createPrivateKey({key: {kty: 'OKP', crv: 'Ed25519', d: raw.subarray(0, 32).toString('base64url'), x: pub.toString('base64url')}, format: 'jwk'});
    const pubKey = createPublicKey({key: {kty: 'OKP', crv: 'Ed25519', x: pub.toString('base64url')}, format: 'jwk'});
    expect(verify(null, Buffer.from('m'), pubKey, sign(null, Buffer.from('m'), priv))).toBe(true);
    expect(() => generateKey('team-1')).toThrow(/already exists/);
    expect(() => generateKey('../evil')).toThrow(/not a usable key name/);
    expect(signingKey().name).toBe('team-1');
    generateKey('team-2');
    expect(() => signingKey()).toThrow(/several signing keys/);
  } finally {
    if (old === undefined) delete process.env.XDG_CONFIG_HOME;
    else process.env.XDG_CONFIG_HOME = old;
    rmSync(dir, {recursive: true, force: true});
  }
});

test("a nix without S3 support gets a plain message, not nix's", () => {
  const e = unsupportedStore(new NixFailedError('nix copy', "error: don't know how to open Nix store 's3://b'"), 's3://b?region=x&secret-key=/k') as Error & {hint: string; exitCode: number};
  expect(e.message).toBe('this nix cannot open s3://b: it was built without support for that store type');
  expect(e.hint).toMatch(/Nix built with S3 support/);
  expect(e.exitCode).toBe(4);
  const other = new Error('disk full');
  expect(unsupportedStore(other, 'file:///c')).toBe(other);
});
