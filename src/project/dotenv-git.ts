// Which configured dotenv files git tracks (status and doctor warn: their values would be in
// every clone and commit). Not on the hot path: it runs git.
import {spawnSync} from 'node:child_process';
import {dotenvNames} from './dotenv.js';
import type {Project} from './project.js';

export function trackedDotenvFiles(p: Project): string[] {
  const names = dotenvNames(p.real);
  if (!p.git || !names.length) return [];
  const env = {...process.env};
  for (const k of Object.keys(env)) if (k.startsWith('GIT_')) delete env[k];
  const r = spawnSync('git', ['-c', 'core.fsmonitor=false', '-C', p.real, 'ls-files', '-z', '--cached', '--', ...names.map((n) => `:(literal)${n}`)], {encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'ignore']});
  if (r.status !== 0) return [];
  const tracked = new Set(r.stdout.split('\0').filter(Boolean));
  return names.filter((n) => tracked.has(n));
}
