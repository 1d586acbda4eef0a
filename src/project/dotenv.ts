// [dotenv] files: variables read from the project's .env files at activation (hook, exec, shell,
// up, export), never by nix: they are not inputs of the flake, not part of the cache key and
// never copied into the store. Their content is part of trust (trust/trust.ts folds it in), so
// a changed .env is not applied until allowed. Built-ins only at import (hot path); TOML is
// parsed lazily, once per devenv.toml content.
import {createHash} from 'node:crypto';
import {closeSync, constants, fstatSync, openSync, readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {isAbsolute, join, normalize} from 'node:path';
import {DevenvError} from '../errors.js';
import {manifestFilesLenient, manifestFingerprint} from '../manifest/files.js';
import {projectStateDir} from '../paths.js';
import {defNameProblem} from '../shells/protocol.js';
import {readFileOrNull, readMemo, writeMemo} from '../util/fs.js';
import {envNameProblem} from '../shells/protocol.js';

/** Names a dotenv file may not set: devenv's own, and what the environment builds by prepending. */
// One "KEY=value" string in an environment: Linux refuses a longer one (MAX_ARG_STRLEN, 32 pages)
// with E2BIG for every program the project then starts.
const MAX_VAR_BYTES = 128 * 1024;

export class DotenvError extends DevenvError {
  constructor(location: string, message: string) {
    super(`${location}: ${message}`, {hint: `fix ${location.replace(/:\d+$/, '')}; the environment was not changed`, code: 'dotenv_invalid'});
  }
}

/** A configured name is usable when it stays inside the project (relative, no '..'). */
export const safeDotenvName = (f: string): boolean => f !== '' && !isAbsolute(f) && !normalize(f).split('/').includes('..') && !f.includes('\0');

/** What activation needs of devenv.toml beyond the flake: dotenv files and language setup. */
export interface ActivationConfig {
  dotenv: string[];
  python?: {venv: boolean; requirements?: string; manager?: 'poetry'};
  node?: {install?: string};
  /** [shell] aliases and functions (functions.fish: fish bodies), names already checked. */
  defs?: {aliases: Record<string, string>; functions: Record<string, string>; fish: Record<string, string>};
  /** Some service or process has auto-start (the shell then asks for them on entry). */
  autoStart?: boolean;
  /** `[project] inputs`: globs (relative to the root) nix may read beyond the default inputs. */
  inputs?: string[];
}

/** Lock files an install command reads (with package.json, whose scripts it runs). */
/** What `poetry install` reads (the project's dependencies and their lock). */
export const POETRY_FILES = ['pyproject.toml', 'poetry.lock'];

export const NODE_LOCKS: Record<string, string> = {npm: 'package-lock.json', pnpm: 'pnpm-lock.yaml', yarn: 'yarn.lock'};

/** The project's ActivationConfig, memoized per devenv.toml content (the warm path parses no TOML). */
export function activationConfig(root: string): ActivationConfig {
  // Every merged manifest file (includes, devenv.toml, devenv.local.toml), by the merge rule of
  // manifest/load.ts: dotenv files unioned, language keys the later file's, inputs devenv.toml's own.
  const files = manifestFilesLenient(root);
  if (!files.some((f) => /dotenv|languages|project|shell|auto-start/.test(f.text))) return {dotenv: []};
  const toml = manifestFingerprint(files);
  // 'v4': memos written before `[project] inputs`, [shell] aliases, auto-start or python's manager were read must not hide them.
  const digest = createHash('sha256').update(`v4\0${toml}`).digest('hex');
  const memo = join(projectStateDir(root), 'activation-config.json');
  const hit = readMemo<ActivationConfig>(memo, digest);
  if (hit) return hit;
  const out: ActivationConfig = {dotenv: []};
  try {
    // Lazily and synchronously: trust checks are synchronous, and this runs only when devenv.toml changed.
    type Raw = {project?: {inputs?: unknown}; dotenv?: {files?: unknown}; languages?: {python?: {venv?: unknown; requirements?: unknown; manager?: unknown}; node?: {install?: unknown}}; shell?: {aliases?: unknown; functions?: unknown}; services?: unknown; processes?: unknown};
    const TOML = createRequire(import.meta.url)('@iarna/toml') as {parse(t: string): Raw};
    let py: {venv?: unknown; requirements?: unknown; manager?: unknown} | undefined;
    let node: {install?: unknown} | undefined;
    let shell: {aliases?: unknown; functions?: unknown} | undefined;
    let autoStart = false;
    const asTable = (t: unknown): Record<string, unknown> => (t && typeof t === 'object' && !Array.isArray(t) ? (t as Record<string, unknown>) : {});
    for (const f of files) {
      const raw = TOML.parse(f.text);
      const dotenv = raw.dotenv?.files;
      if (Array.isArray(dotenv)) for (const d of dotenv) if (typeof d === 'string' && safeDotenvName(d) && !out.dotenv.includes(d)) out.dotenv.push(d);
      const inputs = raw.project?.inputs;
      if (f.name === 'devenv.toml' && Array.isArray(inputs)) out.inputs = inputs.filter((x): x is string => typeof x === 'string' && safeDotenvName(x));
      if (raw.languages?.python) py = {...py, ...raw.languages.python};
      if (raw.languages?.node) node = {...node, ...raw.languages.node};
      if (raw.shell) shell = {aliases: {...asTable(shell?.aliases), ...asTable(raw.shell.aliases)}, functions: {...asTable(shell?.functions), ...asTable(raw.shell.functions)}};
      if (autoStartNames(raw).length) autoStart = true;
    }
    // poetry installs into .venv, which it needs made first (with the environment's python).
    const poetry = py?.manager === 'poetry';
    if (py) out.python = {venv: py.venv === true || poetry, ...(poetry ? {manager: 'poetry' as const} : typeof py.requirements === 'string' && safeDotenvName(py.requirements) ? {requirements: py.requirements} : {})};
    if (node) out.node = typeof node.install === 'string' && NODE_LOCKS[node.install.split(' ')[0]] ? {install: node.install} : {};
    const defs = shellDefs(shell);
    if (defs) out.defs = defs;
    if (autoStart) out.autoStart = true;
  } catch {
    // An invalid devenv.toml is reported by evaluation with its location.
  }
  try {
    writeMemo(memo, digest, out);
  } catch {}
  return out;
}

/** Strings under names the shells accept (parseManifest refuses the others with file:line; here they are only skipped). */
function stringsOf(table: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!table || typeof table !== 'object' || Array.isArray(table)) return out;
  for (const [k, v] of Object.entries(table)) if (typeof v === 'string' && !defNameProblem(k)) out[k] = v;
  return out;
}

