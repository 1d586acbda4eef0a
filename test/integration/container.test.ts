// `devenv container` (issue 26): an OCI image of a python-postgres project built without an
// engine, run the way a runtime runs it (test/helpers/oci-runtime.ts: layers unpacked, the
// image's own config, pid 1 in new user/mount/pid/net namespaces) and by `devenv container run`
// with rootless podman on the host's network (README: what runs here), reproducible, sharing
// layers across projects, copied to an oci-archive, a docker-archive and a registry with auth
// and read back; and `generate devcontainer` checked by the official devcontainers CLI. One
// image per project, built once and shared by the tests; one podman storage and one registry.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:net';
import {join} from 'node:path';
import {DEVENV, REPO, initProject, makeSandbox, type Sandbox} from '../helpers/env.js';
import {readImage, removeRoot, start, unpack, verifyBlobs, type OciImage} from '../helpers/oci-runtime.js';

let sb: Sandbox;
let shop: string;
let built: {digest: string; config: string; layout: string; ref: string; layers: {digest: string; paths: string[]}[]};
const roots: string[] = [];
// Free ports for the image's PostgreSQL and web process: `container run` puts them on the host's network.
let pgPort: number;
let webPort: number;

const WEB = `import http.server, os, subprocess
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            self.send_response(204)
            self.end_headers()
            return
        q = "select 'pg:' || current_database() || ':' || current_user || ':' || count(*) from visits"
        subprocess.run(["psql", "-X", "-q", "-c", "insert into visits default values"], check=True)
        out = subprocess.run(["psql", "-X", "-tA", "-c", q], capture_output=True, text=True)
        body = (out.stdout.strip() + " greeting=" + os.environ.get("GREETING", "") + " secret=" + os.environ.get("SHOP_SECRET", "-")).encode()
        self.send_response(200 if out.returncode == 0 else 500)
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
`;

