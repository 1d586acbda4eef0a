// `devenv container build|run|copy` and `devenv generate devcontainer`: the project's environment
// as an OCI image, and how it leaves devenv.
import {mkdtempSync, realpathSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {DevenvError, UsageError} from '../errors.js';
import type {ImageKind, BuiltImage} from '../container/image.js';
import type {Project} from '../project/project.js';
import {cacheDir} from '../paths.js';
import {writeFileAtomic, readFileOrNull} from '../util/fs.js';

export type {BuiltImage, ImageKind};

const SKIP = /^(\.git|\.devenv|\.venv|node_modules|\.direnv)(\/|$)/;

/**
 * The project's own files for the image's workdir: what git does not ignore (tracked or not), or
 * the whole tree outside git; never dotenv files or look-alikes, setup dirs or state. (Not the
 * nix inputs: the app's code, web.py say, is no input of the environment but runs in the image.)
 */
async function imageFiles(p: Project): Promise<string[]> {
  const {looksLikeDotenv, treeFiles} = await import('../project/inputs.js');
  const {dotenvNames} = await import('../project/dotenv.js');
  const configured = dotenvNames(p);
  let names: string[];
  const {run} = await import('../util/run.js');
  const git = p.git ? await run('git', ['-C', p.real, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], {maxBuffer: 1 << 28}) : undefined;
  if (git && git.exitCode === 0) names = git.stdout.split('\0').filter(Boolean);
  else names = treeFiles(p.real, '', ['.venv', 'node_modules', '.direnv']);
  const out = new Set<string>();
  for (const rel of names) {
    if (SKIP.test(rel) || looksLikeDotenv(rel, configured)) continue;
    out.add(rel);
  }
  return [...out].sort();
}

export async function containerBuild(p: Project, kind: ImageKind, io: {progress?: (line: string) => void} = {}): Promise<BuiltImage> {
  // The merged manifest (includes, devenv.local.toml); a flake-only project has none.
  const {manifestOrEmpty} = await import('../project/manifest.js');
  const manifest = manifestOrEmpty(p);
  // The image's entrypoint runs PostgreSQL and Redis; an image silently without another server
  // the project names would start and then fail its clients.
  if (kind === 'processes') {
    const {SERVICE_NAMES} = await import('../manifest/service-names.js');
    const services = (manifest.services ?? {}) as Record<string, {enable?: boolean} | undefined>;
    const other = SERVICE_NAMES.filter((n) => n !== 'postgres' && n !== 'redis' && services[n] && services[n]?.enable !== false);
    if (other.length) {
      throw new DevenvError(`${other.map((n) => `[services.${n}]`).join(', ')} ${other.length > 1 ? 'are' : 'is'} not started by container images yet (they start PostgreSQL, Redis and [processes.*])`, {
        hint: "build a shell image ('devenv container build shell'), run that server as a container of its own, or set enable = false for the image",
        code: 'container_unsupported',
      });
    }
  }
  const {ensureEnvironment} = await import('../evaluation/evaluate.js');
  const {entry} = await ensureEnvironment(p, {progress: true});
  const envPath = realpathSync(entry.roots[0]);
  const {buildImage} = await import('../container/image.js');
  return buildImage({root: p.root, files: await imageFiles(p), manifest, spec: entry.spec, envPath, kind, layout: join(cacheDir(), 'container', 'images', p.id, kind), onProgress: io.progress});
}

/**
 * `copy`: oci-archive: is written here; everything else goes through skopeo (`skopeoArgs` are
 * options of its `copy`, e.g. --dest-tls-verify=false), or the engine for `engine:`. `cwd`: where
 * a relative destination file is resolved.
 */
export async function containerCopy(p: Project, cwd: string, kind: ImageKind, dest: string, io: {progress?: (line: string) => void; skopeoArgs?: string[]} = {}): Promise<{image: BuiltImage; dest: string}> {
  const m = /^([a-z-]+):(.*)$/.exec(dest);
  if (!m) throw new UsageError(`not a destination: ${dest}`, 'use oci-archive:FILE, docker-archive:FILE, docker://REGISTRY/NAME:TAG, oci:DIR or engine: (load into podman or docker)');
  const skopeoArgs = io.skopeoArgs ?? [];
  if (skopeoArgs.length && (m[1] === 'oci-archive' || m[1] === 'engine')) throw new UsageError(`arguments after -- go to skopeo, which ${m[1]}: does not use`, 'drop them, or copy to a destination skopeo writes (docker://..., docker-archive:...)');
  const image = await containerBuild(p, kind, io);
  const {writeOciArchive, which, findEngine, loadIntoEngine, EngineError} = await import('../container/engine.js');
  const {run} = await import('../util/run.js');
  const [, transport, rest] = m;
  if (transport === 'oci-archive') {
    const file = resolve(cwd, rest.replace(/:[^/]*$/, '') || `${image.name}.tar`);
    await writeOciArchive(image.layout, file);
    return {image, dest: `oci-archive:${file}`};
  }
  if (transport === 'engine') {
    const engine = findEngine();
    if (!engine) throw new DevenvError('no container engine (podman or docker) on PATH', {hint: 'install podman (or docker), or copy to oci-archive:FILE and load it elsewhere', code: 'container_engine'});
    const tmp = mkdtempSync(join(tmpdir(), 'devenv-image-'));
    try {
      await loadIntoEngine(engine, image, tmp);
    } finally {
      rmSync(tmp, {recursive: true, force: true});
    }
    return {image, dest: `${engine.name}: localhost/${image.ref}`};
  }
  const skopeo = which('skopeo');
  if (!skopeo) throw new DevenvError(`copying to ${transport}: needs skopeo, which is not on PATH`, {hint: "install skopeo, or copy to oci-archive:FILE (devenv writes that itself) and push it with your engine", code: 'container_engine'});
  // A registry gets the image as built (uncompressed layers, the digest `build` printed) unless
  // skopeo is asked to compress or convert it; a docker-archive gets the image's name.
  const preserve = transport === 'docker' && !skopeoArgs.some((a) => /^(--dest-compress|--preserve-digests|--format|-f$)/.test(a)) ? ['--preserve-digests'] : [];
  const to = transport === 'docker-archive' && !rest.includes(':') ? `docker-archive:${resolve(cwd, rest)}:localhost/${image.ref}` : dest;
  const r = await run(skopeo, ['copy', '--quiet', ...preserve, ...skopeoArgs, `oci:${image.layout}:${image.ref}`, to]);
  if (r.exitCode !== 0) throw new EngineError('skopeo copy', r.stderr || r.stdout, 'for a registry, log in with `skopeo login` (or your engine\'s login): its auth file is used');
  return {image, dest: to};
}

/** `run`: build, load into podman (or docker), run in the foreground with the ports on 127.0.0.1 and the data in a named volume. */
export async function containerRun(p: Project, cwd: string, kind: ImageKind, extraArgs: string[], io: {progress?: (line: string) => void} = {}): Promise<number> {
  const {findEngine, EngineError} = await import('../container/engine.js');
  const {run} = await import('../util/run.js');
  const engine = findEngine();
  if (!engine) throw new DevenvError('no container engine (podman or docker) on PATH', {hint: "install podman (or docker); 'devenv container copy oci-archive:FILE' writes the image for another machine", code: 'container_engine'});
  const {image} = await containerCopy(p, cwd, kind, 'engine:', io);
  const args = ['run', '--rm', '--init=false', ...(kind === 'shell' ? ['-it'] : [])];
  if (engine.name === 'docker') args.splice(args.indexOf('--init=false'), 1);
  // On the host's network (rootless podman without slirp4netns, see README) there is nothing to publish.
  const hostNet = extraArgs.some((a, k) => /^--(network|net)=host$/.test(a) || (/^--(network|net)$/.test(a) && extraArgs[k + 1] === 'host'));
  if (!hostNet) for (const port of image.publish) args.push('-p', `127.0.0.1:${port}:${port}`);
  if (kind === 'processes') args.push('-v', `${image.name.replace(/[^a-zA-Z0-9_.-]/g, '-')}-data:${image.dataVolume}`);
  args.push(...extraArgs, `localhost/${image.ref}`);
  const r = await run(engine.path, args, {inherit: true, forwardSignals: true});
  // Not started at all (the engine vanished since findEngine): say so, as a spawn error did.
  if (r.error && !r.signal && r.exitCode === 127) throw new EngineError(`${engine.name} run`, r.error, `check that ${engine.path} runs`);
  return r.exitCode;
}

/** `.devcontainer/devcontainer.json` for the shell image, loaded by `devenv container copy shell engine:` before the container starts. */
export async function generateDevcontainer(p: Project, opts: {force?: boolean} = {}): Promise<{file: string; result: 'written' | 'unchanged'}> {
  // The merged manifest (includes, devenv.local.toml); a flake-only project has none.
  const {manifestOrEmpty} = await import('../project/manifest.js');
  const manifest = manifestOrEmpty(p);
  const {containerSettings, WORKDIR} = await import('../container/image.js');
  const {imagePorts} = await import('../container/entrypoint.js');
  const s = containerSettings(manifest, p.root);
  const ports = [...new Set([...Object.values(imagePorts(manifest)), ...s.ports])].sort((a, b) => a - b);
  const config = {
    name: `${s.name} (devenv)`,
    // Written by devenv (devenv generate devcontainer); the image is built from devenv.toml.
    image: `localhost/${s.name}:${s.tag}-shell`,
    initializeCommand: 'devenv container copy shell engine:',
    remoteUser: s.user,
    containerUser: s.user,
    workspaceFolder: WORKDIR,
    workspaceMount: `source=\${localWorkspaceFolder},target=${WORKDIR},type=bind`,
    forwardPorts: ports,
    overrideCommand: true,
  };
  const text = JSON.stringify(config, null, 2) + '\n';
  const file = join(p.root, '.devcontainer', 'devcontainer.json');
  const old = readFileOrNull(file);
  if (old === text) return {file, result: 'unchanged'};
  if (old !== null && !opts.force && !old.includes('"initializeCommand": "devenv container copy shell engine:"')) {
    throw new DevenvError(`${file} exists and was not written by devenv; not overwriting it`, {hint: 'pass --force to replace it', code: 'file_exists'});
  }
  const {mkdirSync, lstatSync} = await import('node:fs');
  const dir = join(p.root, '.devcontainer');
  const st = lstatSync(dir, {throwIfNoEntry: false});
  if (st && !st.isDirectory()) throw new DevenvError(`${dir} is not a directory (a symlink or file); not writing through it`, {hint: 'remove it, then run this again', code: 'file_exists'});
  mkdirSync(dir, {recursive: true, mode: 0o755});
  writeFileAtomic(file, text, 0o644);
  return {file, result: 'written'};
}