function shellDefs(shell: {aliases?: unknown; functions?: unknown} | undefined): ActivationConfig['defs'] {
  if (!shell) return undefined;
  const aliases = stringsOf(shell.aliases);
  const functions = stringsOf(shell.functions);
  const fish = stringsOf((shell.functions as {fish?: unknown} | undefined)?.fish);
  return Object.keys(aliases).length || Object.keys(functions).length ? {aliases, functions, fish} : undefined;
}

/**
 * The services and processes to start when a shell enters: [services] auto-start for all,
 * each unit's own auto-start overriding it. `enable = false` units never.
 */
export function autoStartNames(raw: {services?: unknown; processes?: unknown}): string[] {
  const table = (x: unknown): Record<string, unknown> => (x && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : {});
  const services = table(raw.services);
  const all = services['auto-start'] === true;
  const out: string[] = [];
  const units: [string, Record<string, unknown>][] = [
    ...['postgres', 'redis', 'mysql', 'caddy'].filter((n) => n in services).map((n) => [n, table(services[n])] as [string, Record<string, unknown>]),
    ...Object.entries(table(raw.processes)).map(([n, v]) => [n, table(v)] as [string, Record<string, unknown>]),
  ];
  for (const [name, cfg] of units) {
    if (cfg.enable === false) continue;
    if (typeof cfg['auto-start'] === 'boolean' ? cfg['auto-start'] : all) out.push(name);
  }
  return out;
}

/** `[project] inputs` of the project at `root`. */
export const declaredInputs = (root: string): string[] => activationConfig(root).inputs ?? [];

/** [dotenv] files of the project at `root`, in order. */
export const dotenvNames = (root: string): string[] => activationConfig(root).dotenv;

/**
 * Whether an install command rewrites its lock file (`npm install`, `pnpm install`, `yarn`):
 * then the lock is the install's output, not what it runs, and rewriting it changes nothing.
 * `npm ci`, `--frozen-lockfile` and `--immutable` read it.
 */
export const installWritesLock = (cmd: string): boolean =>
  /^(npm|pnpm) (install|i|add)\b|^yarn( install| add)?\b/.test(cmd.trim()) && !/--(frozen-lockfile|immutable|ci)\b/.test(cmd);

/** Files whose content decides a language setup (pip, npm ci), relative to the root. */
export function setupInputNames(root: string): string[] {
  const c = activationConfig(root);
  const out: string[] = [];
  if (c.python?.venv && c.python.requirements) out.push(c.python.requirements);
  if (c.python?.manager === 'poetry') out.push(...POETRY_FILES);
  if (c.node?.install) out.push('package.json', ...(installWritesLock(c.node.install) ? [] : [NODE_LOCKS[c.node.install.split(' ')[0]]]));
  return out;
}

