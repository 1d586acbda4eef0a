// The offline nixpkgs stand-in (test/fixtures/nixpkgs-offline) must give a
// real `nix print-dev-env` result: a shell whose PATH holds only /nix/store
// bin dirs with Debian bookworm's Python 3.11 and PostgreSQL 15 behind them,
// loading nothing of the host, built with Nix's sandbox on.
// Runs real Nix (multi-user: NIX_REMOTE=daemon when run by scripts/run-tests.sh).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'nixpkgs-offline');
const TIMEOUT = 120_000;

const NIX_FLAGS = ['--extra-experimental-features', 'nix-command flakes'];

const SAMPLE_FLAKE = `{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";
  outputs = { self, nixpkgs }:
    let
      forSystem = s: let pkgs = nixpkgs.legacyPackages.\${s}; in {
        default = pkgs.mkShell {
          packages = [ pkgs.python311 pkgs.postgresql_15 ];
          FOO = "bar";
          shellHook = "echo hi";
        };
      };
    in {
      devShells.x86_64-linux = forSystem "x86_64-linux";
      devShells.aarch64-linux = forSystem "aarch64-linux";
    };
}
`;

interface DevEnvVar {
  type: string;
  value: unknown;
}
interface DevEnv {
  variables: Record<string, DevEnvVar>;
}

function nixEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  // No binary cache is reachable from the test machines.
  if (!env.NIX_CONFIG || !/substituters/.test(env.NIX_CONFIG)) {
    env.NIX_CONFIG = `${env.NIX_CONFIG ? env.NIX_CONFIG + '\n' : ''}substituters =`;
  }
  return env;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = nixEnv()) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: TIMEOUT - 10_000 });
  if (r.error) throw r.error;
  return r;
}

