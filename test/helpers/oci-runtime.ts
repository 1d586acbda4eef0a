// A container runtime in miniature, for tests on machines where podman cannot run a container
// with a network of its own (rootless podman needs /dev/net/tun for slirp4netns): the image's
// layers unpacked into a root, its config (user, env, workdir, entrypoint, volumes) read from
// the image itself, and the entrypoint started as pid 1 in new user, mount, pid and network
// namespaces, chrooted into the root (`unshare`, as scripts/sid-run.sh enters the sid root).
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {createHash} from 'node:crypto';
import {createReadStream, mkdirSync, readFileSync, rmSync} from 'node:fs';
import {join} from 'node:path';

export interface ImageConfig {
  User: string;
  Env: string[];
  WorkingDir: string;
  Entrypoint: string[];
  Cmd?: string[];
  Volumes?: Record<string, object>;
  ExposedPorts?: Record<string, object>;
}

export interface OciImage {
  layout: string;
  manifestDigest: string;
  config: {config: ImageConfig; rootfs: {diff_ids: string[]}};
  layers: {digest: string; file: string}[];
}

const blob = (layout: string, digest: string): string => join(layout, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));

/** The image an OCI layout's index names (by tag, or its only one). */
export function readImage(layout: string, tag?: string): OciImage {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {manifests: {digest: string; annotations?: Record<string, string>}[]};
  const m = tag ? index.manifests.find((x) => x.annotations?.['org.opencontainers.image.ref.name'] === tag) : index.manifests[0];
  if (!m) throw new Error(`no image ${tag ?? ''} in ${layout}`);
  const manifest = JSON.parse(readFileSync(blob(layout, m.digest), 'utf8')) as {config: {digest: string}; layers: {digest: string}[]};
  const config = JSON.parse(readFileSync(blob(layout, manifest.config.digest), 'utf8')) as OciImage['config'];
  return {layout, manifestDigest: m.digest, config, layers: manifest.layers.map((l) => ({digest: l.digest, file: blob(layout, l.digest)}))};
}

/** Every blob's content matches its digest (what an engine checks when it loads an image). */
export async function verifyBlobs(img: OciImage): Promise<void> {
  for (const l of img.layers) {
    const h = createHash('sha256');
    for await (const chunk of createReadStream(l.file)) h.update(chunk as Buffer);
    const got = `sha256:${h.digest('hex')}`;
    if (got !== l.digest) throw new Error(`layer ${l.digest} has content ${got}`);
  }
}

/** Unpack the layers, in order, into `root`. */
export function unpack(img: OciImage, root: string): void {
  mkdirSync(root, {recursive: true});
  for (const l of img.layers) {
    const r = spawnSync('tar', ['-x', '-p', '--no-same-owner', '-f', l.file, '-C', root], {encoding: 'utf8'});
    if (r.status !== 0) throw new Error(`unpacking ${l.digest}: ${r.stderr}`);
  }
}

/** Remove an unpacked root (store paths in it are read-only). */
export function removeRoot(root: string): void {
  spawnSync('chmod', ['-R', 'u+w', root]);
  rmSync(root, {recursive: true, force: true});
}

// Inside the first namespace (root there, mapped to the caller): loopback up, /proc, /dev and
// the volumes mounted into the root; then a nested user namespace maps the image's uid to it
// and chroots; exec'ing the entrypoint as that uid drops every capability.
const INSIDE = `
set -eu
R=$1 U=$2 G=$3 W=$4 nv=$5; shift 5
vols=("\${@:1:$nv}"); shift "$nv"
ne=$1; shift
envs=("\${@:1:$ne}"); shift "$ne"
ip link set lo up
mkdir -p "$R/proc" "$R/dev"
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
for ((i = 0; i < \${#vols[@]}; i += 2)); do mkdir -p "$R\${vols[i+1]}"; mount --bind "\${vols[i]}" "$R\${vols[i+1]}"; done
unshare=$(command -v unshare)
# A holder of the first user namespace, for inNet (the entrypoint's own user namespace does
# not own the network namespace). 'tail' is the only one in the container; it dies with pid 1.
tail -f /dev/null </dev/null >/dev/null 2>&1 &
exec env -i "\${envs[@]}" "$unshare" --user --map-user="$U" --map-group="$G" --root="$R" --wd="$W" -- "$@"
`;

export interface Running {
  child: ChildProcess;
  output: () => string;
  /** The host pid of the entrypoint (pid 1 inside). */
  pid1: () => number;
  exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>;
  waitFor: (re: RegExp, ms?: number) => Promise<void>;
  /** Run a host program inside the container's network namespace. */
  inNet: (cmd: string[]) => {status: number | null; stdout: string; stderr: string};
}

/** Start the image's entrypoint; `volumes` maps the image's Volumes to host dirs. */
export function start(img: OciImage, root: string, volumes: Record<string, string>): Running {
  const c = img.config.config;
  const [uid, gid] = c.User.split(':');
  const vols = Object.keys(c.Volumes ?? {}).flatMap((v) => {
    const host = volumes[v];
    if (!host) throw new Error(`no host dir for the volume ${v}`);
    return [host, v];
  });
  const argv = [...c.Entrypoint, ...(c.Cmd ?? [])];
  const child = spawn('unshare', ['--user', '--map-root-user', '--mount', '--pid', '--net', '--fork', '--kill-child', '--propagation', 'private', 'bash', '-c', INSIDE, '_', root, uid, gid ?? uid, c.WorkingDir || '/', String(vols.length), ...vols, String(c.Env.length), ...c.Env, ...argv], {stdio: ['ignore', 'pipe', 'pipe']});
  let out = '';
  const waiters: (() => void)[] = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => child.on('close', (code, signal) => resolve({code, signal})));
  const pid1 = (): number => {
    const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    if (kids.length !== 1) throw new Error(`expected one child of unshare, found ${kids.join(' ') || 'none'}`);
    return Number(kids[0]);
  };
  return {
    child,
    output: () => out,
    pid1,
    exited,
    waitFor: (re, ms = 120_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; output:\n${out}`)), ms);
        const check = () => {
          if (re.test(out)) {
            clearTimeout(timer);
            waiters.splice(waiters.indexOf(check), 1);
            resolve();
          }
        };
        waiters.push(check);
        void exited.then(() => {
          if (!re.test(out)) {
            clearTimeout(timer);
            reject(new Error(`the container exited before ${re}; output:\n${out}`));
          }
        });
        check();
      }),
    inNet: (cmd) => {
      const p1 = pid1();
      const holder = readFileSync(`/proc/${p1}/task/${p1}/children`, 'utf8').trim().split(/\s+/).find((p) => p && readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'tail');
      if (!holder) throw new Error('no namespace holder in the container');
      const r = spawnSync('nsenter', ['-t', holder, '-U', '-n', '--preserve-credentials', '--', ...cmd], {encoding: 'utf8', timeout: 30_000});
      return {status: r.status, stdout: r.stdout, stderr: r.stderr};
    },
  };
}
