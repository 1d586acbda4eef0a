// Read devenv.toml: parse with @iarna/toml, validate with ajv against schema/devenv.schema.json.
// Every failure becomes one ManifestError naming file:line:col and the key path.
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {basename, isAbsolute} from 'node:path';
import TOML from '@iarna/toml';
import {Ajv, type ErrorObject, type ValidateFunction} from 'ajv';
import {ManifestError} from '../errors.js';
import {defNameProblem, envNameProblem} from '../shells/protocol.js';
import {type Channel, channelFor, VERSION_KEYS, type VersionedKind} from './channel.js';
import {locateKey} from './locate.js';
import {type Manifest, serviceVarOwner} from './model.js';
import {checkProcessPortVars} from './port-vars.js';

const require = createRequire(import.meta.url);
export const schema = require('../../schema/devenv.schema.json');

type SchemaNode = Record<string, unknown> & {properties?: Record<string, SchemaNode>};

/** The schema node of a key path (languages.python.version). */
export function schemaNode(root: SchemaNode, path: string[]): SchemaNode {
  return path.reduce((node, key) => node.properties![key], root);
}

/** The versions a channel offers, as the schema's enum values (PostgreSQL's are numbers). */
export const versionEnum = (c: Channel, kind: VersionedKind): (string | number)[] =>
  c[kind].map((e) => (kind === 'postgres' ? Number(e.version) : e.version));

// Versions come from the channel table, not from the schema file (which mirrors it for editors).
// A project pinning another channel gets only a shape check: nix says what that channel lacks.
const RELAXED: Record<VersionedKind, SchemaNode> = {
  python: {type: 'string', pattern: '^3\\.[0-9]{1,2}$'},
  node: {type: 'string', pattern: '^[0-9]{1,3}$'},
  postgres: {type: 'integer', minimum: 9, maximum: 99},
};

/** The schema without its `required` lists: a file merged with others may set only part of an entry. */
const withoutRequired = (node: unknown): void => {
  if (!node || typeof node !== 'object') return;
  if (!Array.isArray(node)) delete (node as Record<string, unknown>).required;
  for (const v of Object.values(node as object)) withoutRequired(v);
};

const validators = new Map<string, ValidateFunction>();
function validate(data: unknown, channel: Channel | undefined, partial = false) {
  const id = `${channel?.name ?? ''}\0${partial}`;
  let v = validators.get(id);
  if (!v) {
    const s: SchemaNode = JSON.parse(JSON.stringify(schema));
    if (partial) withoutRequired(s);
    for (const kind of Object.keys(VERSION_KEYS) as VersionedKind[]) {
      const parent = schemaNode(s, VERSION_KEYS[kind].slice(0, -1));
      const key = VERSION_KEYS[kind][VERSION_KEYS[kind].length - 1];
      const node = parent.properties![key];
      parent.properties![key] = channel ? {...node, enum: versionEnum(channel, kind)} : {description: node.description, ...RELAXED[kind]};
    }
    v = new Ajv({allErrors: false, strict: false, verbose: true}).compile(s);
    validators.set(id, v);
  }
  return v(data) ? null : (v.errors ?? []);
}

/** "3.10 is not in nixos-26.05, which has 3.11, 3.12, ..." for an enum error on a version key. */
function unavailableVersion(err: ErrorObject, path: string[], channel: Channel | undefined): {message: string; hint: string} | undefined {
  if (err.keyword !== 'enum' || !channel) return undefined;
  const kind = (Object.keys(VERSION_KEYS) as VersionedKind[]).find((k) => VERSION_KEYS[k].join('.') === path.join('.'));
  if (!kind) return undefined;
  const has = channel[kind].map((e) => e.version + (e.prerelease ? ' (pre-release)' : '')).join(', ');
  return {
    message: `${path.join('.')} ${JSON.stringify(err.data)} is not in ${channel.name}, which has ${has}`,
    hint: `pick one of those, or pin a nixpkgs branch that has it in [nixpkgs] url; nothing was changed`,
  };
}

/** What a table's names may be, in words, from its schema (e.g. [processes.<name>]). */
function allowedNames(rule: {pattern?: string; not?: {enum?: string[]}} | undefined): string {
  const words: Record<string, string> = {
    '^[a-z][a-z0-9_-]{0,31}$': 'names are lowercase letters, digits, - and _, starting with a letter, at most 32 characters',
    '^[a-z][a-z0-9-]*$': 'names are lowercase letters, digits and -, starting with a letter',
    '^[a-z][a-z0-9_-]*$': 'names are lowercase letters, digits, - and _, starting with a letter',
    '^[a-z_][a-z0-9_.]*$': 'names are lowercase letters, digits, _ and dots, starting with a letter or _',
    '^[A-Za-z_][A-Za-z0-9_]*$': 'names are letters, digits and _, not starting with a digit',
  };
  const base = rule?.pattern ? words[rule.pattern] ?? `names must match ${rule.pattern}` : 'see the schema';
  const taken = rule?.not?.enum;
  return taken?.length ? `${base}, and not ${taken.join(', ')}` : base;
}

