// Shared test helpers: an isolated user (own XDG dirs) and real devenv/nix runs.
import {spawnSync, type SpawnSyncReturns} from 'node:child_process';
import {mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
export const DEVENV = join(REPO, 'bin', 'run.js');
export const OFFLINE_NIXPKGS = `path:${join(REPO, 'test', 'fixtures', 'nixpkgs-offline')}`;

export interface Sandbox {
  /** A temp dir for projects. */
  dir: string;
  /** Environment for devenv: isolated XDG dirs, offline nixpkgs, no substituters. */
  env: NodeJS.ProcessEnv;
  /** Run devenv with args; cwd defaults to `dir`. */
  devenv(args: string[], opts?: {cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeout?: number}): SpawnSyncReturns<string>;
  cleanup(): void;
}

export function makeSandbox(prefix = 'devenv-test-'): Sandbox {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  const home = join(dir, 'home');
  for (const d of ['config', 'cache', 'state', 'data', 'run']) mkdirSync(join(home, d), {recursive: true, mode: 0o700});
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_CACHE_HOME: join(home, 'cache'),
    XDG_STATE_HOME: join(home, 'state'),
    XDG_DATA_HOME: join(home, 'data'),
    XDG_RUNTIME_DIR: join(home, 'run'),
    DEVENV_NIXPKGS: OFFLINE_NIXPKGS,
    NIX_CONFIG: 'substituters =\nexperimental-features = nix-command flakes',
  };
  delete env.DEVENV_ROOT;
  delete env.DEVENV_VARS;
  delete env.DEVENV_STRICT;
  return {
    dir,
    env,
    devenv(args, opts = {}) {
      return spawnSync(process.execPath, [DEVENV, ...args], {
        cwd: opts.cwd ?? dir,
        env: {...env, PWD: opts.cwd ?? dir, ...opts.env},
        input: opts.input,
        encoding: 'utf8',
        timeout: opts.timeout ?? 180_000,
      });
    },
    cleanup() {
      rmSync(dir, {recursive: true, force: true});
    },
  };
}

/**
 * A project directory inside the sandbox with devenv.toml from `init <templates>`.
 * `{venv: false}` turns the python templates' venv off (and allows again), for tests about
 * something else: making a venv costs an ensurepip (seconds) at the first entry or exec.
 */
export function initProject(sb: Sandbox, name: string, templates: string[] = ['python-postgres'], opts: {venv?: false} = {}): string {
  const p = join(sb.dir, name);
  mkdirSync(p, {recursive: true});
  const r = sb.devenv(['init', ...templates], {cwd: p});
  if (r.status !== 0) throw new Error(`init failed: ${r.stderr}${r.stdout}`);
  if (opts.venv === false) withoutVenv(sb, p);
  return p;
}

/** Set `venv = false` in a project's [languages.python] and allow the project again. */
export function withoutVenv(sb: Sandbox, p: string): void {
  const toml = join(p, 'devenv.toml');
  const text = readFileSync(toml, 'utf8');
  if (!/^venv = true$/m.test(text)) throw new Error(`no 'venv = true' in ${toml}`);
  writeFileSync(toml, text.replace(/^venv = true$/m, 'venv = false'));
  const r = sb.devenv(['allow'], {cwd: p});
  if (r.status !== 0) throw new Error(`allow failed: ${r.stderr}`);
}

export function writeFile(path: string, text: string): void {
  writeFileSync(path, text);
}

/** A `nix` wrapper on PATH that logs each call, to prove a path ran no nix. */
export function nixSpy(sb: Sandbox): {env: NodeJS.ProcessEnv; log: string; calls: () => string[]} {
  const bin = join(sb.dir, 'spy-bin');
  const log = join(sb.dir, 'nix-calls.log');
  mkdirSync(bin, {recursive: true});
  const real = spawnSync('bash', ['-c', 'command -v nix'], {encoding: 'utf8', env: sb.env}).stdout.trim();
  writeFileSync(join(bin, 'nix'), `#!/bin/sh\necho "$*" >> '${log}'\nexec '${real}' "$@"\n`, {mode: 0o755});
  writeFileSync(log, '');
  return {
    env: {PATH: `${bin}:${sb.env.PATH}`},
    log,
    calls: () => {
      return readFileSync(log, 'utf8').split('\n').filter(Boolean);
    },
  };
}
