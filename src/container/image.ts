// `devenv container build`: an OCI image (an OCI layout directory) from the environment's closure,
// without a container engine. One layer per store path, so two projects on the same nixpkgs share
// layers; a layer's bytes depend only on its store path, so it is written once per machine and
// kept (keyed by the store path, which never changes) in the user's cache.
import {createHash} from 'node:crypto';
import {copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync} from 'node:fs';
import {basename, join} from 'node:path';
import {DevenvError} from '../errors.js';
import type {EnvSpec} from '../env/spec.js';
import type {Manifest} from '../manifest/model.js';
import {runNix} from '../nix/nix.js';
import {cacheDir} from '../paths.js';
import {readJson, writeFileAtomic} from '../util/fs.js';
import {DATA_DIR, RUN_DIR, entrypointScript, imagePorts} from './entrypoint.js';
import {type LayerEntry, type Written, parents, treeEntries, writeLayer} from './layer.js';

/** At most this many layers; past it the smallest store paths share the last one (overlayfs and registries cap layers near 127). */
export const MAX_LAYERS = 100;
export const UID = 1000;
export const GID = 1000;
export const WORKDIR = '/app';
/** Bumped when a layer's byte format changes, so cached layers are not reused across formats. */
const LAYER_FORMAT = 1;

export type ImageKind = 'processes' | 'shell';

export interface ContainerSettings {
  name: string;
  tag: string;
  user: string;
  ports: number[];
}

export interface StorePathInfo {
  path: string;
  narSize: number;
}

export interface BuiltImage {
  name: string;
  tag: string;
  kind: ImageKind;
  /** `name:tag` for processes, `name:tag-shell` for a shell image. */
  ref: string;
  layout: string;
  /** The manifest's digest: the image's identity. */
  digest: string;
  /** The config's digest: what podman and docker call the image's ID. */
  config: string;
  layers: {digest: string; size: number; paths: string[]}[];
  ports: number[];
  /** What `container run` publishes: the processes' ports and [container] ports (not the services'). */
  publish: number[];
  user: string;
  workdir: string;
  dataVolume: string;
}

const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const containerCache = (): string => join(cacheDir(), 'container');
const blobsDir = (): string => join(containerCache(), 'blobs', 'sha256');

/** `[container]` with defaults: the image is named after the project. */
export function containerSettings(m: Manifest, root: string): ContainerSettings {
  const c = m.container ?? {};
  const fallback = (m.name ?? basename(root)).toLowerCase().replace(/[^a-z0-9._-]/g, '-').replace(/^[^a-z0-9]+/, '') || 'devenv';
  return {name: c.name ?? fallback, tag: c.tag ?? 'latest', user: c.user ?? 'devenv', ports: c.ports ?? []};
}

/** Every store path the environment needs, with its size (`nix path-info --recursive`). */
export async function closureOf(storePath: string): Promise<StorePathInfo[]> {
  const {stdout} = await runNix(['path-info', '--recursive', '--json', storePath], {what: 'nix path-info'});
  const parsed = JSON.parse(stdout) as unknown;
  // Nix before 2.19 prints a list, later versions an object keyed by path.
  const list = Array.isArray(parsed)
    ? (parsed as {path: string; narSize: number}[])
    : Object.entries(parsed as Record<string, {narSize: number}>).map(([path, v]) => ({path, narSize: v.narSize}));
  return list.map((p) => ({path: p.path, narSize: p.narSize})).sort((a, b) => a.path.localeCompare(b.path));
}

/** Store paths grouped into layers: one each, the smallest sharing the last layer beyond MAX_LAYERS. */
export function groupLayers(closure: StorePathInfo[], max = MAX_LAYERS): string[][] {
  if (closure.length <= max) return closure.map((p) => [p.path]);
  const bySize = [...closure].sort((a, b) => b.narSize - a.narSize || a.path.localeCompare(b.path));
  const own = bySize.slice(0, max - 1).map((p) => p.path).sort();
  const rest = bySize.slice(max - 1).map((p) => p.path).sort();
  return [...own.map((p) => [p]), rest];
}

