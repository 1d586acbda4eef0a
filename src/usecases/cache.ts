// `devenv cache key generate` and `devenv cache push`: the team's binary cache (src/teams).
import {realpathSync} from 'node:fs';
import {join} from 'node:path';
import {DevenvError, NotAllowedError} from '../errors.js';
import {ensureEnvironment} from '../evaluation/evaluate.js';
import {runOnFlake} from '../evaluation/flake-run.js';
import {overrideArgs} from '../nix/nix.js';
import {openProject} from '../project/project.js';
import {readInputs} from '../project/inputs.js';
import {type KeyPair, generateKey, signingKey} from '../teams/keys.js';
import {type CopyResult, archiveResult, checkStoreUrl, copyClosure, displayUrl, pushUrl} from '../teams/push.js';
import {projectTeamSettings} from '../teams/settings.js';

export function cacheKeyGenerate(name?: string): KeyPair {
  return generateKey(name);
}

export interface PushReport {
  to: string;
  signedBy?: string;
  environment: CopyResult & {path: string};
  inputs: CopyResult;
}

export async function cachePush(cwd: string, opts: {to?: string; key?: string}): Promise<PushReport> {
  // A bad --to is a usage error wherever it is typed, before anything is looked at.
  if (opts.to) checkStoreUrl(opts.to);
  const p = openProject(cwd);
  const team = await projectTeamSettings(p, readInputs(p));
  // A push URL written in the project is used only once the project is allowed.
  let to = opts.to;
  if (!to) {
    if (!team.settings.push) throw new DevenvError('no store to push to', {hint: 'pass --to <store URL> (file:///dir, s3://bucket, ssh-ng://host, ...) or set [cache] push in devenv.toml', code: 'usage', exitCode: 2});
    if (!team.passed) throw new NotAllowedError(p.root, `is not allowed, so its [cache] push URL is not used (${team.reason})`);
    to = team.settings.push;
  }
  const key = /^(file|https?|s3):\/\//.test(to) ? signingKey(opts.key) : undefined;
  const target = pushUrl(to, key?.secretFile);
  const {entry} = await ensureEnvironment(p.root, {strict: true, progress: true});
  const profile = entry.roots.find((r) => r.endsWith('/profile')) ?? join(entry.roots[0]);
  let envPath: string;
  try {
    envPath = realpathSync(profile);
  } catch {
    throw new DevenvError(`the environment's GC root ${profile} is gone`, {hint: "run 'devenv reload' and push again"});
  }
  const environment = {...(await copyClosure([envPath], target.url)), path: envPath};
  // The flake's sources (the project and every input, nixpkgs above all), so a teammate evaluates offline of upstream.
  const archived = (await runOnFlake(p, ['flake', 'archive', '--json', '--to', target.url, ...overrideArgs()], `nix flake archive --to ${displayUrl(to)}`)).result;
  const inputs = archiveResult(archived.stdout, archived.stderr);
  return {to: displayUrl(to), signedBy: target.signed ? key?.name : undefined, environment, inputs};
}