function devenvOk(args: string[], cwd: string, s: Sandbox = sb): string {
  const r = s.devenv(args, {cwd, timeout: 600_000});
  if (r.status !== 0) throw new Error(`devenv ${args.join(' ')} exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

function buildJson(cwd: string, kind: string[] = [], s: Sandbox = sb): typeof built {
  return JSON.parse(devenvOk(['container', 'build', ...kind, '--json'], cwd, s)) as typeof built;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as {port: number}).port;
      srv.close(() => resolve(p));
    });
  });
}

function writeProject(dir: string, name: string): void {
  const toml = readFileSync(join(dir, 'devenv.toml'), 'utf8').replace(/^# port = 54321.*$/m, `port = ${pgPort}`);
  if (!toml.includes(`port = ${pgPort}`)) throw new Error('no commented PostgreSQL port in the template');
  writeFileSync(
    join(dir, 'devenv.toml'),
    toml +
      `
[dotenv]
files = [".env"]

[tasks.migrate]
exec = "psql -X -q -c 'create table if not exists visits (id serial primary key)'"
after = ["postgres"]

[processes.web]
exec = "exec python3 web.py"
port = ${webPort}
ready = {http = "/health"}
after = ["migrate"]

[container]
name = "${name}-img"
user = "shopper"
`,
  );
  writeFileSync(join(dir, 'devenv.toml'), readFileSync(join(dir, 'devenv.toml'), 'utf8').replace('[env]\n', '[env]\nGREETING = "hi from [env]"\n'));
  writeFileSync(join(dir, 'web.py'), WEB);
  writeFileSync(join(dir, '.env'), 'SHOP_SECRET=dotenv-value-never-in-images\n');
  // A link out of the project: the image gets the link, never what it points at.
  writeFileSync(join(sb.dir, 'outside-secret'), 'outside-content-never-in-images\n');
  symlinkSync(join(sb.dir, 'outside-secret'), join(dir, 'notes-link'));
}

beforeAll(async () => {
  pgPort = await freePort();
  webPort = await freePort();
  sb = makeSandbox('devenv-container-');
  shop = initProject(sb, 'shop', ['python-postgres'], {venv: false});
  writeProject(shop, 'shop');
  built = buildJson(shop);
}, 900_000);

afterAll(() => {
  for (const r of roots) removeRoot(r);
  registry?.kill('SIGKILL');
  if (podmanEnv) {
    // Its storage holds files of the test user's subordinate uids: podman removes them. Then the
    // pause process rootless podman left for this runtime dir (it holds its user namespace).
    spawnSync('podman', ['system', 'reset', '--force'], {env: podmanEnv, encoding: 'utf8', timeout: 120_000});
    const pause = join(podmanEnv.XDG_RUNTIME_DIR!, 'libpod', 'tmp', 'pause.pid');
    if (existsSync(pause)) {
      try {
        process.kill(Number(readFileSync(pause, 'utf8')), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
  sb?.cleanup();
});

// podman and skopeo as the test user sees them: the sandbox's XDG dirs (storage under
// XDG_DATA_HOME, auth.json and the pause process under XDG_RUNTIME_DIR) and a storage.conf
// asking for the kernel's own overlayfs (rootless podman 4.3 picks vfs without fuse-overlayfs,
// which copies every layer in full).
let podmanEnv: NodeJS.ProcessEnv | undefined;
let registry: ChildProcess | undefined;

function podman(args: string[], input?: string): string {
  const r = spawnSync('podman', args, {env: podmanEnv, encoding: 'utf8', input, timeout: 300_000});
  if (r.error || r.status !== 0) throw new Error(`podman ${args.join(' ')}: ${r.error?.message ?? ''} exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

function tool(cmd: string, args: string[], input?: string): {status: number | null; stdout: string; stderr: string} {
  const r = spawnSync(cmd, args, {env: podmanEnv, encoding: 'utf8', input, timeout: 300_000});
  if (r.error) throw new Error(`${cmd} (setup-machine.sh installs it): ${r.error.message}`);
  return r;
}

describe('with podman and skopeo', () => {
  beforeAll(() => {
    const conf = join(sb.dir, 'storage.conf');
    writeFileSync(conf, '[storage]\ndriver = "overlay"\n');
    // podman 5 (the sid root's) warns on every call that cgroups v1 is deprecated.
    podmanEnv = {...sb.env, CONTAINERS_STORAGE_CONF: conf, PODMAN_IGNORE_CGROUPSV1_WARNING: '1'};
  });

  test('container run: rootless podman on the host network starts PostgreSQL and the web process, which answers on loopback with data from PostgreSQL; SIGTERM stops both, exit 0', async () => {
    const name = `devenv-test-${process.pid}`;
    const child = spawn(process.execPath, [DEVENV, 'container', 'run', '--', '--network=host', '--name', name], {cwd: shop, env: {...podmanEnv, PWD: shop}, stdio: ['ignore', 'pipe', 'pipe']});
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not up in 300 s:\n${out}`)), 300_000);
        const onData = (d: Buffer) => {
          out += d.toString();
          if (/everything is up/.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', onData);
        void exited.then((code) => reject(new Error(`container run exited ${code} before it was up:\n${out}`)));
      });
      const get = async () => {
        const r = await fetch(`http://127.0.0.1:${webPort}/`);
        return `${r.status} ${await r.text()}`;
      };
      expect(await get()).toBe('200 pg:shop:shopper:1 greeting=hi from [env] secret=-');
      expect(await get()).toBe('200 pg:shop:shopper:2 greeting=hi from [env] secret=-');
      // podman runs the image devenv built (its ID is the config's digest), with the data volume.
      expect(podman(['ps', '--format', '{{.Names}} {{.Image}}']).trim()).toBe(`${name} localhost/shop-img:latest`);
      expect(podman(['image', 'inspect', '--format', '{{.Id}}', 'localhost/shop-img:latest']).trim()).toBe(built.config.slice(7));
      expect(podman(['volume', 'ls', '--format', '{{.Name}}']).split('\n')).toContain('shop-img-data');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toMatch(/stopping web[\s\S]*stopping postgres[\s\S]*devenv: stopped/);
      expect(out).toMatch(/postgres \| .*database system is shut down/);
      // --rm: nothing left running or stopped.
      expect(podman(['ps', '--all', '--format', '{{.Names}}']).trim()).toBe('');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 600_000);

  test('copy to a docker-archive loads into podman as the same image, under its name', () => {
    const file = join(sb.dir, 'shop-docker.tar');
    const r = sb.devenv(['container', 'copy', `docker-archive:${file}`, '--json'], {cwd: shop, env: podmanEnv, timeout: 600_000});
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({digest: built.digest, dest: `docker-archive:${file}:localhost/shop-img:latest`});
    // Loaded back without the name podman has from the run: the archive names it.
    podman(['untag', 'localhost/shop-img:latest']);
    expect(podman(['load', '--input', file])).toContain('Loaded image: localhost/shop-img:latest');
    expect(podman(['image', 'inspect', '--format', '{{.Id}}', 'localhost/shop-img:latest']).trim()).toBe(built.config.slice(7));
  }, 600_000);

  test('copy to a registry uses skopeo login; the registry serves the digest devenv built', async () => {
    const port = await freePort();
    const dir = join(sb.dir, 'registry');
    mkdirSync(dir);
    const htpasswd = tool('htpasswd', ['-B', '-b', '-n', 'alice', 'open sesame']);
    expect(htpasswd.status).toBe(0);
    writeFileSync(join(dir, 'htpasswd'), htpasswd.stdout);
    writeFileSync(
      join(dir, 'config.yml'),
      `version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: ${dir}/data}}\nhttp: {addr: "127.0.0.1:${port}", secret: test}\nauth: {htpasswd: {realm: devenv-test, path: ${dir}/htpasswd}}\n`,
    );
    registry = spawn('docker-registry', ['serve', join(dir, 'config.yml')], {stdio: 'ignore'});
    const failed = new Promise<never>((_, reject) => registry!.on('error', (e) => reject(new Error(`docker-registry (setup-machine.sh installs it): ${e.message}`))));
    // Up when it answers, with "log in" (401) since it has auth.
    for (let answered = false; !answered; ) {
      answered = await Promise.race([failed, fetch(`http://127.0.0.1:${port}/v2/`).then((res) => res.status === 401, () => false)]);
      if (!answered) await new Promise((r) => setTimeout(r, 100));
    }
    const ref = `127.0.0.1:${port}/shop/web:1.0`;
    const copy = () => sb.devenv(['container', 'copy', `docker://${ref}`, '--json', '--', '--dest-tls-verify=false'], {cwd: shop, env: podmanEnv, timeout: 600_000});
    const anonymous = copy();
    expect(anonymous.status).not.toBe(0);
    expect(JSON.parse(anonymous.stdout)).toMatchObject({error: 'container_engine'});
    expect(anonymous.stdout).toContain('authentication required');
    expect(anonymous.stdout).toContain('skopeo login');
    const login = tool('skopeo', ['login', '--tls-verify=false', '--username', 'alice', '--password-stdin', `127.0.0.1:${port}`], 'open sesame\n');
    expect(login.stderr).toBe('');
    expect(login.status).toBe(0);
    const r = copy();
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({digest: built.digest, dest: `docker://${ref}`});
    const inspect = tool('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`]);
    expect(inspect.stderr).toBe('');
    expect((JSON.parse(inspect.stdout) as {Digest: string}).Digest).toBe(built.digest);
    // Loaded back: podman pulls it (with the same login) as the image it already runs.
    podman(['pull', '--quiet', '--tls-verify=false', `docker://${ref}`]);
    expect(podman(['image', 'inspect', '--format', '{{.Id}}', ref]).trim()).toBe(built.config.slice(7));
  }, 600_000);
});

function unpacked(img: OciImage, name: string): string {
  const root = join(sb.dir, name);
  roots.push(root);
  unpack(img, root);
  return root;
}

describe('the processes image', () => {
  test('runs as a non-root user with PATH and [env], never dotenv values, and the project files in the workdir', () => {
    const img = readImage(built.layout, 'shop-img:latest');
    expect(img.manifestDigest).toBe(built.digest);
    const c = img.config.config;
    expect(c.User).toBe('1000:1000');
    expect(c.WorkingDir).toBe('/app');
    expect(c.Env).toContain('GREETING=hi from [env]');
    expect(c.Env.find((e) => e.startsWith('PATH='))).toMatch(/^PATH=\/nix\/store\/[^:]+-python3-3\.11\/bin:/);
    expect(Object.keys(c.Volumes ?? {})).toEqual(['/var/lib/devenv']);
    expect(Object.keys(c.ExposedPorts ?? {}).sort()).toEqual([`${pgPort}/tcp`, `${webPort}/tcp`].sort());
    // One layer per store path of the closure, then the project's own.
    expect(built.layers.at(-1)!.paths).toEqual([]);
    expect(built.layers.slice(0, -1).every((l) => l.paths.length === 1)).toBe(true);
    // The project's last layer: web.py and devenv.toml, no .env, and the secret nowhere in it.
    const last = readFileSync(img.layers.at(-1)!.file);
    const list = spawnSync('tar', ['-tf', img.layers.at(-1)!.file], {encoding: 'utf8'}).stdout.split('\n');
    expect(list).toEqual(expect.arrayContaining(['app/web.py', 'app/devenv.toml', 'etc/passwd', 'devenv/entrypoint']));
    expect(list.some((f) => f.endsWith('.env'))).toBe(false);
    expect(last.includes('dotenv-value-never-in-images')).toBe(false);
    expect(last.includes('outside-content-never-in-images')).toBe(false);
    const link = spawnSync('tar', ['-tvf', img.layers.at(-1)!.file, 'app/notes-link'], {encoding: 'utf8'}).stdout;
    expect(link).toMatch(/^l.* app\/notes-link -> .*outside-secret/);
    expect(JSON.stringify(img.config).includes('dotenv-value-never-in-images')).toBe(false);
    expect(readFileSync(img.layers.at(-1)!.file).includes('shopper:x:1000:1000')).toBe(true);
  });

  test('starts PostgreSQL and the web process; the web process answers with data from PostgreSQL; SIGTERM stops both cleanly', async () => {
    const img = readImage(built.layout, 'shop-img:latest');
    const root = unpacked(img, 'root-processes');
    const volume = join(sb.dir, 'volume');
    mkdirSync(volume);
    const c = start(img, root, {'/var/lib/devenv': volume});
    try {
      await c.waitFor(/everything is up/);
      const get = () => c.inNet([process.execPath, '-e', `fetch('http://127.0.0.1:${webPort}/').then(async (r) => console.log(r.status, await r.text()), (e) => { console.error(e); process.exit(1); })`]);
      const first = get();
      expect(first.stderr).toBe('');
      expect(first.stdout.trim()).toBe('200 pg:shop:shopper:1 greeting=hi from [env] secret=-');
      expect(get().stdout.trim()).toBe('200 pg:shop:shopper:2 greeting=hi from [env] secret=-');
      // The service's data is in the volume, not in the image's root.
      expect(existsSync(join(volume, 'postgres', 'PG_VERSION'))).toBe(true);
      expect(existsSync(join(root, 'var/lib/devenv/postgres'))).toBe(false);
      process.kill(c.pid1(), 'SIGTERM');
      const end = await c.exited;
      expect(end.code).toBe(0);
      const out = c.output();
      expect(out).toMatch(/stopping web[\s\S]*stopping postgres[\s\S]*devenv: stopped/);
      expect(out).toMatch(/postgres \| .*database system is shut down/);
    } finally {
      if (c.child.exitCode === null) c.child.kill('SIGKILL');
    }
  }, 300_000);
});

describe('reproducible, shared, portable', () => {
  test('the same inputs give the same digest; another user building it from scratch gets it too', () => {
    const again = buildJson(shop);
    expect(again.digest).toBe(built.digest);
    const other = makeSandbox('devenv-container-other-');
    try {
      const fresh = buildJson(shop, [], other);
      expect(fresh.digest).toBe(built.digest);
      expect(fresh.layout).not.toBe(built.layout);
    } finally {
      other.cleanup();
    }
    // A changed file changes the project's layer, and only it.
    writeFileSync(join(shop, 'NOTES.md'), 'changed\n');
    const changed = buildJson(shop);
    expect(changed.digest).not.toBe(built.digest);
    expect(changed.layers.slice(0, -1).map((l) => l.digest)).toEqual(built.layers.slice(0, -1).map((l) => l.digest));
  }, 900_000);

  test('two projects on the same nixpkgs share their store layers; a shell image runs bash as the user in /app', async () => {
    const blog = initProject(sb, 'blog', ['python-postgres'], {venv: false});
    writeFileSync(join(blog, 'README.md'), '# blog\n');
    const b = buildJson(blog, ['shell']);
    const mine = new Set(built.layers.slice(0, -1).map((l) => l.digest));
    const shared = b.layers.filter((l) => mine.has(l.digest));
    // Everything but each project's own env file and its files: python, postgresql, bash, the fixture's Debian root.
    expect(shared.length).toBeGreaterThanOrEqual(b.layers.length - 2);
    expect(shared.some((l) => /-debian-bookworm$/.test(l.paths[0]))).toBe(true);
    expect(b.layers.at(-1)!.digest).not.toBe(built.layers.at(-1)!.digest);

    const img = readImage(b.layout, 'blog:latest-shell');
    expect(img.config.config.Entrypoint).toHaveLength(1);
    img.config.config.Cmd = ['-c', 'echo "uid=$EUID pwd=$PWD user=$USER"; ls /app; psql --version'];
    const root = unpacked(img, 'root-shell');
    const c = start(img, root, {});
    const end = await c.exited;
    expect(c.output()).toContain('uid=1000 pwd=/app user=devenv');
    expect(c.output()).toContain('README.md');
    expect(c.output()).toMatch(/psql \(PostgreSQL\) 15/);
    expect(end.code).toBe(0);
  }, 900_000);

  test('copy to an oci-archive loads back as the same image', async () => {
    const a = join(sb.dir, 'shop.tar');
    const r = sb.devenv(['container', 'copy', `oci-archive:${a}`, '--json'], {cwd: shop, timeout: 600_000});
    expect(r.stderr).toBe('');
    const copied = JSON.parse(r.stdout) as {digest: string; dest: string};
    expect(copied.dest).toBe(`oci-archive:${a}`);
    // Back: unpack the archive as an engine's `load` does, check every blob, same manifest.
    const back = join(sb.dir, 'loaded');
    mkdirSync(back);
    expect(spawnSync('tar', ['-xf', a, '-C', back]).status).toBe(0);
    const img = readImage(back, 'shop-img:latest');
    expect(img.manifestDigest).toBe(copied.digest);
    await verifyBlobs(img);
    // skopeo reads the same image from the archive.
    const skopeo = spawnSync('skopeo', ['inspect', `oci-archive:${a}`], {encoding: 'utf8'});
    expect(skopeo.error).toBeUndefined();
    expect(skopeo.stderr).toBe('');
    expect(skopeo.status).toBe(0);
    expect((JSON.parse(skopeo.stdout) as {Digest: string}).Digest).toBe(copied.digest);
  }, 600_000);
});

describe('[container] and devcontainer', () => {
  test('generate devcontainer writes a file the official devcontainers CLI reads', () => {
    const out = devenvOk(['generate', 'devcontainer'], shop);
    expect(out).toContain('.devcontainer/devcontainer.json');
    const cli = join(REPO, 'node_modules', '@devcontainers', 'cli', 'devcontainer.js');
    // read-configuration first looks for a running container of the folder with `docker ps`; the
    // machine has no docker, so a program that lists none (true) stands in for it.
    const r = spawnSync(process.execPath, [cli, 'read-configuration', '--workspace-folder', shop, '--docker-path', 'true'], {encoding: 'utf8', timeout: 120_000});
    expect(r.status).toBe(0);
    const conf = JSON.parse(r.stdout) as {configuration: {image: string; remoteUser: string; forwardPorts: number[]}};
    expect(conf.configuration.image).toBe('localhost/shop-img:latest-shell');
    expect(conf.configuration.remoteUser).toBe('shopper');
    expect(conf.configuration.forwardPorts).toEqual([pgPort, webPort].sort((a, b) => a - b));
    // A devcontainer.json devenv did not write is not overwritten.
    writeFileSync(join(shop, '.devcontainer', 'devcontainer.json'), '{"image": "mine"}\n');
    const refused = sb.devenv(['generate', 'devcontainer'], {cwd: shop});
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('--force');
    expect(readFileSync(join(shop, '.devcontainer', 'devcontainer.json'), 'utf8')).toBe('{"image": "mine"}\n');
  });

  test('a bad [container] is refused with the key, and nothing is built', () => {
    const bad = initProject(sb, 'bad', ['python-postgres'], {venv: false});
    const toml = readFileSync(join(bad, 'devenv.toml'), 'utf8');
    for (const [table, key] of [['user = "root"', 'user'], ['name = "Has Upper"', 'name'], ['ports = [0]', 'ports'], ['entrypoint = "sh"', 'entrypoint']]) {
      writeFileSync(join(bad, 'devenv.toml'), `${toml}\n[container]\n${table}\n`);
      const r = sb.devenv(['container', 'build'], {cwd: bad});
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(key);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    // Servers the image's entrypoint does not run are refused by name, not left out.
    writeFileSync(join(bad, 'devenv.toml'), `${toml}\n[services.nats]\n\n[services.memcached]\n`);
    const servers = sb.devenv(['container', 'build'], {cwd: bad});
    expect(servers.status).not.toBe(0);
    expect(servers.stderr).toContain('[services.memcached], [services.nats] are not started by container images yet');
    writeFileSync(join(bad, 'devenv.toml'), toml);
    const usage = sb.devenv(['container', 'copy', 'nowhere'], {cwd: bad});
    expect(usage.status).not.toBe(0);
    expect(usage.stderr).toContain('oci-archive:FILE');
    // Options after -- are skopeo's; a destination devenv writes itself takes none.
    const stray = sb.devenv(['container', 'copy', 'oci-archive:x.tar', '--', '--dest-tls-verify=false'], {cwd: bad});
    expect(stray.status).not.toBe(0);
    expect(stray.stderr).toContain('go to skopeo');
    expect(existsSync(join(bad, 'x.tar'))).toBe(false);
  });
});