/** A program inside the closure: `bin/<name>` of the first path whose name suggests it, else of any. */
export function findInClosure(closure: string[], name: string, prefer: RegExp): string | undefined {
  const ordered = [...closure.filter((p) => prefer.test(basename(p))), ...closure.filter((p) => !prefer.test(basename(p)))];
  for (const p of ordered) {
    const f = join(p, 'bin', name);
    try {
      if (statSync(f).isFile()) return f;
    } catch {
      // not in this path
    }
  }
  return undefined;
}

/** A layer from the cache or written now; the cache key is the store paths (immutable) and the format. */
async function storeLayer(paths: string[]): Promise<Written> {
  const key = createHash('sha256').update(`${LAYER_FORMAT}\0${paths.join('\0')}`).digest('hex').slice(0, 32);
  const index = join(containerCache(), 'layers', `${key}.json`);
  const known = readJson<Written>(index);
  if (known && existsSync(join(blobsDir(), known.digest.slice(7))) && statSync(join(blobsDir(), known.digest.slice(7))).size === known.size) return known;
  const rels = paths.map((p) => p.slice(1));
  const entries: LayerEntry[] = [...parents(rels)];
  for (const p of paths) entries.push(...treeEntries(p, p.slice(1)));
  return blob(entries, index);
}

async function blob(entries: LayerEntry[], index?: string): Promise<Written> {
  mkdirSync(blobsDir(), {recursive: true, mode: 0o700});
  const tmp = join(blobsDir(), `.new-${process.pid}-${Date.now()}`);
  const w = await writeLayer(entries, tmp);
  const final = join(blobsDir(), w.digest.slice(7));
  renameSync(tmp, final);
  if (index) {
    mkdirSync(join(containerCache(), 'layers'), {recursive: true, mode: 0o700});
    writeFileAtomic(index, JSON.stringify(w) + '\n', 0o600);
  }
  return w;
}

function jsonBlob(value: unknown): {digest: string; size: number; bytes: Buffer} {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = sha256(bytes);
  mkdirSync(blobsDir(), {recursive: true, mode: 0o700});
  writeFileAtomic(join(blobsDir(), digest.slice(7)), bytes, 0o644);
  return {digest, size: bytes.length, bytes};
}

export interface BuildInput {
  root: string;
  /** The project's input files (relative to root) copied into the working directory. */
  files: string[];
  manifest: Manifest;
  spec: EnvSpec;
  /** The environment's store path (the profile print-dev-env wrote). */
  envPath: string;
  kind: ImageKind;
  /** Where the OCI layout goes. */
  layout: string;
  onProgress?: (line: string) => void;
}