function describe(err: ErrorObject, path: string[]): string {
  const key = path.join('.') || '(top level)';
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'enum':
      return `${key} must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v).replace(/^"(.*)"$/, '$1')).join(', ')}`;
    case 'additionalProperties': {
      const parent = err.parentSchema as {properties?: Record<string, unknown>};
      const known = Object.keys(parent.properties ?? {}).filter((k) => k !== '$schema');
      return `unknown key '${[...path, p.additionalProperty].join('.')}'` + (known.length ? ` (known keys here: ${known.join(', ')})` : '');
    }
    case 'type':
      return `${key} must be ${p.type === 'integer' ? 'a whole number' : p.type === 'array' ? 'a list' : p.type === 'object' ? 'a table' : `a ${p.type}`}`;
    case 'pattern':
      if (String(p.pattern).startsWith('^[^\\u0000')) return `${key} holds a control character (only tab, newline and carriage return are allowed: nix cannot pass the others through)`;
      if (path[0] === 'packages') return `${key}: '${err.data}' is not a nixpkgs attribute name (letters, digits, _ ' - and dots, e.g. python311Packages.numpy)`;
      return `${key}: '${err.data}' is not allowed here (must match ${p.pattern})`;
    case 'propertyNames':
      return `${key}: '${p.propertyName}' cannot be used as a name here` + (path[0] === 'env' ? ' (environment variable names are letters, digits and _, and some names are reserved for devenv or nix)' : ` (${allowedNames(err.parentSchema as {pattern?: string; not?: {enum?: string[]}})})`);
    case 'uniqueItems':
      return `${key} lists the same item twice`;
    case 'not':
      if (path[0] === 'cache') return `${key}: a store URL here must not name a secret-key (signing keys stay in your own config dir; 'devenv cache push' adds yours)`;
      return `${key} ${err.message}`;
    case 'minimum':
    case 'maximum':
      return `${key} must be ${err.keyword === 'minimum' ? '>=' : '<='} ${p.limit}`;
    default:
      return `${key} ${err.message}`;
  }
}

/**
 * Parse and validate manifest text. `file` is only used in messages (an absolute path by its base
 * name). `partial`: one of several merged files, whose entries may be completed by another.
 */
