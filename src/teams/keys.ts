// Signing keys for `devenv cache push`: ed25519 pairs in Nix's format (name:base64), kept in the
// user's config dir (the secret 0600 in a 0700 dir), never in a project, an environment or the store.
import {generateKeyPairSync} from 'node:crypto';
import {closeSync, constants, lstatSync, mkdirSync, openSync, readdirSync, writeSync} from 'node:fs';
import {hostname} from 'node:os';
import {join} from 'node:path';
import {DevenvError, UsageError} from '../errors.js';
import {configDir} from '../paths.js';
import {readFileOrNull, writeFileAtomic} from '../util/fs.js';

export const keysDir = (): string => join(configDir(), 'cache-keys');
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export interface KeyPair {
  name: string;
  publicKey: string;
  secretFile: string;
}

export const defaultKeyName = (): string => `${hostname().replace(/[^A-Za-z0-9._-]/g, '-') || 'devenv'}-1`;

export function checkKeyName(name: string): void {
  if (!NAME_RE.test(name)) throw new UsageError(`'${name}' is not a usable key name`, 'use letters, digits, dots, dashes and underscores, e.g. --name cache.example.org-1');
}

/** Make a key pair: the secret file is created 0600 and never overwritten. */
export function generateKey(name = defaultKeyName()): KeyPair {
  checkKeyName(name);
  const {publicKey, privateKey} = generateKeyPairSync('ed25519');
  const pub = Buffer.from(publicKey.export({format: 'jwk'}).x!, 'base64url');
  const seed = Buffer.from(privateKey.export({format: 'jwk'}).d!, 'base64url');
  // Nix (libsodium) writes the secret key as seed || public key.
  const secret = `${name}:${Buffer.concat([seed, pub]).toString('base64')}`;
  const publicKeyText = `${name}:${pub.toString('base64')}`;
  const dir = keysDir();
  mkdirSync(dir, {recursive: true, mode: 0o700});
  const secretFile = join(dir, `${name}.secret`);
  let fd: number;
  try {
    fd = openSync(secretFile, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    // The key is never overwritten (its public half may be trusted already): no --force to offer.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new DevenvError(`a signing key named '${name}' already exists (${secretFile}); not overwriting it`, {
        hint: `choose another name, e.g. --name ${/-\d+$/.test(name) ? name.replace(/\d+$/, (n) => String(Number(n) + 1)) : `${name}-2`}`,
        code: 'file_exists',
      });
    throw e;
  }
  try {
    writeSync(fd, secret + '\n');
  } finally {
    closeSync(fd);
  }
  writeFileAtomic(join(dir, `${name}.public`), publicKeyText + '\n', 0o644);
  return {name, publicKey: publicKeyText, secretFile};
}

/** The user's keys, by name. */
export function listKeys(): KeyPair[] {
  let names: string[];
  try {
    names = readdirSync(keysDir());
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.secret'))
    .map((n) => n.slice(0, -'.secret'.length))
    .filter((n) => NAME_RE.test(n))
    .map((name) => ({name, secretFile: join(keysDir(), `${name}.secret`), publicKey: (readFileOrNull(join(keysDir(), `${name}.public`)) ?? '').trim()}))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The key to sign with: the named one, or the only one. Refuses a secret others can read. */
export function signingKey(name?: string): KeyPair {
  const keys = listKeys();
  const k = name ? keys.find((x) => x.name === name) : keys.length === 1 ? keys[0] : undefined;
  if (!k) {
    if (name) throw new DevenvError(`no signing key named '${name}' in ${keysDir()}`, {hint: `run 'devenv cache key generate --name ${name}'`});
    if (!keys.length) throw new DevenvError('no signing key yet', {hint: "run 'devenv cache key generate' and put the public key it prints into [cache] trusted-public-keys"});
    throw new DevenvError(`several signing keys (${keys.map((x) => x.name).join(', ')})`, {hint: 'choose one with --key NAME'});
  }
  const st = lstatSync(k.secretFile);
  if (!st.isFile() || st.mode & 0o077 || (process.getuid && st.uid !== process.getuid())) {
    throw new DevenvError(`${k.secretFile} is not a private file of yours (mode ${(st.mode & 0o777).toString(8)})`, {hint: `chmod 600 ${k.secretFile}`});
  }
  return k;
}
