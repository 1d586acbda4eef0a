// A second machine's Nix store on this one: teammate B's own, initially empty `/nix`, bound over
// /nix in a private mount namespace (an unprivileged user namespace, so no root is needed).
// Nix there uses a local store as B's own user (uid 0 in a user namespace trips Nix 2.8's
// setgroups() in the builder, so a nested namespace maps the user back to itself); builds
// still run in Nix's sandbox. Every local build leaves a log under /nix/var/log/nix/drvs:
// that is how tests count builds.
import {spawnSync, type SpawnSyncReturns} from 'node:child_process';
import {mkdirSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import {DEVENV, type Sandbox} from './env.js';

export interface Teammate {
  /** The host-side directory holding B's /nix. */
  nixDir: string;
  /** Run a command with B's /nix in place of the host's. */
  run(cmd: string, args: string[], opts?: {cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number}): SpawnSyncReturns<string>;
  /** devenv as B (B's XDG dirs are the sandbox's). */
  devenv(args: string[], opts?: {cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number}): SpawnSyncReturns<string>;
  /** Derivations built in B's store so far (one log file each). */
  builds(): string[];
  /** Store paths in B's store (names). */
  storePaths(): string[];
}

const ENTER = 'mount --bind "$0/nix" /nix && u=$1 && g=$2 && shift 2 && exec unshare -U --map-user="$u" --map-group="$g" -- "$@"';

export function makeTeammate(sb: Sandbox, name: string): Teammate {
  const root = join(sb.dir, name);
  const nixDir = join(root, 'nix');
  mkdirSync(nixDir, {recursive: true});
  const uid = String(process.getuid!());
  const gid = String(process.getgid!());
  const baseEnv = (extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = {...sb.env, ...extra};
    delete env.NIX_REMOTE; // B's own local store, not the host's daemon
    return env;
  };
  const t: Teammate = {
    nixDir,
    run(cmd, args, opts = {}) {
      return spawnSync('unshare', ['-Urm', 'sh', '-c', ENTER, root, uid, gid, cmd, ...args], {
        cwd: opts.cwd ?? sb.dir,
        env: {...baseEnv(opts.env), PWD: opts.cwd ?? sb.dir},
        encoding: 'utf8',
        timeout: opts.timeout ?? 300_000,
      });
    },
    devenv(args, opts = {}) {
      return t.run(process.execPath, [DEVENV, ...args], opts);
    },
    builds() {
      const out: string[] = [];
      const dir = join(nixDir, 'var', 'log', 'nix', 'drvs');
      let subs: string[] = [];
      try {
        subs = readdirSync(dir);
      } catch {
        return out;
      }
      for (const s of subs) for (const f of readdirSync(join(dir, s))) out.push(s + f.replace(/\.bz2$/, ''));
      return out;
    },
    storePaths() {
      try {
        return readdirSync(join(nixDir, 'store')).filter((n) => !n.endsWith('.lock'));
      } catch {
        return [];
      }
    },
  };
  return t;
}
