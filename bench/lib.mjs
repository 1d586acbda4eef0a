// What the benches share: re-running as the test user (servers refuse root), a private XDG
// home and the offline nixpkgs, running devenv and others in the project dir, medians.
import {spawnSync} from 'node:child_process';
import {appendFileSync, mkdirSync, mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

export const REPO = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
export const DEVENV = join(REPO, 'bin', 'run.js');

export const runsArg = (dflt = 10) => Number(process.argv[process.argv.indexOf('--runs') + 1]) || dflt;
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** As root, run this same script again as the unprivileged test user and exit with its status. */
export function asTestUser() {
  if (process.getuid() !== 0) return;
  const user = process.env.DEVENV_TEST_USER || 'devenv-test';
  const r = spawnSync('runuser', ['-u', user, '--', 'env', `HOME=/home/${user}`, `USER=${user}`, `LOGNAME=${user}`, 'NIX_REMOTE=daemon', `PATH=${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, process.execPath, ...process.argv.slice(1)], {stdio: 'inherit'});
  process.exit(r.status ?? 1);
}

/** A scratch dir with its own XDG dirs and an empty project dir `app`; run(cmd, args) runs there. */
export function benchProject(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const home = (d) => join(dir, 'home', d);
  for (const d of ['config', 'cache', 'state', 'data', 'run']) mkdirSync(home(d), {recursive: true, mode: 0o700});
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: home('config'), XDG_CACHE_HOME: home('cache'), XDG_STATE_HOME: home('state'), XDG_DATA_HOME: home('data'), XDG_RUNTIME_DIR: home('run'),
    DEVENV_NIXPKGS: `path:${REPO}/test/fixtures/nixpkgs-offline`,
    NIX_CONFIG: 'substituters =\nexperimental-features = nix-command flakes',
  };
  const app = join(dir, 'app');
  mkdirSync(app);
  function run(cmd, args, {timed = false, extraEnv = {}} = {}) {
    const t = process.hrtime.bigint();
    const r = spawnSync(cmd, args, {cwd: app, env: {...env, PWD: app, ...extraEnv}, encoding: 'utf8'});
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
    return timed ? {ms, stdout: r.stdout} : r.stdout;
  }
  const devenv = (...args) => run(process.execPath, [DEVENV, ...args]);
  return {dir, app, env, run, devenv};
}

/**
 * One figure for bench/run.mjs's table: appended as a JSON line to $DEVENV_BENCH_RESULTS when
 * set. ratio = devenv / reference; target: the ratio to stay at or below.
 */
export function report({name, value, ref, ratio, target}) {
  const file = process.env.DEVENV_BENCH_RESULTS;
  if (file) appendFileSync(file, JSON.stringify({name, value, ref, ratio: Number(ratio.toFixed(4)), target}) + '\n');
}
