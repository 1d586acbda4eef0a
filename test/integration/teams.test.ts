// Teams (issue 14) on one machine standing in for several: developer A builds and pushes the
// environment to a binary cache; teammates B (each an empty /nix of their own, see
// helpers/teammate.ts) get it from that cache over file:// and HTTP with zero builds; a cache
// signed by a key the project does not trust is refused and B builds instead, saying why;
// a project that is not allowed never passes its [cache] to nix.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {type ChildProcess, spawn, spawnSync} from 'node:child_process';
import {cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs';
import {randomBytes} from 'node:crypto';
import {join} from 'node:path';
import {makeSandbox, nixSpy, REPO, type Sandbox} from '../helpers/env.js';
import {makeTeammate} from '../helpers/teammate.js';

let sbA: Sandbox;
let sbB: Sandbox;
let fixture: string; // a copy of the offline set with a nonce: team-hello is built by no one yet
let nixpkgs: string;
let cacheDir: string;
let pubKey: string;
let helloA: string;
const NIXF = ['--extra-experimental-features', 'nix-command flakes'];

const manifest = (extra = '') => `name = "team"\npackages = ["teamHello"]\n${extra}`;
const cacheToml = (subs: string[], keys: string[]) => `\n[cache]\nsubstituters = [${subs.map((s) => JSON.stringify(s)).join(', ')}]\ntrusted-public-keys = [${keys.map((k) => JSON.stringify(k)).join(', ')}]\n`;

function project(sb: Sandbox, name: string, toml: string): string {
  const p = join(sb.dir, name);
  spawnSync('mkdir', ['-p', p]);
  writeFileSync(join(p, 'devenv.toml'), toml);
  return p;
}

beforeAll(() => {
  sbA = makeSandbox('devenv-teams-a-');
  sbB = makeSandbox('devenv-teams-b-');
  fixture = join(sbA.dir, 'nixpkgs-offline');
  cpSync(join(REPO, 'test', 'fixtures', 'nixpkgs-offline'), fixture, {recursive: true});
  writeFileSync(join(fixture, 'team-nonce'), randomBytes(8).toString('hex'));
  nixpkgs = `path:${fixture}`;
  cacheDir = join(sbA.dir, 'cache');
  for (const sb of [sbA, sbB]) sb.env.DEVENV_NIXPKGS = nixpkgs;
});
afterAll(() => {
  // Store paths are read-only.
  for (const sb of [sbA, sbB]) if (sb) spawnSync('chmod', ['-R', 'u+w', sb.dir]);
  sbA?.cleanup();
  sbB?.cleanup();
});

describe('developer A', () => {
  let p: string;
  test('evaluates an environment with something that must be built, makes a key, pushes to file://', () => {
    p = project(sbA, 'proj', manifest());
    expect(sbA.devenv(['generate'], {cwd: p}).status).toBe(0);
    expect(sbA.devenv(['allow'], {cwd: p}).status).toBe(0);
    const run = sbA.devenv(['exec', '--', 'team-hello'], {cwd: p});
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^team-hello [0-9a-f]{64}\n$/);
    helloA = run.stdout;
    // A's own nix built it (the daemon's log says so through devenv status).
    expect(JSON.parse(sbA.devenv(['status', '--json'], {cwd: p}).stdout).teams.lastNix.built).toBeGreaterThanOrEqual(1);

    const gen = sbA.devenv(['cache', 'key', 'generate', '--name', 'team-a-1'], {cwd: p});
    expect(gen.status).toBe(0);
    pubKey = gen.stdout.trim();
    expect(pubKey).toMatch(/^team-a-1:[A-Za-z0-9+/]{43}=$/);
    const secret = join(sbA.env.XDG_CONFIG_HOME!, 'devenv', 'cache-keys', 'team-a-1.secret');
    expect(statSync(secret).mode & 0o777).toBe(0o600);
    // Nix agrees the public key belongs to the secret one.
    const conv = spawnSync('nix', [...NIXF, 'key', 'convert-secret-to-public'], {input: readFileSync(secret), encoding: 'utf8', env: sbA.env});
    expect(conv.stdout.trim()).toBe(pubKey);
    // A second key of the same name is refused, the first one kept.
    expect(sbA.devenv(['cache', 'key', 'generate', '--name', 'team-a-1'], {cwd: p}).status).toBe(1);

    const push = sbA.devenv(['cache', 'push', '--to', `file://${cacheDir}`], {cwd: p, env: {AWS_SECRET_ACCESS_KEY: 'sentinel-aws-secret'}});
    expect(push.stderr).toBe('');
    expect(push.status).toBe(0);
    expect(push.stdout).toContain(`pushed to file://${cacheDir}, signed by team-a-1`);
    const copied = Number(/environment: (\d+) path\(s\) copied, (\d+) already there/.exec(push.stdout)![1]);
    expect(copied).toBeGreaterThan(0);
    expect(push.stdout).toMatch(/flake sources: \d+ path\(s\) copied/);
    const again = sbA.devenv(['cache', 'push', '--to', `file://${cacheDir}`], {cwd: p});
    expect(again.stdout).toMatch(new RegExp(`environment: 0 path\\(s\\) copied, ${copied} already there`));
    // Every narinfo carries A's signature.
    const narinfos = readdirSync(cacheDir).filter((f) => f.endsWith('.narinfo'));
    expect(narinfos.length).toBeGreaterThanOrEqual(copied);
    for (const n of narinfos) {
      const text = readFileSync(join(cacheDir, n), 'utf8');
      if (!/^CA: /m.test(text)) expect(text).toMatch(/^Sig: team-a-1:/m);
    }
  }, 600_000);

  test('secrets never enter the cache entries, the state or the binary cache', () => {
    const secret = readFileSync(join(sbA.env.XDG_CONFIG_HOME!, 'devenv', 'cache-keys', 'team-a-1.secret'), 'utf8').trim().split(':')[1];
    const grep = (dir: string, what: string) => spawnSync('grep', ['-rlF', what, dir], {encoding: 'utf8'}).stdout.trim();
    for (const dir of [sbA.env.XDG_CACHE_HOME!, sbA.env.XDG_STATE_HOME!, cacheDir]) {
      expect(grep(dir, secret)).toBe('');
      expect(grep(dir, 'sentinel-aws-secret')).toBe('');
    }
    const env = sbA.devenv(['exec', '--', 'env'], {cwd: p}).stdout;
    expect(env).not.toContain(secret);
    // The narinfos name neither the key file nor its path.
    expect(grep(cacheDir, 'cache-keys')).toBe('');
  });

  test("on the host's daemon A is not a trusted user: the first evaluation and doctor print the nix.conf lines", () => {
    writeFileSync(join(p, 'devenv.toml'), manifest(cacheToml([`file://${cacheDir}`], [pubKey])));
    expect(sbA.devenv(['allow'], {cwd: p}).status).toBe(0);
    const r = sbA.devenv(['reload'], {cwd: p});
    expect(r.stderr).toContain('is not a trusted user');
    expect(r.stderr).toContain(`extra-trusted-substituters = file://${cacheDir}`);
    expect(r.stderr).toContain(`extra-trusted-public-keys = ${pubKey}`);
    const d = sbA.devenv(['doctor'], {cwd: p});
    expect(d.stdout).toMatch(/FAIL {2}project's binary caches and builders usable: the nix daemon ignores file:\/\//);
    expect(d.stdout).toContain(`extra-trusted-substituters = file://${cacheDir}`);
    const s = sbA.devenv(['status'], {cwd: p}).stdout;
    expect(s).toContain(`caches:   file://${cacheDir}; passed to nix`);
    expect(s).toMatch(/the daemon ignored file:\/\//);
  }, 300_000);
});

describe('teammate B, with an empty store of their own', () => {
  const cloneFor = (sb: Sandbox, name: string, subs: string[], keys: string[]) => {
    const p = project(sb, name, manifest(cacheToml(subs, keys)));
    return p;
  };

  test('gets the environment from the file:// cache with zero builds and runs its tools from its own store', () => {
    const b = makeTeammate(sbB, 'b-file');
    const p = cloneFor(sbB, 'proj-file', [`file://${cacheDir}`], [pubKey]);
    expect(b.devenv(['generate'], {cwd: p}).status).toBe(0);
    expect(b.devenv(['allow'], {cwd: p}).status).toBe(0);
    expect(b.storePaths()).toEqual([]);
    const r = b.devenv(['exec', '--', 'sh', '-c', 'team-hello; command -v team-hello'], {cwd: p});
    expect(r.stderr).toBe('');
    const [hello, where] = [r.stdout.split('\n')[0] + '\n', r.stdout.split('\n')[1]];
    expect(hello).toBe(helloA);
    expect(b.builds()).toEqual([]);
    // The tool is in B's store (the host-side directory), reached through B's /nix.
    const storeName = where.split('/')[3];
    expect(b.storePaths()).toContain(storeName);
    const st = JSON.parse(b.devenv(['status', '--json'], {cwd: p}).stdout).teams.lastNix;
    expect(st).toMatchObject({built: 0, from: [`file://${cacheDir}`], settingsPassed: true, ignoredSubstituters: []});
    expect(st.substituted).toBeGreaterThan(0);
    expect(b.devenv(['status'], {cwd: p}).stdout).toMatch(new RegExp(`last nix run: built 0, substituted \\d+ from file://${cacheDir}`));
  }, 600_000);

  /** A fresh teammate B clones the project pointing at `url`, allows it and runs A's tool with zero builds. */
  function teammateGetsIt(name: string, proj: string, url: string) {
    const b = makeTeammate(sbB, name);
    const p = cloneFor(sbB, proj, [url], [pubKey]);
    expect(b.devenv(['generate'], {cwd: p}).status).toBe(0);
    expect(b.devenv(['allow'], {cwd: p}).status).toBe(0);
    const r = b.devenv(['exec', '--', 'team-hello'], {cwd: p});
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(helloA);
    expect(b.builds()).toEqual([]);
    return {b, p};
  }

  test('gets it over HTTP on loopback with zero builds', async () => {
    const server = await serve(cacheDir);
    try {
      teammateGetsIt('b-http', 'proj-http', server.url);
      expect(server.requests().filter((l) => /\.narinfo$/.test(l)).length).toBeGreaterThan(0);
      expect(server.requests().filter((l) => /^\/nar\//.test(l)).length).toBeGreaterThan(0);
    } finally {
      server.stop();
    }
  }, 600_000);

  test('A pushes to an HTTP cache (PUT on loopback); B gets the environment from it with zero builds', async () => {
    const dir = join(sbA.dir, 'http-cache');
    mkdirSync(dir);
    const server = await serve(dir, {writable: true});
    try {
      const pA = join(sbA.dir, 'proj');
      const push = sbA.devenv(['cache', 'push', '--to', server.url], {cwd: pA});
      expect(push.stderr).toBe('');
      expect(push.status).toBe(0);
      expect(push.stdout).toContain(`pushed to ${server.url}, signed by team-a-1`);
      const copied = Number(/environment: (\d+) path\(s\) copied, 0 already there/.exec(push.stdout)![1]);
      expect(copied).toBeGreaterThan(0);
      expect(push.stdout).toMatch(/flake sources: [1-9]\d* path\(s\) copied/);
      // Through the server, not around it: nix PUT the narinfos and NARs.
      const puts = server.requests().filter((l) => l.startsWith('PUT '));
      expect(puts.filter((l) => /\.narinfo$/.test(l)).length).toBeGreaterThanOrEqual(copied);
      expect(puts.some((l) => /^PUT \/nar\//.test(l))).toBe(true);
      for (const n of readdirSync(dir).filter((f) => f.endsWith('.narinfo'))) {
        const text = readFileSync(join(dir, n), 'utf8');
        if (!/^CA: /m.test(text)) expect(text).toMatch(/^Sig: team-a-1:/m);
      }
      expect(sbA.devenv(['cache', 'push', '--to', server.url], {cwd: pA}).stdout).toMatch(new RegExp(`environment: 0 path\\(s\\) copied, ${copied} already there`));

      const {b, p} = teammateGetsIt('b-http-push', 'proj-http-push', server.url);
      expect(JSON.parse(b.devenv(['status', '--json'], {cwd: p}).stdout).teams.lastNix).toMatchObject({built: 0, from: [server.url]});
    } finally {
      server.stop();
    }
  }, 600_000);

  test("on a daemon that does not trust B, doctor prints the nix.conf lines, and with them B gets the env with zero builds", () => {
    const b = makeTeammate(sbB, 'b-daemon');
    const p = cloneFor(sbB, 'proj-daemon', [`file://${cacheDir}`], [pubKey]);
    expect(b.devenv(['generate'], {cwd: p}).status).toBe(0);
    expect(b.devenv(['allow'], {cwd: p}).status).toBe(0);
    const plain = 'substituters =\nexperimental-features = nix-command flakes';
    const d = b.devenvWithDaemon(plain, ['doctor'], {cwd: p});
    expect(d.status).toBe(1);
    expect(d.stdout).toMatch(/FAIL {2}project's binary caches and builders usable: the nix daemon ignores file:\/\//);
    const lines = d.stdout.split('\n').map((l) => l.trim()).filter((l) => /^extra-trusted-(substituters|public-keys) = /.test(l));
    expect(lines).toEqual([`extra-trusted-substituters = file://${cacheDir}`, `extra-trusted-public-keys = ${pubKey}`]);
    // The admin adds exactly those lines to the daemon's nix.conf: B is still not trusted, but the cache now counts.
    const fixed = [plain, ...lines].join('\n');
    expect(b.devenvWithDaemon(fixed, ['doctor'], {cwd: p}).stdout).toMatch(/ok +project's binary caches and builders usable: passed to nix/);
    const r = b.devenvWithDaemon(fixed, ['exec', '--', 'team-hello'], {cwd: p});
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(helloA);
    expect(b.builds()).toEqual([]);
    expect(JSON.parse(b.devenv(['status', '--json'], {cwd: p}).stdout).teams.lastNix).toMatchObject({built: 0, ignoredSubstituters: [], from: [`file://${cacheDir}`]});
  }, 600_000);

  test('on a daemon that does not trust B, the first evaluation says the builders are ignored and prints the nix.conf lines; trusted, it does not', () => {
    const b = makeTeammate(sbB, 'b-builders-ignored');
    // Never contacted: nothing needs building (the cache, allowed in the daemon's nix.conf, has it all).
    const spec = 'ssh-ng://nobody@127.0.0.1 x86_64-linux - 1';
    const p = project(sbB, 'proj-builders-ignored', manifest(cacheToml([`file://${cacheDir}`], [pubKey]) + `\n[nix]\nbuilders = [${JSON.stringify(spec)}]\n`));
    expect(b.devenv(['generate'], {cwd: p}).status).toBe(0);
    expect(b.devenv(['allow'], {cwd: p}).status).toBe(0);
    const conf = ['substituters =', 'experimental-features = nix-command flakes', `extra-trusted-substituters = file://${cacheDir}`, `extra-trusted-public-keys = ${pubKey}`].join('\n');
    const r = b.devenvWithDaemon(conf, ['exec', '--', 'team-hello'], {cwd: p});
    expect(r.stdout).toBe(helloA);
    expect(r.stderr).toContain("the nix daemon ignores this project's [nix] builders:");
    expect(r.stderr).toContain('is not a trusted user');
    expect(r.stderr).toContain(`    builders = ${spec}\n`);
    // The caches are not ignored (the daemon's nix.conf allows them), so no line for them.
    expect(r.stderr).not.toContain('extra-trusted-substituters');
    expect(b.builds()).toEqual([]);
    expect(JSON.parse(b.devenv(['status', '--json'], {cwd: p}).stdout).teams.lastNix).toMatchObject({ignoredBuilders: true, ignoredSubstituters: []});
    expect(b.devenv(['status'], {cwd: p}).stdout).toMatch(/the daemon ignored the builders \(not a trusted user/);
    // The same daemon trusting B: the builders reach it, and nothing is said.
    const user = spawnSync('id', ['-un'], {encoding: 'utf8'}).stdout.trim();
    const trusted = b.devenvWithDaemon(`${conf}\ntrusted-users = ${user}`, ['reload'], {cwd: p});
    expect(trusted.status).toBe(0);
    expect(trusted.stderr).toBe('');
    expect(JSON.parse(b.devenv(['status', '--json'], {cwd: p}).stdout).teams.lastNix.ignoredBuilders).toBeUndefined();
  }, 600_000);

  test('a cache signed by a key the project does not trust is refused; B builds instead and says why', () => {
    const other = sbB.devenv(['cache', 'key', 'generate', '--name', 'someone-else-1']);
    expect(other.status).toBe(0);
    const b = makeTeammate(sbB, 'b-wrongkey');
    // B already has the big Debian tree (copied unsigned, as from an earlier checkout), so
    // what B builds is only what the refused cache would have given.
    const debian = readdirSync(cacheDir).filter((f) => f.endsWith('.narinfo')).map((f) => readFileSync(join(cacheDir, f), 'utf8')).map((t) => /^StorePath: (\S+-debian-bookworm)$/m.exec(t)?.[1]).find(Boolean)!;
    expect(b.run('nix', [...NIXF, 'copy', '--no-check-sigs', '--from', `file://${cacheDir}`, debian]).status).toBe(0);
    const p = cloneFor(sbB, 'proj-wrongkey', [`file://${cacheDir}`], [other.stdout.trim()]);
    expect(b.devenv(['generate'], {cwd: p}).status).toBe(0);
    expect(b.devenv(['allow'], {cwd: p}).status).toBe(0);
    const r = b.devenv(['exec', '--', 'team-hello'], {cwd: p});
    expect(r.stdout).toBe(helloA);
    expect(r.stderr).toMatch(new RegExp(`path\\(s\\) in file://${cacheDir} were refused: not signed by a key in \\[cache\\] trusted-public-keys`));
    expect(b.builds().some((d) => d.endsWith('-team-hello-1.0.drv'))).toBe(true);
    const st = JSON.parse(b.devenv(['status', '--json'], {cwd: p}).stdout).teams.lastNix;
    expect(st.built).toBeGreaterThan(0);
    expect(st.refused.from).toEqual([`file://${cacheDir}`]);
  }, 600_000);
});

describe('a remote builder over ssh-ng:// on loopback', () => {
  let sshd: ChildProcess | undefined;
  afterAll(() => {
    sshd?.kill();
  });

  test('builds the derivation there (nix says so), with builders-use-substitutes', async () => {
    // Builder C: Debian's sshd, unprivileged on a loopback port, with a host key and a client
    // key made here. The key may only run C's `nix-daemon --stdio`, in C's own empty /nix
    // (the same namespace trick as B), which fetches inputs from the team cache itself.
    const dir = join(sbB.dir, 'builder');
    // An installed, empty Nix (see helpers/teammate.ts for why var/nix).
    spawnSync('mkdir', ['-p', join(dir, 'C', 'nix', 'var', 'nix')]);
    for (const k of ['hostkey', 'clientkey']) expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, k)]).status).toBe(0);
    writeFileSync(join(dir, 'builder.sh'), `#!/bin/sh
export NIX_CONFIG='experimental-features = nix-command flakes
substituters = file://${cacheDir}
trusted-public-keys = ${pubKey}'
exec unshare -Urm sh -c '${"mount --bind \"$0/nix\" /nix && u=$1 && g=$2 && shift 2 && exec unshare -U --map-user=\"$u\" --map-group=\"$g\" -- \"$@\""}' '${dir}/C' "$(id -u)" "$(id -g)" nix-daemon --stdio
`, {mode: 0o755});
    writeFileSync(join(dir, 'authorized_keys'), `command="${dir}/builder.sh",restrict ${readFileSync(join(dir, 'clientkey.pub'), 'utf8')}`);
    const port = 20000 + Math.floor(Math.random() * 20000);
    writeFileSync(join(dir, 'sshd_config'), [`Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${dir}/hostkey`, `AuthorizedKeysFile ${dir}/authorized_keys`, `PidFile ${dir}/sshd.pid`, 'UsePAM no', 'StrictModes no', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', ''].join('\n'));
    sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], {stdio: ['ignore', 'ignore', 'pipe']});
    await new Promise<void>((resolve, reject) => {
      let err = '';
      sshd!.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('Server listening')) resolve();
      });
      sshd!.once('exit', () => reject(new Error(`sshd exited: ${err}`)));
    });

    // B with a fresh nonce: the environment is a derivation no store has built yet.
    const fx = join(sbB.dir, 'nixpkgs-builder');
    cpSync(fixture, fx, {recursive: true});
    writeFileSync(join(fx, 'team-nonce'), randomBytes(8).toString('hex'));
    const b = makeTeammate(sbB, 'b-builder');
    const hostKey = Buffer.from(readFileSync(join(dir, 'hostkey.pub'))).toString('base64');
    const spec = `ssh-ng://${process.env.USER ?? 'devenv-test'}@127.0.0.1 x86_64-linux ${dir}/clientkey 1 1 - - ${hostKey}`;
    const p = project(sbB, 'proj-builder', manifest(cacheToml([`file://${cacheDir}`], [pubKey]) + `\n[nix]\nbuilders = [${JSON.stringify(spec)}]\nbuilders-use-substitutes = true\n`));
    // `-F none`: B's ssh runs in B's user namespace, where root's files look owned by nobody,
    // and current ssh refuses such a config file (sid's systemd puts one in ssh_config.d).
    const env = {DEVENV_NIXPKGS: `path:${fx}`, NIX_SSHOPTS: `-F none -p ${port}`, NIX_CONFIG: 'substituters =\nexperimental-features = nix-command flakes\nmax-jobs = 0'};
    expect(b.devenv(['generate'], {cwd: p, env}).status).toBe(0);
    expect(b.devenv(['allow'], {cwd: p, env}).status).toBe(0);
    const r = b.devenv(['exec', '--', 'team-hello'], {cwd: p, env});
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^team-hello [0-9a-f]{64}\n$/);
    expect(r.stdout).not.toBe(helloA);
    const st = JSON.parse(b.devenv(['status', '--json'], {cwd: p, env}).stdout).teams.lastNix;
    expect(st.remote).toEqual([spec.split(' ')[0]]);
    expect(b.devenv(['status'], {cwd: p, env}).stdout).toMatch(/last nix run: built \d+ \(on ssh-ng:\/\/[^)]+@127\.0\.0\.1\)/);
    // Built on C: C's store has the output and C's own build log; B has the output copied back.
    const out = readdirSync(join(dir, 'C', 'nix', 'store')).filter((n) => n.endsWith('-team-hello-1.0'));
    expect(out.length).toBe(1);
    expect(b.storePaths()).toContain(out[0]);
    const cLogs = spawnSync('find', [join(dir, 'C', 'nix', 'var', 'log', 'nix', 'drvs'), '-name', '*-team-hello-1.0.drv*'], {encoding: 'utf8'}).stdout.trim();
    expect(cLogs).not.toBe('');
  }, 600_000);
});

