// What an OCI layout becomes outside devenv: an oci-archive written here, or whatever skopeo or a
// container engine (podman, docker) does with it, with their own configuration and auth.
import {existsSync, readdirSync, statSync} from 'node:fs';
import {basename, delimiter, dirname, join} from 'node:path';
import {DevenvError, UsageError} from '../errors.js';
import type {BuiltImage} from './image.js';
import type {LayerEntry} from './layer.js';
import {writeLayer} from './layer.js';
import {run} from '../util/run.js';

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

type Engine = {name: 'podman' | 'docker'; path: string};

/**
 * The image in the engine as localhost/REF (docker: REF). Nothing is copied when the engine
 * already has it under that name with the same ID (the config's digest). podman reads the OCI
 * layout directly; docker loads an oci-archive written to `tmp`.
 */
export async function loadIntoEngine(engine: Engine, image: BuiltImage, tmp: string): Promise<void> {
  const name = `localhost/${image.ref}`;
  const has = await run(engine.path, ['image', 'inspect', '--format', '{{.Id}}', name]);
  if (has.exitCode === 0 && `sha256:${has.stdout.trim().replace(/^sha256:/, '')}` === image.config) return;
  if (engine.name === 'podman') {
    // podman 4 names an image pulled from a layout after the path it was given, and refuses one
    // with capitals: given from two levels up, the path is the project's hex id and the kind.
    const rel = `${basename(dirname(image.layout))}/${basename(image.layout)}`;
    const pulled = await run(engine.path, ['pull', '--quiet', `oci:${rel}:${image.ref}`], {cwd: dirname(dirname(image.layout))});
    if (pulled.exitCode !== 0) throw new EngineError('podman pull', pulled.stderr || pulled.stdout, "see podman's message above");
    const id = pulled.stdout.trim().split('\n').pop()!;
    const tag = await run(engine.path, ['tag', id, name]);
    if (tag.exitCode !== 0) throw new EngineError('podman tag', tag.stderr, "see podman's message above");
    const names = await run(engine.path, ['image', 'inspect', '--format', '{{json .RepoTags}}', id]);
    for (const n of JSON.parse(names.stdout || '[]') as string[]) if (n !== name && n.includes(rel)) await run(engine.path, ['untag', id, n]);
    return;
  }
  const file = join(tmp, 'image.tar');
  await writeOciArchive(image.layout, file);
  const r = await run(engine.path, ['load', '-i', file]);
  if (r.exitCode !== 0) throw new EngineError(`${engine.name} load`, r.stderr || r.stdout, `see ${engine.name}'s message above`);
}
