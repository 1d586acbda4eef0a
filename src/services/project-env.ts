// Values that depend on where a project lives (its root, service dirs and ports). They are
// applied at activation, never baked into the content-keyed cache entry.
import {createHash} from 'node:crypto';
import {join} from 'node:path';
import {runtimeDir, stateDir} from '../paths.js';
import {readDotenv} from '../project/dotenv.js';
import type {Project} from '../project/project.js';
import {manifestFilesLenient, manifestFingerprint} from '../manifest/files.js';
import {readFileOrNull, readMemo, writeMemo} from '../util/fs.js';
import {userName} from './account.js';

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
    if (toml) {
      // Not at import: the TOML parser and the schema stay off exec's warm path.
      const {manifestOf} = await import('../project/manifest.js');
      const manifest = manifestOf(p)!.manifest;
      // [env] exactly as written: nix drops some names (TZ, TMPDIR, SSL_CERT_FILE) on the way.
      Object.assign(env, manifest.env ?? {});
      const {serviceVariables} = await import('./registry.js');
      Object.assign(env, await serviceVariables(p, manifest));
    }
  } catch {
    // An invalid devenv.toml is reported by evaluation; activation still gets the basics.
    return env;
  }
  writeMemo(memoFile, digest, env);
  return env;
}