describe('trust', () => {
  test("a cloned project that is not allowed never passes its [cache] or builders to nix; allowed, it does", () => {
    const spy = nixSpy(sbB);
    const p = project(sbB, 'proj-cloned', manifest(cacheToml(['https://evil.example'], [pubKey]) + '\n[nix]\nbuilders = ["ssh-ng://evil.example x86_64-linux"]\n'));
    const gen = sbB.devenv(['generate'], {cwd: p});
    expect(gen.status).toBe(0);
    expect(readFileSync(join(p, 'flake.nix'), 'utf8')).toContain('extra-substituters = [ "https://evil.example" ];');
    // Not allowed: explicit exec still works, but nothing of [cache]/[nix] reaches nix, and
    // the flake's own nixConfig is refused too.
    const r = sbB.devenv(['exec', '--', 'team-hello'], {cwd: p, env: spy.env});
    expect(r.stdout).toBe(helloA);
    expect(r.stderr).toContain("this project's [cache]/[nix] settings were not passed to nix: the project is not allowed");
    const calls = spy.calls();
    expect(calls.some((c) => c.includes('print-dev-env'))).toBe(true);
    for (const c of calls) {
      expect(c).not.toContain('evil.example');
      expect(c).not.toContain(pubKey);
    }
    expect(calls.filter((c) => c.includes('print-dev-env')).every((c) => c.includes('accept-flake-config false'))).toBe(true);
    expect(sbB.devenv(['status'], {cwd: p}).stdout).toContain('not passed to nix (the project is not allowed)');
    // Allowed: passed (and nothing needs fetching, so the bogus cache is never contacted).
    expect(sbB.devenv(['allow'], {cwd: p}).status).toBe(0);
    writeFileSync(spy.log, '');
    expect(sbB.devenv(['reload'], {cwd: p, env: spy.env}).status).toBe(0);
    const pde = spy.calls().find((c) => c.includes('print-dev-env'))!;
    expect(pde).toContain('extra-substituters https://evil.example');
    expect(pde).toContain(`extra-trusted-public-keys ${pubKey}`);
    expect(pde).toContain('builders ssh-ng://evil.example x86_64-linux');
    // An edit after the allow: not passed again.
    writeFileSync(join(p, 'devenv.toml'), readFileSync(join(p, 'devenv.toml'), 'utf8') + '\n');
    writeFileSync(spy.log, '');
    sbB.devenv(['reload'], {cwd: p, env: spy.env});
    for (const c of spy.calls()) expect(c).not.toContain('evil.example');
  }, 600_000);

  test('a secret-key in a project URL is refused before anything runs', () => {
    const p = project(sbB, 'proj-secret', manifest(`\n[cache]\npush = "file:///tmp/x?secret-key=/home/someone/.ssh/id_ed25519"\n`));
    const r = sbB.devenv(['generate'], {cwd: p});
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/devenv\.toml:\d+:\d+: cache\.push: a store URL here must not name a secret-key/);
    expect(existsSync(join(p, 'flake.nix'))).toBe(false);
  });
});

