// State devenv did not create is never used. A service's data dir carries a marker devenv
// wrote: the project's real path and a secret token kept in the user's private state dir, so a
// committed, planted or copied-in dir (which cannot know the token) is refused, and so are
// symlinks anywhere between the project root and the service's files. Logs are opened
// without following a symlink in their last component.
import {randomBytes} from 'node:crypto';
import {closeSync, constants, lstatSync, openSync, writeSync} from 'node:fs';
import {join, relative, sep} from 'node:path';
import {ServiceError} from '../errors.js';
import {stateDir} from '../paths.js';
import {readFileOrNull, readJson, realPath, writeFileAtomic} from '../util/fs.js';

export const MARKER_FILE = 'devenv-owner.json';

export interface Marker {
  root: string;
  service: string;
  createdAt?: string;
  token?: string;
}

/** This user's secret, created once (0600): only devenv running as this user can write a valid marker. */
function userToken(): string {
  const file = join(stateDir(), 'marker-token');
  const have = readFileOrNull(file)?.trim();
  if (have) return have;
  const t = randomBytes(24).toString('hex');
  writeFileAtomic(file, t + '\n', 0o600);
  return t;
}

export function writeMarker(dir: string, root: string, service: string, createdAt?: string): void {
  const m: Marker = {root: realPath(root), service, createdAt: createdAt ?? new Date().toISOString(), token: userToken()};
  writeFileAtomic(join(dir, MARKER_FILE), JSON.stringify(m) + '\n', 0o600);
}

/** The marker of a dir devenv created for this user (any project), or undefined. */
export function readMarker(dir: string): Marker | undefined {
  const file = join(dir, MARKER_FILE);
  try {
    if (!lstatSync(file).isFile()) return undefined;
  } catch {
    return undefined;
  }
  const m = readJson<Marker>(file);
  return m && typeof m.root === 'string' && m.token === userToken() ? m : undefined;
}

const untrusted = (what: string, path: string, why: string): ServiceError =>
  new ServiceError(`${path} ${why}: devenv did not create it for you here, so it will not use it (${what} in a cloned repository can run commands or write to your files)`, `look at it, then move it away (mv '${path}' '${path}.untrusted') and run 'devenv up' again; devenv creates a fresh one`);

/**
 * Refuse a service's files unless devenv made them: no symlink on the way from the project root
 * to `paths` (or at them), data dirs owned by this user and marked by devenv.
 */
export function assertOwnState(top: string, opts: {dataDirs: string[]; files: string[]}): void {
  const root = top;
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  for (const p of [...opts.dataDirs, ...opts.files]) {
    const rel = relative(root, p);
    if (rel.startsWith('..')) continue;
    let cur = root;
    for (const part of rel.split(sep)) {
      cur = join(cur, part);
      let st;
      try {
        st = lstatSync(cur);
      } catch {
        break; // not there yet: devenv creates it
      }
      if (st.isSymbolicLink()) throw untrusted('a symlink', cur, 'is a symlink');
      if (uid >= 0 && st.uid !== uid) throw untrusted('a file of another user', cur, 'belongs to another user');
    }
  }
  for (const d of opts.dataDirs) {
    try {
      lstatSync(d);
    } catch {
      continue;
    }
    if (!readMarker(d)) throw untrusted('a data dir', d, 'has no devenv marker of yours');
  }
}

/** Open a log for appending; a symlink there (planted to make devenv write elsewhere) fails. */
export function openLogNoFollow(file: string): number {
  try {
    return openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw untrusted('a symlink', file, 'is a symlink');
    throw e;
  }
}

/** Append text to a log without following a symlink. */
export function appendLog(file: string, text: string): void {
  const fd = openLogNoFollow(file);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