describe('nixpkgs-offline fixture', () => {
  let project: string;
  let env: DevEnv;

  beforeAll(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'devenv-fixture-'));
    fs.writeFileSync(path.join(project, 'flake.nix'), SAMPLE_FLAKE);
    const r = run(
      'nix',
      [
        'print-dev-env',
        '--json',
        '--no-write-lock-file',
        '--override-input',
        'nixpkgs',
        `path:${FIXTURE}`,
        ...NIX_FLAGS,
      ],
      project,
    );
    if (r.status !== 0) {
      throw new Error(`nix print-dev-env failed (${r.status}):\n${r.stderr}`);
    }
    env = JSON.parse(r.stdout) as DevEnv;
  }, TIMEOUT);

  afterAll(() => {
    if (project) fs.rmSync(project, { recursive: true, force: true });
  });

  function variable(name: string): string {
    const v = env.variables[name];
    expect(v).toBeDefined();
    expect(typeof v.value).toBe('string');
    return v.value as string;
  }

  function which(bin: string): string {
    for (const dir of variable('PATH').split(':')) {
      const candidate = path.join(dir, bin);
      if (fs.existsSync(candidate)) return candidate;
    }
    throw new Error(`${bin} not found on the dev shell's PATH`);
  }

  test('passes extra attributes and shellHook through', () => {
    expect(env.variables.FOO).toEqual({ type: 'exported', value: 'bar' });
    expect(variable('shellHook')).toBe('echo hi');
  }, TIMEOUT);

  test('PATH holds only /nix/store bin dirs', () => {
    const dirs = variable('PATH').split(':');
    expect(dirs.length).toBeGreaterThanOrEqual(2);
    for (const dir of dirs) {
      expect(dir).toMatch(/^\/nix\/store\/[0-9a-z]{32}-[^/]+\/bin$/);
    }
  }, TIMEOUT);

  test("PATH's python3 is Python 3.11 under /nix/store", () => {
    const python = which('python3');
    expect(python.startsWith('/nix/store/')).toBe(true);
    const r = run(python, ['--version'], project);
    expect(r.status).toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/^Python 3\.11\.\d+/);
  }, TIMEOUT);

  test("PATH's postgres is PostgreSQL 15", () => {
    const postgres = which('postgres');
    expect(postgres.startsWith('/nix/store/')).toBe(true);
    const r = run(postgres, ['--version'], project);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\(PostgreSQL\) 15\./);
    for (const bin of ['initdb', 'pg_ctl', 'pg_isready', 'psql', 'createdb']) {
      expect(which(bin).startsWith('/nix/store/')).toBe(true);
    }
  }, TIMEOUT);

  test('every library python3 and postgres load comes from the store', () => {
    for (const bin of [which('python3'), which('postgres'), which('psql')]) {
      // The dynamic loader lists what it would load, itself included.
      const r = run(fs.realpathSync(bin), [], project, { ...nixEnv(), LD_TRACE_LOADED_OBJECTS: '1' });
      expect(r.status).toBe(0);
      const loaded = r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
      expect(loaded.length).toBeGreaterThan(2);
      for (const line of loaded) {
        const target = line.includes('=>') ? line.split('=>')[1].trim() : line;
        if (target.startsWith('linux-vdso')) continue;
        expect(`${bin}: ${target}`).toMatch(/: \/nix\/store\//);
      }
    }
  }, TIMEOUT);

  test("python3's standard library ships valid hash-checked bytecode and reads nothing from the host (running it never writes to the store)", () => {
    // Stale or missing .pyc files are rewritten by any python that can write its own store path
    // (root can), and nix-store --verify-path then says the path "was modified". A test user
    // cannot write there, so check what python would decide: every module's .pyc, at each
    // optimisation level, is hash-based and matches its source.
    const script = `
import importlib, importlib.util, sys
names = ["json", "email.mime.text", "asyncio", "sqlite3", "http.client", "xml.dom.minidom",
         "venv", "ensurepip", "ssl", "logging.handlers", "encodings.utf_8", "unittest.mock"]
bad = []
for n in names:
    origin = importlib.import_module(n).__spec__.origin
    src = open(origin, "rb").read()
    for opt in ("", 1, 2):
        pyc = importlib.util.cache_from_source(origin, optimization=opt)
        try:
            head = open(pyc, "rb").read(16)
        except OSError:
            bad.append(f"{n}: no {pyc}"); continue
        flags = int.from_bytes(head[4:8], "little")
        if not flags & 1:
            bad.append(f"{n}: {pyc} is timestamp-checked")
        elif head[8:16] != importlib.util.source_hash(src):
            bad.append(f"{n}: {pyc} does not match its source")
# Nothing python loads at start-up comes from outside the store (Debian's sitecustomize.py
# was a link to the host's /etc, whose .pyc root's python wrote into the store path).
import os
for m in list(sys.modules.values()):
    o = getattr(getattr(m, "__spec__", None), "origin", None)
    if o and o.startswith("/") and not os.path.realpath(o).startswith("/nix/store/"):
        bad.append(f"{m.__name__} is read from {os.path.realpath(o)}")
print("\\n".join(bad) or "ok")
`;
    const r = run(fs.realpathSync(which('python3')), ['-c', script], project, { ...nixEnv(), PYTHONDONTWRITEBYTECODE: '1' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ok');
  }, TIMEOUT);

  test('builds are sandboxed wherever the kernel allows it', () => {
    // Can this kernel give an unprivileged user a user namespace (what the sandbox needs)?
    const userns = spawnSync('unshare', ['--user', '--map-root-user', 'true'], { encoding: 'utf8' });
    if (userns.status !== 0) {
      // A kernel without user namespaces: say so loudly rather than pass quietly.
      throw new Error(`this kernel refuses user namespaces (${userns.stderr.trim()}); the sandbox cannot be checked`);
    }
    const nonce = `${process.pid}-${Date.now()}`;
    const expr = `(builtins.getFlake "path:${FIXTURE}").legacyPackages.\${builtins.currentSystem}.sandboxProbe "${nonce}"`;
    const r = run('nix', ['build', '--impure', '--no-link', '--json', '--expr', expr, ...NIX_FLAGS], project);
    if (r.status !== 0) throw new Error(`nix build failed (${r.status}):\n${r.stderr}`);
    const out = (JSON.parse(r.stdout) as Array<{ outputs: { out: string } }>)[0].outputs.out;
    expect(fs.readFileSync(out, 'utf8').trim()).toBe('sandboxed');
  }, TIMEOUT);

  test('the shell derivation builds (it can be rooted with --profile)', () => {
    const profile = path.join(project, 'shell-profile');
    const r = run(
      'nix',
      [
        'build',
        '--no-write-lock-file',
        '--override-input',
        'nixpkgs',
        `path:${FIXTURE}`,
        '--no-link',
        '--profile',
        profile,
        `.#devShells.${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux.default`,
        ...NIX_FLAGS,
      ],
      project,
    );
    if (r.status !== 0) throw new Error(`nix build failed (${r.status}):\n${r.stderr}`);
    expect(fs.realpathSync(profile).startsWith('/nix/store/')).toBe(true);
  }, TIMEOUT);
});