/**
 * A static file server for a cache directory, in its own process (devenv runs synchronously
 * here). With `writable`, PUT stores a file (what `nix copy --to http://` sends), as a plain
 * WebDAV-less upload endpoint would.
 */
async function serve(dir: string, opts: {writable?: boolean} = {}): Promise<{url: string; requests: () => string[]; stop: () => void}> {
  const log = join(sbB.dir, `http-${Date.now()}.log`);
  writeFileSync(log, '');
  const code = `
    const http = require('node:http'), fs = require('node:fs'), path = require('node:path');
    const [dir, log, writable] = process.argv.slice(1);
    const srv = http.createServer((req, res) => {
      const u = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      fs.appendFileSync(log, (req.method === 'PUT' ? 'PUT ' : '') + u + '\\n');
      const f = path.join(dir, path.normalize(u));
      if (!f.startsWith(dir + '/')) { res.writeHead(403); return res.end(); }
      if (req.method === 'PUT') {
        if (writable !== 'w') { res.writeHead(405); return res.end(); }
        fs.mkdirSync(path.dirname(f), {recursive: true});
        const tmp = f + '.part';
        req.pipe(fs.createWriteStream(tmp)).on('finish', () => { fs.renameSync(tmp, f); res.writeHead(201); res.end(); });
        return;
      }
      if (!fs.existsSync(f) || fs.statSync(f).isDirectory()) { res.writeHead(404); return res.end(); }
      res.writeHead(200, {'content-length': fs.statSync(f).size});
      if (req.method === 'HEAD') return res.end();
      fs.createReadStream(f).pipe(res);
    });
    srv.listen(0, '127.0.0.1', () => console.log(srv.address().port));`;
  const child: ChildProcess = spawn(process.execPath, ['-e', code, dir, log, opts.writable ? 'w' : 'r'], {stdio: ['ignore', 'pipe', 'inherit']});
  const port = await new Promise<string>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())));
  return {url: `http://127.0.0.1:${port}`, requests: () => readFileSync(log, 'utf8').split('\n').filter(Boolean), stop: () => child.kill()};
}