/** The file's bytes, or null when it does not exist. A symlink is refused: the repository could plant one. */
function readNoFollow(file: string, name: string): string | null {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    if (code === 'ELOOP') throw new DotenvError(name, 'is a symbolic link; devenv reads dotenv files only as regular files');
    throw new DotenvError(name, `cannot be read (${code})`);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new DotenvError(name, 'is not a regular file');
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Per file trust covers beyond nix's inputs (dotenv files, and the files a setup runs code
 * from: requirements, package.json, lock files): sha256 of its content, or 'absent'.
 */
export function dotenvDigests(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [...new Set([...dotenvNames(root), ...setupInputNames(root)])]) {
    let text: string | null;
    try {
      text = readNoFollow(join(root, name), name);
    } catch (e) {
      text = `unreadable:${(e as Error).message}`;
    }
    out[name] = text === null ? 'absent' : createHash('sha256').update(text).digest('hex');
  }
  return out;
}

const ESCAPES: Record<string, string> = {n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\', $: '$', '`': '`'};

/**
 * Parse dotenv text: `KEY=value` lines, optional `export `, `#` comments, blank lines.
 * Values are literal (no ${VAR} expansion, no command substitution): unquoted (trimmed, a
 * ` #` starts a comment), '...' verbatim, "..." with \n \r \t \" \\ \$ \` escapes and may span
 * lines. Any other line is an error naming file:line; the value itself is never echoed.
 */
export function parseDotenv(text: string, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const lines = src.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const fail = (msg: string): never => {
      throw new DotenvError(`${name}:${lineNo}`, msg);
    };
    const line = lines[i].trimStart();
    if (line.trim() === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/s.exec(line);
    if (!m) {
      const key = /^(?:export\s+)?([^=\s]*)/.exec(line)?.[1] ?? '';
      fail(line.includes('=') ? `'${key.slice(0, 40)}' is not a variable name (letters, digits and _, not starting with a digit)` : 'expected KEY=value');
    }
    const key = m![1];
    const why = envNameProblem(key, 'dotenv');
    if (why) fail(`${key} cannot be set from a dotenv file: ${why}`);
    let rest = m![2];
    let value: string;
    if (rest.startsWith("'")) {
      const end = rest.indexOf("'", 1);
      if (end < 0) fail('unterminated single quote');
      value = rest.slice(1, end);
      rest = rest.slice(end + 1);
    } else if (rest.startsWith('"')) {
      const startLine = lineNo;
      let buf = rest;
      let j = 1;
      let acc = '';
      for (;;) {
        if (j >= buf.length) {
          // A double-quoted value may continue on the next lines (verbatim).
          if (i + 1 >= lines.length) throw new DotenvError(`${name}:${startLine}`, 'unterminated double quote');
          i++;
          buf += '\n' + lines[i];
          acc += '\n';
          j++;
          continue;
        }
        const c = buf[j];
        if (c === '\\' && j + 1 < buf.length) {
          acc += ESCAPES[buf[j + 1]] ?? `\\${buf[j + 1]}`;
          j += 2;
        } else if (c === '"') {
          j++;
          break;
        } else {
          acc += c;
          j++;
        }
      }
      value = acc;
      rest = buf.slice(j);
    } else {
      const hash = rest.search(/\s#/);
      value = (hash >= 0 ? rest.slice(0, hash) : rest).trim();
      rest = '';
    }
    const trailing = rest.trim();
    if (trailing !== '' && !trailing.startsWith('#')) fail(`unexpected text after the closing quote of ${key}`);
    if (/[\0]/.test(value)) fail(`${key} holds a NUL byte`);
    // Counted from the line the value starts on (a quoted value may span lines).
    if (Buffer.byteLength(`${key}=${value}`) + 1 > MAX_VAR_BYTES) {
      throw new DotenvError(`${name}:${lineNo}`, `${key} is over 128 KiB (${Math.ceil(Buffer.byteLength(value) / 1024)} KiB): no program could start with it in its environment; keep large data in a file and set ${key} to its path`);
    }
    out[key] = value;
  }
  return out;
}

/** The variables of every configured dotenv file, later files winning; a missing file is skipped. */
export function readDotenv(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of dotenvNames(root)) {
    const text = readNoFollow(join(root, name), name);
    if (text !== null) Object.assign(out, parseDotenv(text, name));
  }
  return out;
}
