// The project's own variables, applied at activation (exec, export, the hook, the services'
// tools): its layout's (state dir, services' sockets and ports, [env] as written), memoized per
// manifest content, then its [dotenv] files. Apart from project-env.ts (PostgreSQL's layout),
// which the registry imports: the registry's variables are asked for here, so neither imports
// the other back. Built-ins only at import (exec's warm path).
import {createHash} from 'node:crypto';
import {join} from 'node:path';
import {manifestFilesLenient, manifestFingerprint} from '../manifest/files.js';
import {runtimeDir, stateDir} from '../paths.js';
import {readDotenv} from '../project/dotenv.js';
import type {Project} from '../project/project.js';
import {readFileOrNull, readMemo, writeMemo} from '../util/fs.js';
import {postgresEnv, postgresLayout, userName} from './project-env.js';

const portsFile = (): string => join(stateDir(), 'ports.json');

/**
 * The project's own variables: its layout (memoized per devenv.toml content so the warm exec
 * path does not parse TOML), then its [dotenv] files, read fresh and never stored.
 */
export async function projectEnv(p: Project): Promise<Record<string, string>> {
  const layout = await layoutEnv(p);
  return {...layout, ...readDotenv(p)};
}

async function layoutEnv(p: Project): Promise<Record<string, string>> {
  const files = manifestFilesLenient(p.real);
  const toml = manifestFingerprint(files);
  const digest = createHash('sha256').update(toml).update('\0').update(runtimeDir()).update(userName()).update('\0').update(JSON.stringify(p.instance)).update(readFileOrNull(portsFile()) ?? '').digest('hex');
  const memoFile = join(p.stateDir, p.layout.own('project-env.json'));
  const memo = readMemo<Record<string, string>>(memoFile, digest);
  if (memo) return memo;
  const env: Record<string, string> = {DEVENV_STATE: p.layout.serviceState};
  try {
    let manifest;
    if (toml) {
      // Not at import: the TOML parser and the schema stay off exec's warm path.
      const {manifestOf} = await import('../project/manifest.js');
      manifest = manifestOf(p)!.manifest;
      // [env] exactly as written: nix drops some names (TZ, TMPDIR, SSL_CERT_FILE) on the way.
      Object.assign(env, manifest.env ?? {});
    }
    const pg = manifest ? await postgresLayout(p, manifest) : undefined;
    if (pg) Object.assign(env, postgresEnv(pg));
    const {registryEnv} = await import('./registry.js');
    const more = await registryEnv(p);
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
