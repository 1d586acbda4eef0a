// What an OCI layout becomes outside devenv: an oci-archive written here, or whatever skopeo or a
// container engine (podman, docker) does with it, with their own configuration and auth.
import {existsSync, readdirSync, statSync} from 'node:fs';
import {delimiter, join} from 'node:path';
import {DevenvError, UsageError} from '../errors.js';
import type {LayerEntry} from './layer.js';
import {writeLayer} from './layer.js';

/** A program on PATH, or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const f = join(dir, name);
    try {
      if (statSync(f).isFile()) return f;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** podman, else docker; DEVENV_CONTAINER_ENGINE names another (a path or a name on PATH). */
export function findEngine(): {name: 'podman' | 'docker'; path: string} | undefined {
  const wanted = process.env.DEVENV_CONTAINER_ENGINE;
  if (wanted) {
    const path = wanted.includes('/') ? wanted : which(wanted);
    if (!path || !existsSync(path)) throw new UsageError(`DEVENV_CONTAINER_ENGINE=${wanted} is not a program`, 'set it to podman, docker or a path to one');
    return {name: /docker/.test(wanted) ? 'docker' : 'podman', path};
  }
  for (const name of ['podman', 'docker'] as const) {
    const path = which(name);
    if (path) return {name, path};
  }
  return undefined;
}

/** An OCI layout as one tar (the `oci-archive:` format), entries sorted, so it is reproducible too. */
export async function writeOciArchive(layout: string, file: string): Promise<{digest: string; size: number}> {
  const entries: LayerEntry[] = [];
  const walk = (abs: string, rel: string): void => {
    for (const name of readdirSync(abs).sort()) {
      const a = join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = statSync(a);
      if (st.isDirectory()) {
        entries.push({path: r, type: 'dir', mode: 0o755, uid: 0, gid: 0});
        walk(a, r);
      } else entries.push({path: r, type: 'file', mode: 0o644, uid: 0, gid: 0, source: a, size: st.size});
    }
  };
  walk(layout, '');
  return writeLayer(entries, file);
}

export class EngineError extends DevenvError {
  constructor(what: string, detail: string, hint: string) {
    super(`${what} failed: ${detail.trim().split('\n').slice(-5).join('\n  ')}`, {hint, code: 'container_engine'});
  }
}
