// A second machine's Nix store on this one: teammate B's own, initially empty `/nix`, bound over
// /nix in a private mount namespace (an unprivileged user namespace, so no root is needed).
// Nix there uses a local store as B's own user (uid 0 in a user namespace trips Nix 2.8's
// setgroups() in the builder, so a nested namespace maps the user back to itself); builds
// still run in Nix's sandbox. Every local build leaves a log under /nix/var/log/nix/drvs:
// that is how tests count builds.
import {spawnSync, type SpawnSyncReturns} from 'node:child_process';
import {existsSync, mkdirSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import {DEVENV, type Sandbox} from './env.js';

export interface Teammate {
  /** The host-side directory holding B's /nix. */
  nixDir: string;
  /** Run a command with B's /nix in place of the host's. */
  run(cmd: string, args: string[], opts?: {cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number}): SpawnSyncReturns<string>;
  /** devenv as B (with B's own XDG dirs). */
  devenv(args: string[], opts?: {cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number}): SpawnSyncReturns<string>;
  /**
   * devenv as B on a multi-user Nix: B's own nix-daemon (run as B, so B is not one of its
   * trusted users) with `daemonConfig` as its nix.conf, for the length of one command.
   */
  devenvWithDaemon(daemonConfig: string, args: string[], opts?: {cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number}): SpawnSyncReturns<string>;
  /** Derivations built in B's store so far (one log file each). */
  builds(): string[];
  /** Store paths in B's store (names). */
  storePaths(): string[];
}

const ENTER = 'mount --bind "$0/nix" /nix && u=$1 && g=$2 && shift 2 && exec unshare -U --map-user="$u" --map-group="$g" -- "$@"';

export function makeTeammate(sb: Sandbox, name: string): Teammate {
  const root = join(sb.dir, name);
  const nixDir = join(root, 'nix');
  // An installed but empty single-user Nix, as the installer leaves it: /nix/var/nix exists.
  // Without it Nix 2.34 (unlike 2.8) does not use /nix at all for a user who is not root, but
  // a chroot store in $XDG_DATA_HOME/nix/root: B's tools land where B's /nix never shows them.
  mkdirSync(join(nixDir, 'var', 'nix'), {recursive: true});
  const uid = String(process.getuid!());
  const gid = String(process.getgid!());
  // B's own XDG dirs too: cache entries name store paths, which only B's store has.
  const xdg: NodeJS.ProcessEnv = {};
  for (const [v, d] of [['XDG_CONFIG_HOME', 'config'], ['XDG_CACHE_HOME', 'cache'], ['XDG_STATE_HOME', 'state'], ['XDG_DATA_HOME', 'data'], ['XDG_RUNTIME_DIR', 'run']]) {
    xdg[v] = join(root, 'home', d);
    mkdirSync(xdg[v]!, {recursive: true, mode: 0o700});
  }
  const baseEnv = (extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = {...sb.env, ...xdg, ...extra};
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
    devenvWithDaemon(daemonConfig, args, opts = {}) {
      // Waits for the daemon's socket (bounded), runs devenv against it, stops the daemon.
      const script = `NIX_CONFIG="$DAEMON_CONFIG" nix-daemon >>"$DAEMON_LOG" 2>&1 & d=$!
        i=0; while [ ! -S /nix/var/nix/daemon-socket/socket ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
        NIX_REMOTE=daemon "$@"; rc=$?; kill $d; wait $d 2>/dev/null; exit $rc`;
      return t.run('sh', ['-c', script, 'sh', process.execPath, DEVENV, ...args], {...opts, env: {...opts.env, DAEMON_CONFIG: daemonConfig, DAEMON_LOG: join(root, 'daemon.log')}});
    },
    builds() {
      // Counting builds in B's /nix means nothing if nix used another store.
      if (existsSync(join(xdg.XDG_DATA_HOME!, 'nix', 'root'))) throw new Error(`nix used a chroot store in ${xdg.XDG_DATA_HOME}/nix/root, not B's /nix`);
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
        return readdirSync(join(nixDir, 'store')).filter((n) => !n.endsWith('.lock') && !n.startsWith('.')); // not .links
      } catch {
        return [];
      }
    },
  };
  // The installer's first use of the store: its database and gcroots exist before devenv runs
  // nix calls side by side (two first uses at once race: "creating symlink ... gcroots/profiles
  // ...: File exists" on Nix 2.8).
  const init = t.run('nix-store', ['--gc', '--print-roots']);
  if (init.status !== 0) throw new Error(`cannot initialise ${name}'s store: ${init.stderr}`);
  return t;
}
