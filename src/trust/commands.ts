// Core of allow / deny / allowed, shared by the commands and the watcher.
import {statSync} from 'node:fs';
import {homedir} from 'node:os';
import {resolve} from 'node:path';
import {DevenvError} from '../errors.js';
import {removeActivations, touchTrustEpoch} from '../activation/render.js';
import {requireRoot} from '../project/find.js';
import {syncFlake} from '../project/sync.js';
import {type AllowRecord, addPrefix, allow, allowedProjects, checkTrust, deny, trustPrefixes} from './trust.js';

export async function allowProject(dir: string): Promise<AllowRecord> {
  const root = requireRoot(dir);
  // Bring a generated flake up to date first, so what is allowed is what will be evaluated.
  try {
    await syncFlake(root);
  } catch {
    // An invalid devenv.toml is still allowed; evaluation reports it with its location.
  }
  const rec = allow(root);
  touchTrustEpoch();
  return rec;
}

export function denyProject(dir: string): {root: string; removed: number} {
  const root = requireRoot(dir);
  const removed = deny(root);
  removeActivations(root);
  touchTrustEpoch();
  return {root, removed};
}

export function allowPrefix(dir: string): string[] {
  const abs = resolve(dir);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {}
  if (!isDir) throw new DevenvError(`${abs} is not a directory; not trusting it as a prefix`, {hint: 'give an existing directory of your own, e.g. devenv allow --prefix ~/src'});
  if (abs === '/' || abs === homedir()) {
    throw new DevenvError(`refusing to trust everything under ${abs}`, {hint: 'trust the directories where your own projects live, e.g. ~/src'});
  }
  const prefixes = addPrefix(abs);
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
        current = checkTrust(r.root).state;
      } catch {
        current = 'missing';
      }
      return {...r, current};
    }),
    prefixes: trustPrefixes(),
  };
}
