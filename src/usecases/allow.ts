// `devenv allow [dir]`, `allow --prefix D` and `allowed`.
import {existsSync} from 'node:fs';
import {resolve} from 'node:path';
import {touchTrustEpoch} from '../activation/render.js';
import {DevenvError} from '../errors.js';
import {homedir} from 'node:os';
import {knownProject, type Project} from '../project/project.js';
import {syncFlake} from '../project/sync.js';
import {addUserConfigPrefix} from '../trust/config.js';
import {type AllowRecord, allow, allowedProjects, checkTrust, prefixProblem, trustPrefixes} from '../trust/trust.js';
import {realPath} from '../util/fs.js';

export async function allowProject(p: Project): Promise<AllowRecord> {
  // Bring a generated flake up to date first, so what is allowed is what will be evaluated.
  try {
    await syncFlake(p);
  } catch {
    // An invalid devenv.toml is still allowed; evaluation reports it with its location.
  }
  const rec = allow(p);
  touchTrustEpoch();
  return rec;
}

/** Trust every project under a directory of the user's own that no one else can write to. */
export function allowPrefix(dir: string): string[] {
  const abs = realPath(resolve(dir));
  if (abs === '/' || abs === realPath(homedir())) {
    throw new DevenvError(`refusing to trust everything under ${abs}`, {hint: 'trust the directories where your own projects live, e.g. ~/src'});
  }
  const problem = prefixProblem(abs);
  if (problem) throw new DevenvError(`${problem}; not trusting it as a prefix`, {hint: 'give a directory of your own that only you can write to, e.g. devenv allow --prefix ~/src'});
  const prefixes = trustPrefixes();
  if (!prefixes.some((p) => realPath(p) === abs)) {
    addUserConfigPrefix(abs);
    prefixes.push(abs);
  }
  touchTrustEpoch();
  return prefixes;
}

export interface AllowedListing {
  projects: (AllowRecord & {current: string})[];
  prefixes: string[];
}

export function listAllowed(): AllowedListing {
  return {
    projects: allowedProjects().map((r) => {
      let current: string;
      try {
        // A deleted project is not 'changed': its files are gone ('devenv deny <path>' forgets it).
        current = existsSync(r.root) ? checkTrust(knownProject(r.root)).state : 'missing';
      } catch {
        current = 'missing';
      }
      return {...r, current};
    }),
    prefixes: trustPrefixes(),
  };
}
