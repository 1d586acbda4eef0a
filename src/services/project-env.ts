// Values that depend on where a project lives (its root, service dirs and ports). They are
// applied at activation, never baked into the content-keyed cache entry.
import {createHash, randomBytes} from 'node:crypto';
import type {Manifest} from '../manifest/model.js';
import {mkdirSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {userInfo} from 'node:os';
import {projectStateDir, runtimeDir, stateDir} from '../paths.js';
import {readDotenv} from '../project/dotenv.js';
import {manifestFilesLenient, manifestFingerprint} from '../manifest/files.js';
import {readFileOrNull, readMemo, realPath, writeFileAtomic, writeMemo} from '../util/fs.js';
import {projectPort} from './ports.js';
import {instance, portKey, serviceStateDir, socketDir} from './instance.js';

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

const portsFile = (): string => join(stateDir(), 'ports.json');

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

/** Socket dirs live in a short per-user runtime dir: Unix socket paths stop at ~107 bytes. */
export function socketDirFor(root: string): string {
  return join(runtimeDir(), 'pg-' + createHash('sha256').update(root).digest('hex').slice(0, 12));
}

/** A project reached through a symlink is the same project: same port, same socket dir. */
export const realRoot = realPath;

/** `manifest`, when the caller has parsed devenv.toml already (it is read otherwise). */
export async function postgresLayout(root: string, manifest?: Manifest): Promise<PostgresLayout | undefined> {
  const {postgresEnabled, DEFAULT_POSTGRES} = await import('../manifest/model.js');
  let m = manifest;
  if (!m) {
    const {loadManifest} = await import('../manifest/load.js');
    const loaded = loadManifest(realRoot(root));
    if (!loaded) return undefined;
    m = loaded.manifest;
  }
  if (!postgresEnabled(m)) return undefined;
  const pg = m.services!.postgres!;
  const real = realRoot(root);
  const passwordFile = join(projectStateDir(real), 'postgres.password');
  const state = serviceStateDir(root);
  const password = projectPassword(passwordFile);
  // A fixed port is the port, for devenv test too (tests connect to it); `test` refuses when it is taken.
  const port = pg.port ?? projectPort(portKey(root), 'postgres');
  // Secrets stay out of the checkout; a throwaway instance's goes with its temp state dir.
  const pgpassFile = instance().tag ? join(state, 'pgpass') : join(projectStateDir(real), 'pgpass');
  mkdirSync(dirname(pgpassFile), {recursive: true, mode: 0o700});
  writePgpass(pgpassFile, port, userName(), password);
  return {
    passwordFile,
    password,
    pgpassFile,
    port,
    dataDir: join(state, 'postgres'),
    socketDir: socketDir(root, 'postgres'),
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

/**
 * The project's own variables: its layout (memoized per devenv.toml content so the warm exec
 * path does not parse TOML), then its [dotenv] files, read fresh and never stored.
 */
export async function projectEnv(root: string): Promise<Record<string, string>> {
  const layout = await layoutEnv(root);
  return {...layout, ...readDotenv(root)};
}

async function layoutEnv(root: string): Promise<Record<string, string>> {
  const files = manifestFilesLenient(realRoot(root));
  const toml = manifestFingerprint(files);
  const digest = createHash('sha256').update(toml).update('\0').update(runtimeDir()).update(userName()).update('\0').update(JSON.stringify(instance())).update(readFileOrNull(portsFile()) ?? '').digest('hex');
  const memoFile = join(projectStateDir(root), instance().tag ? `project-env-${instance().tag}.json` : 'project-env.json');
  const memo = readMemo<Record<string, string>>(memoFile, digest);
  if (memo) return memo;
  const env: Record<string, string> = {DEVENV_STATE: serviceStateDir(root)};
  try {
    let manifest;
    if (toml) {
      const {loadManifest} = await import('../manifest/load.js');
      manifest = loadManifest(realRoot(root))!.manifest;
      // [env] exactly as written: nix drops some names (TZ, TMPDIR, SSL_CERT_FILE) on the way.
      Object.assign(env, manifest.env ?? {});
    }
    const pg = manifest ? await postgresLayout(root, manifest) : undefined;
    if (pg) Object.assign(env, postgresEnv(pg));
    const {registryEnv} = await import('./registry.js');
    const more = await registryEnv(root);
    // DATABASE_URL is PostgreSQL's when both run; MySQL's when it is the only database.
    if (!pg && more.MYSQL_URL) more.DATABASE_URL = more.MYSQL_URL;
    Object.assign(env, more);
  } catch {
    // An invalid devenv.toml is reported by evaluation; activation still gets the basics.
    return env;
  }
  writeMemo(memoFile, digest, env);
  return env;
}
