// Values that depend on where a project lives (its root, service dirs and ports). They are
// applied at activation, never baked into the content-keyed cache entry.
import type {Project} from '../project/project.js';
import {randomBytes} from 'node:crypto';
import type {Manifest} from '../manifest/model.js';
import {mkdirSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {userInfo} from 'node:os';
import {readFileOrNull, realPath, writeFileAtomic} from '../util/fs.js';
import {projectPort} from './ports.js';

export interface PostgresLayout {
  port: number;
  dataDir: string;
  socketDir: string;
  logFile: string;
  user: string;
  database: string;
  version: number;
  /** Password for TCP connections (scram-sha-256); the socket, private to the user, needs none. */
  passwordFile: string;
  password: string;
  /** libpq's password file (PGPASSFILE) for this server's TCP address: a plain postgres://localhost/<db> connects. */
  pgpassFile: string;
}

/** A field of a .pgpass line (':' and '\\' are escaped there). */
const pgpassField = (s: string): string => s.replace(/[\\:]/g, (c) => '\\' + c);

/**
 * Entries for this server only (localhost, which also covers the socket, and 127.0.0.1 at its
 * port), never `*`: the password is not offered to any other server the developer connects to.
 */
export function writePgpass(file: string, port: number, user: string, password: string): void {
  const body = ['localhost', '127.0.0.1'].map((h) => [h, String(port), '*', user, password].map(pgpassField).join(':')).join('\n') + '\n';
  if (readFileOrNull(file) !== body) writeFileAtomic(file, body, 0o600);
}

/**
 * The TCP password of a project's server: random, created once, kept in the user's state dir
 * (0600) rather than in the project, where a cloned repository could plant a known one.
 */
export function projectPassword(file: string): string {
  const existing = readFileOrNull(file)?.trim();
  if (existing) return existing;
  const pw = randomBytes(18).toString('base64url');
  writeFileAtomic(file, pw + '\n', 0o600);
  return pw;
}


let cachedUser: string | undefined;
/**
 * The database role and MariaDB user: the real uid's name, never $USER, which cron, `env -i` or a
 * `USER=postgres` prefix can change (a role made then would not be the one a normal shell uses).
 */
export function userName(): string {
  if (cachedUser) return cachedUser;
  try {
    cachedUser = userInfo().username;
  } catch {
    // A uid with no passwd entry (some containers): a stable name from the uid itself.
    cachedUser = `uid${process.getuid?.() ?? 0}`;
  }
  return cachedUser;
}

/** A project reached through a symlink is the same project: same port, same socket dir. */
export const realRoot = realPath;

/** `manifest`, when the caller has it already (the project's is read otherwise). */
export async function postgresLayout(p: Project, manifest?: Manifest): Promise<PostgresLayout | undefined> {
  const {postgresEnabled, DEFAULT_POSTGRES} = await import('../manifest/model.js');
  const m = manifest ?? (await import('../project/manifest.js')).manifestOf(p)?.manifest;
  if (!m || !postgresEnabled(m)) return undefined;
  const pg = m.services!.postgres!;
  const passwordFile = join(p.stateDir, 'postgres.password');
  const state = p.layout.serviceState;
  const password = projectPassword(passwordFile);
  // A fixed port is the port, for devenv test too (tests connect to it); `test` refuses when it is taken.
  const port = pg.port ?? projectPort(p.layout.portKey, 'postgres');
  // Secrets stay out of the checkout; a throwaway instance's goes with its temp state dir.
  const pgpassFile = p.instance.tag ? join(state, 'pgpass') : join(p.stateDir, 'pgpass');
  mkdirSync(dirname(pgpassFile), {recursive: true, mode: 0o700});
  writePgpass(pgpassFile, port, userName(), password);
  return {
    passwordFile,
    password,
    pgpassFile,
    port,
    dataDir: join(state, 'postgres'),
    socketDir: p.layout.socketDir('postgres'),
    logFile: join(state, 'postgres.log'),
    user: userName(),
    database: pg.databases?.[0] ?? m.name ?? 'postgres',
    version: pg.version ?? DEFAULT_POSTGRES,
  };
}

export function postgresEnv(l: PostgresLayout): Record<string, string> {
  return {
    PGHOST: l.socketDir,
    PGPORT: String(l.port),
    PGDATA: l.dataDir,
    PGUSER: l.user,
    PGDATABASE: l.database,
    PGPASSFILE: l.pgpassFile,
    DATABASE_URL: `postgresql://${encodeURIComponent(l.user)}:${encodeURIComponent(l.password)}@127.0.0.1:${l.port}/${encodeURIComponent(l.database)}`,
  };
}
