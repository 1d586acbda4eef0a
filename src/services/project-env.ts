// Values that depend on where a project lives (its root, service dirs and ports). They are
// applied at activation, never baked into the content-keyed cache entry.
import {createHash, randomBytes} from 'node:crypto';
import type {Manifest} from '../manifest/model.js';
import {join} from 'node:path';
import {projectStateDir, runtimeDir} from '../paths.js';
import {readFileOrNull, readMemo, realPath, writeFileAtomic, writeMemo} from '../util/fs.js';
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
}

/**
 * The TCP password of a project's server: random, created once, kept in the user's state dir
 * (0600) rather than in the project, where a cloned repository could plant a known one.
 */
function projectPassword(file: string): string {
  const existing = readFileOrNull(file)?.trim();
  if (existing) return existing;
  const pw = randomBytes(18).toString('base64url');
  writeFileAtomic(file, pw + '\n', 0o600);
  return pw;
}

export const userName = (): string => process.env.USER || process.env.LOGNAME || 'postgres';

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
    const tomlFile = join(root, 'devenv.toml');
    if (readFileOrNull(tomlFile) === null) return undefined;
    const {readManifest} = await import('../manifest/parse.js');
    m = readManifest(tomlFile);
  }
  if (!postgresEnabled(m)) return undefined;
  const pg = m.services!.postgres!;
  const real = realRoot(root);
  const passwordFile = join(projectStateDir(real), 'postgres.password');
  return {
    passwordFile,
    password: projectPassword(passwordFile),
    port: pg.port ?? projectPort(real, 'postgres'),
    dataDir: join(root, '.devenv', 'state', 'postgres'),
    socketDir: socketDirFor(real),
    logFile: join(root, '.devenv', 'state', 'postgres.log'),
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
    DATABASE_URL: `postgresql://${encodeURIComponent(l.user)}:${encodeURIComponent(l.password)}@127.0.0.1:${l.port}/${encodeURIComponent(l.database)}`,
  };
}

/**
 * The project's own variables. Memoized per devenv.toml content so the warm exec path
 * does not parse TOML.
 */
export async function projectEnv(root: string): Promise<Record<string, string>> {
  const toml = readFileOrNull(join(root, 'devenv.toml')) ?? '';
  const digest = createHash('sha256').update(toml).update('\0').update(runtimeDir()).update(userName()).digest('hex');
  const memoFile = join(projectStateDir(root), 'project-env.json');
  const memo = readMemo<Record<string, string>>(memoFile, digest);
  if (memo) return memo;
  const env: Record<string, string> = {DEVENV_STATE: join(root, '.devenv', 'state')};
  try {
    let manifest;
    if (toml) {
      const {parseManifest} = await import('../manifest/parse.js');
      manifest = parseManifest(toml, join(root, 'devenv.toml'));
      // [env] exactly as written: nix drops some names (TZ, TMPDIR, SSL_CERT_FILE) on the way.
      Object.assign(env, manifest.env ?? {});
    }
    const pg = manifest ? await postgresLayout(root, manifest) : undefined;
    if (pg) Object.assign(env, postgresEnv(pg));
  } catch {
    // An invalid devenv.toml is reported by evaluation; activation still gets the basics.
    return env;
  }
  writeMemo(memoFile, digest, env);
  return env;
}