export async function buildImage(i: BuildInput): Promise<BuiltImage> {
  const settings = containerSettings(i.manifest, i.root);
  const closureInfo = await closureOf(i.envPath);
  const closure = closureInfo.map((p) => p.path);
  const bash = findInClosure(closure, 'bash', /-bash-[0-9]/);
  const tools = {mkdir: findInClosure(closure, 'mkdir', /-coreutils-/), sleep: findInClosure(closure, 'sleep', /-coreutils-/), chmod: findInClosure(closure, 'chmod', /-coreutils-/)};
  const missing = [!bash && 'bash', ...Object.entries(tools).filter(([, v]) => !v).map(([k]) => k)].filter(Boolean);
  if (missing.length) throw new DevenvError(`the environment's closure has no ${missing.join(', ')}; the image's entrypoint needs them`, {hint: "add them to packages in devenv.toml (e.g. packages = [\"bashInteractive\", \"coreutils\"]), then run 'devenv container build' again", code: 'container_tools'});
  const byName = imagePorts(i.manifest);
  const ports = [...new Set([...Object.values(byName), ...settings.ports])].sort((a, b) => a - b);
  const publish = [...new Set([...Object.entries(byName).filter(([n]) => i.manifest.processes?.[n]).map(([, p]) => p), ...settings.ports])].sort((a, b) => a - b);

  // Layers: the store, then what is the project's own.
  const groups = groupLayers(closureInfo);
  const layers: BuiltImage['layers'] = [];
  let n = 0;
  for (const g of groups) {
    i.onProgress?.(`layer ${++n}/${groups.length + 1}: ${g.length === 1 ? basename(g[0]) : `${g.length} small store paths`}`);
    const w = await storeLayer(g);
    layers.push({...w, paths: g});
  }
  const script = entrypointScript({manifest: i.manifest, bash: bash!, tools: tools as {mkdir: string; sleep: string; chmod: string}, user: settings.user, workdir: WORKDIR});
  const app = appEntries(i, settings, i.kind === 'processes' ? script : undefined, bash!);
  i.onProgress?.(`layer ${groups.length + 1}/${groups.length + 1}: the project's files`);
  const appLayer = await blob(app);
  layers.push({...appLayer, paths: []});

  const env = imageEnv(i.spec, i.manifest, closure, [bash!, ...Object.values(tools) as string[]], settings.user);
  const config = {
    created: '1970-01-01T00:00:01Z',
    architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
    os: 'linux',
    config: {
      User: `${UID}:${GID}`,
      Env: env,
      WorkingDir: WORKDIR,
      Entrypoint: i.kind === 'processes' ? [bash!, '/devenv/entrypoint'] : [bash!],
      ExposedPorts: Object.fromEntries(ports.map((p) => [`${p}/tcp`, {}])),
      Volumes: i.kind === 'processes' ? {[DATA_DIR]: {}} : {},
      StopSignal: 'SIGTERM',
      Labels: {'dev.devenv.kind': i.kind, 'dev.devenv.user': settings.user},
    },
    rootfs: {type: 'layers', diff_ids: layers.map((l) => l.digest)},
    history: layers.map((l) => ({created: '1970-01-01T00:00:01Z', created_by: l.paths.length ? `devenv: ${l.paths.map((p) => basename(p)).join(' ')}` : "devenv: the project's files"})),
  };
  const cfg = jsonBlob(config);
  const ref = i.kind === 'processes' ? `${settings.name}:${settings.tag}` : `${settings.name}:${settings.tag}-shell`;
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfg.digest, size: cfg.size},
    layers: layers.map((l) => ({mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: l.digest, size: l.size})),
  };
  const man = jsonBlob(manifest);
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{mediaType: manifest.mediaType, digest: man.digest, size: man.size, annotations: {'org.opencontainers.image.ref.name': ref}}],
  };
  writeLayout(i.layout, [cfg.digest, man.digest, ...layers.map((l) => l.digest)], index);
  return {name: settings.name, tag: settings.tag, kind: i.kind, ref, layout: i.layout, digest: man.digest, config: cfg.digest, layers, ports, publish, user: settings.user, workdir: WORKDIR, dataVolume: DATA_DIR};
}

/** The OCI layout directory: blobs hard-linked from the shared blob store (copied across file systems). */
function writeLayout(dir: string, digests: string[], index: unknown): void {
  rmSync(join(dir, 'blobs'), {recursive: true, force: true});
  mkdirSync(join(dir, 'blobs', 'sha256'), {recursive: true, mode: 0o755});
  for (const d of new Set(digests)) {
    const from = join(blobsDir(), d.slice(7));
    const to = join(dir, 'blobs', 'sha256', d.slice(7));
    try {
      linkSync(from, to);
    } catch {
      copyFileSync(from, to);
    }
  }
  writeFileAtomic(join(dir, 'oci-layout'), JSON.stringify({imageLayoutVersion: '1.0.0'}), 0o644);
  writeFileAtomic(join(dir, 'index.json'), JSON.stringify(index), 0o644);
}