export function parseManifest(text: string, file = 'devenv.toml', opts: {partial?: boolean} = {}): Manifest {
  const name = isAbsolute(file) ? basename(file) : file;
  let data: unknown;
  try {
    data = TOML.parse(text);
  } catch (e) {
    const te = e as {line?: number; col?: number; message: string};
    const first = te.message.split('\n')[0].replace(/ at row \d+, col \d+, pos \d+:?$/, '');
    const loc = te.line !== undefined ? `${name}:${te.line + 1}:${(te.col ?? 0) + 1}` : name;
    throw new ManifestError(`syntax error: ${first}`, {location: loc, hint: `fix ${name} at that line; nothing was changed`});
  }
  // Plain JSON round trip: TOML dates and special objects become strings/plain values.
  const plain = JSON.parse(JSON.stringify(data));
  checkEnvNames(text, name, plain);
  checkDefNames(text, name, plain);
  const url = (plain as {nixpkgs?: {url?: unknown}})?.nixpkgs?.url;
  const channel = typeof url === 'string' ? channelFor(url) : channelFor(undefined);
  const errors = validate(plain, channel, opts.partial);
  if (errors && errors.length) {
    // A propertyNames failure arrives as the inner error with `propertyName` set on it.
    const first = errors[0] as ErrorObject & {propertyName?: string};
    const err: ErrorObject = first.propertyName ? {...first, keyword: 'propertyNames', params: {propertyName: first.propertyName}} : first;
    const path = err.instancePath.split('/').slice(1).map((s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const keyForLine = err.keyword === 'additionalProperties' ? [...path, String((err.params as {additionalProperty: string}).additionalProperty)]
      : err.keyword === 'propertyNames' ? [...path, String((err.params as {propertyName: string}).propertyName)]
      : path;
    const loc = locateKey(text, keyForLine.filter((s: string) => !/^\d+$/.test(s)));
    const unavailable = unavailableVersion(err, path, channel);
    throw new ManifestError(unavailable?.message ?? describe(err, path), {
      location: loc ? `${name}:${loc.line}:${loc.col}` : name,
      keyPath: path.join('.'),
      hint: unavailable?.hint ?? `fix ${name}; nothing was changed`,
    });
  }
  checkProcessPortVars(plain as Manifest, text, name);
  checkServiceVars(text, name, plain as Manifest);
  return plain as Manifest;
}

/**
 * `[env]` may not set a variable devenv computes for a service of this project (PGHOST, REDIS_URL,
 * WEB_PORT ...): it would either be overridden silently or point the clients away from this
 * checkout's server. A `[dotenv]` file, local to the developer, may override it.
 */
function checkServiceVars(text: string, file: string, m: Manifest): void {
  for (const key of Object.keys(m.env ?? {})) {
    const owner = serviceVarOwner(m, key);
    if (!owner) continue;
    const loc = locateKey(text, ['env', key]);
    throw new ManifestError(`env.${key} cannot be set: devenv sets it for [${owner}] to reach this checkout's own server (its port, socket and password differ per checkout)`, {
      location: loc ? `${file}:${loc.line}:${loc.col}` : file,
      keyPath: `env.${key}`,
      hint: `remove it from [env] in ${file}; to point your own shell elsewhere, set it in a [dotenv] file, which wins over devenv's value`,
    });
  }
}

/**
 * `[env]` names against the one list of names that would break the shell or devenv, each
 * refused with its reason (before the schema, whose message could not say why).
 */
function checkEnvNames(text: string, file: string, data: unknown): void {
  const env = (data as {env?: unknown})?.env;
  if (!env || typeof env !== 'object' || Array.isArray(env)) return;
  for (const name of Object.keys(env)) {
    const why = envNameProblem(name);
    if (!why) continue;
    const loc = locateKey(text, ['env', name]);
    throw new ManifestError(`env.${name} cannot be set: ${why}`, {location: loc ? `${file}:${loc.line}:${loc.col}` : file, keyPath: `env.${name}`, hint: `remove it from [env] in ${file}; nothing was changed`});
  }
}

/** [shell] aliases and functions: names that would break the shell or the hook, refused with file:line. */
function checkDefNames(text: string, file: string, data: unknown): void {
  const shell = (data as {shell?: {aliases?: unknown; functions?: unknown}})?.shell;
  const tables: [string[], unknown][] = [[['shell', 'aliases'], shell?.aliases], [['shell', 'functions'], shell?.functions]];
  const fns = shell?.functions as Record<string, unknown> | undefined;
  if (fns && typeof fns.fish === 'object' && fns.fish) tables.push([['shell', 'functions', 'fish'], fns.fish]);
  for (const [path, table] of tables) {
    if (!table || typeof table !== 'object' || Array.isArray(table)) continue;
    for (const [n, body] of Object.entries(table)) {
      if (path.length === 2 && path[1] === 'functions' && n === 'fish' && typeof body === 'object') continue;
      const why = defNameProblem(n);
      const orphan = !why && path.length === 3 && !(n in fns!) ? `there is no ${n} in [shell.functions] (fish bodies replace the translation of one)` : undefined;
      if (!why && !orphan) continue;
      const loc = locateKey(text, [...path, n]);
      const what = path[1] === 'aliases' ? 'alias' : 'function';
      throw new ManifestError(`${path.join('.')}.${n}: ${why ? `cannot be a project ${what}: ${why}` : orphan}`, {location: loc ? `${file}:${loc.line}:${loc.col}` : file, keyPath: `${path.join('.')}.${n}`, hint: `rename or remove it in ${file}; nothing was changed`});
    }
  }
}

/**
 * Validate a merged manifest (each file was validated partially): a missing required key is
 * reported at the file and line `where` gives for the entry's key path.
 */
export function validateMerged(m: Manifest, where: (path: string[]) => string): void {
  const url = m.nixpkgs?.url;
  const channel = typeof url === 'string' ? channelFor(url) : channelFor(undefined);
  const errors = validate(m, channel);
  if (!errors || !errors.length) return;
  const err = errors[0];
  const path = err.instancePath.split('/').slice(1).map((s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const unavailable = unavailableVersion(err, path, channel);
  const location = where(path);
  throw new ManifestError(unavailable?.message ?? describe(err, path), {location, keyPath: path.join('.'), hint: unavailable?.hint ?? `fix ${location.replace(/:\d+$/, '')}; nothing was changed`});
}

export function readManifest(file: string): Manifest {
  return parseManifest(readFileSync(file, 'utf8'), file);
}
