// Pure logic for the PostgreSQL service: reading postmaster.pid and PG_VERSION, deciding whether
// a running server is this project's, building the server's arguments and the database SQL.
// No processes started here (unit-tested without PostgreSQL).

/** postmaster.pid, as PostgreSQL >= 10 writes it (see pidfile.h). */
export interface PidFile {
  pid: number;
  dataDir: string;
  startTime?: number;
  port?: number;
  socketDir?: string;
  listen?: string;
  /** "starting", "stopping", "ready" or "standby" (absent while the server is still writing the file). */
  status?: string;
}

export function parsePidFile(text: string): PidFile | undefined {
  const lines = text.split('\n');
  const pid = Number(lines[0]?.trim());
  // A negative pid marks a single-user backend (postgres --single); it still owns the dir.
  if (!Number.isInteger(pid) || pid === 0) return undefined;
  const num = (s: string | undefined): number | undefined => {
    const n = Number(s?.trim());
    return s?.trim() && Number.isFinite(n) ? n : undefined;
  };
  return {
    pid: Math.abs(pid),
    dataDir: lines[1] ?? '',
    startTime: num(lines[2]),
    port: num(lines[3]),
    socketDir: lines[4]?.trim() || undefined,
    listen: lines[5]?.trim() || undefined,
    status: lines[7]?.trim() || undefined,
  };
}

/** Major version from `postgres --version` ("postgres (PostgreSQL) 15.6 (Debian ...)") or a PG_VERSION file ("15"). */
export function parseMajor(text: string): number | undefined {
  const m = /(\d+)/.exec(text);
  return m ? Number(m[1]) : undefined;
}

export interface Owner {
  root: string;
  service: string;
  createdAt?: string;
}

export function parseOwner(text: string | null): Owner | undefined {
  if (!text) return undefined;
  try {
    const o = JSON.parse(text);
    return typeof o?.root === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

/** What the facts about a data dir's postmaster.pid say, from our project's point of view. */
export type Verdict =
  | {kind: 'none'}
  | {kind: 'ours'; pid: number; status?: string; port?: number}
  | {kind: 'stale'; pid: number; why: string}
  | {kind: 'foreign'; pid: number; why: string};

export interface Probe {
  alive(pid: number): boolean;
  /** Is the live pid a PostgreSQL server process? */
  isPostgres(pid: number): boolean;
  /** The process's working dir (PostgreSQL chdirs into its data dir), or undefined if unreadable. */
  cwd(pid: number): string | undefined;
}

/**
 * Is the server named by postmaster.pid this project's? It must be alive, be postgres, work in
 * our data dir (its cwd), name our data dir in the pid file, and the dir's owner marker must
 * name our root (devenv.sh#2349: never adopt another project's processes).
 */
export function judge(opts: {root: string; dataDir: string; realDataDir: string; pidFile: PidFile | undefined; pidFileText: string | null; owner: Owner | undefined}, probe: Probe): Verdict {
  const {pidFile, pidFileText} = opts;
  if (pidFileText === null) return {kind: 'none'};
  if (!pidFile) return {kind: 'stale', pid: 0, why: 'postmaster.pid is empty or unreadable'};
  const {pid} = pidFile;
  if (!probe.alive(pid)) return {kind: 'stale', pid, why: `postmaster.pid names pid ${pid}, which is no longer running`};
  if (!probe.isPostgres(pid)) return {kind: 'stale', pid, why: `postmaster.pid names pid ${pid}, which is now another program`};
  const cwd = probe.cwd(pid);
  if (cwd === undefined) return {kind: 'stale', pid, why: `postmaster.pid names pid ${pid}, a PostgreSQL of another user`};
  if (cwd !== opts.realDataDir && cwd !== opts.dataDir) return {kind: 'stale', pid, why: `postmaster.pid names pid ${pid}, which is the PostgreSQL of ${cwd}`};
  if (pidFile.dataDir !== opts.dataDir && pidFile.dataDir !== opts.realDataDir) {
    return {kind: 'foreign', pid, why: `PostgreSQL (pid ${pid}) serves this data dir but was started for ${pidFile.dataDir}`};
  }
  if (opts.owner && opts.owner.root !== opts.root) {
    return {kind: 'foreign', pid, why: `PostgreSQL (pid ${pid}) serves this data dir, which devenv created for ${opts.owner.root}`};
  }
  return {kind: 'ours', pid, status: pidFile.status, port: pidFile.port};
}

/** Settings devenv sets itself; the same keys in [services.postgres.settings] are ignored. */
export const MANAGED_SETTINGS = ['port', 'listen_addresses', 'unix_socket_directories'];

function settingValue(v: string | number | boolean): string {
  return typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v);
}

/** A list GUC element: double-quoted when it holds a separator or quote. */
const listElem = (s: string): string => (/[\s,"]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** `postgres` arguments: data dir, port, TCP on 127.0.0.1 only, the short socket dir, user settings. */
export function serverArgs(l: {dataDir: string; port: number; socketDir: string}, settings: Record<string, string | number | boolean> = {}): {args: string[]; ignored: string[]} {
  const args = ['-D', l.dataDir, '-c', `port=${l.port}`, '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${listElem(l.socketDir)}`];
  const ignored: string[] = [];
  for (const [k, v] of Object.entries(settings)) {
    if (MANAGED_SETTINGS.includes(k)) ignored.push(k);
    else args.push('-c', `${k}=${settingValue(v)}`);
  }
  return {args, ignored};
}

/** SQL literal (standard_conforming_strings is on by default since 9.1). */
export const sqlLiteral = (s: string): string => `'${s.replace(/'/g, "''")}'`;
/** SQL identifier. */
export const sqlIdent = (s: string): string => `"${s.replace(/"/g, '""')}"`;

/** Names from `wanted` that are missing, one per line: what psql -tA prints for this query. */
export function missingDatabasesQuery(wanted: string[]): string {
  return `SELECT d FROM unnest(ARRAY[${wanted.map(sqlLiteral).join(', ')}]::text[]) AS d WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = d)`;
}

/** Databases to create: those listed, plus the one PGDATABASE names (so a bare `psql` works). */
export function wantedDatabases(listed: string[] | undefined, pgdatabase: string): string[] {
  const out: string[] = [];
  for (const d of [...(listed ?? []), pgdatabase]) if (d && d !== 'postgres' && !out.includes(d)) out.push(d);
  return out;
}