/** PATH (the environment's, then the closure's bash and coreutils) and the environment's variables: never dotenv values. */
export function imageEnv(spec: EnvSpec, m: Manifest, closure: string[], tools: string[], user: string): string[] {
  const env = new Map<string, string>();
  for (const [k, v] of Object.entries(spec.vars)) env.set(k, v);
  for (const [k, entries] of Object.entries(spec.prepend)) {
    if (k === 'PATH') continue;
    env.set(k, entries.filter((e) => e.startsWith('/nix/store/')).join(':'));
  }
  const toolDirs = tools.map((t) => t.slice(0, t.lastIndexOf('/')));
  const path = [...(spec.prepend.PATH ?? []), ...toolDirs].filter((e) => closure.some((c) => e === c || e.startsWith(c + '/')));
  env.set('PATH', [...new Set(path)].join(':'));
  for (const [k, v] of Object.entries(m.env ?? {})) env.set(k, v);
  env.set('HOME', `/home/${user}`);
  env.set('USER', user);
  env.set('DEVENV_ROOT', WORKDIR);
  env.set('DEVENV_DATA', DATA_DIR);
  return [...env.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`);
}

/** The last layer: users, writable dirs, the entrypoint and a copy of the project's input files. */
function appEntries(i: BuildInput, s: ContainerSettings, script: string | undefined, bash: string): LayerEntry[] {
  const dir = (path: string, mode = 0o755, uid = 0): LayerEntry => ({path, type: 'dir', mode, uid, gid: uid ? GID : 0});
  const file = (path: string, data: string, mode = 0o644): LayerEntry => ({path, type: 'file', mode, uid: 0, gid: 0, data: Buffer.from(data)});
  const out: LayerEntry[] = [
    // /bin/sh: what engines and devcontainers run `sh -c ...` with.
    dir('bin'),
    {path: 'bin/sh', type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkpath: bash},
    dir('etc'),
    file('etc/group', `root:x:0:\n${s.user}:x:${GID}:\nnogroup:x:65534:\n`),
    file('etc/passwd', `root:x:0:0:root:/root:/sbin/nologin\n${s.user}:x:${UID}:${GID}::/home/${s.user}:${bash}\nnobody:x:65534:65534::/nonexistent:/sbin/nologin\n`),
    dir('home'),
    dir(`home/${s.user}`, 0o700, UID),
    dir('tmp', 0o1777),
    dir('run'),
    dir(RUN_DIR.slice(1), 0o700, UID),
    dir('var'),
    dir('var/lib'),
    dir(DATA_DIR.slice(1), 0o700, UID),
  ];
  if (script) out.push(dir('devenv'), file('devenv/entrypoint', script, 0o555));
  out.push(dir(WORKDIR.slice(1), 0o755, UID));
  const seen = new Set<string>();
  for (const rel of [...i.files].sort()) {
    const parts = rel.split('/');
    for (let k = 1; k < parts.length; k++) {
      const d = parts.slice(0, k).join('/');
      if (!seen.has(d)) {
        seen.add(d);
        out.push(dir(`${WORKDIR.slice(1)}/${d}`, 0o755, UID));
      }
    }
    const abs = join(i.root, rel);
    const st = lstatSync(abs, {throwIfNoEntry: false});
    if (!st) continue;
    const path = `${WORKDIR.slice(1)}/${rel}`;
    if (st.isSymbolicLink()) {
      out.push({path, type: 'symlink', mode: 0o777, uid: UID, gid: GID, linkpath: readlinkSync(abs)});
    } else if (st.isFile()) out.push({path, type: 'file', mode: st.mode & 0o111 ? 0o755 : 0o644, uid: UID, gid: GID, data: readFileSync(abs)});
  }
  // Entries in path order, as tar readers expect parents first.
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
