#!/usr/bin/env node
// `devenv up -d` (until PostgreSQL is ready) vs a bare `pg_ctl start -w` on the same data dir,
// port and socket dir, side by side, alternating, each followed by an untimed stop.
//   node bench/services.mjs [--runs N]      (as root it re-runs itself as devenv-test: PostgreSQL refuses root)
// Prints medians and the ratio; also devenv's own spawn-to-ready time, and `devenv ps` and
// `node -e 0` to show how much of the difference is the CLI starting up.
import {spawnSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const DEVENV = join(REPO, 'bin', 'run.js');
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 10;

if (process.getuid() === 0) {
  const user = process.env.DEVENV_TEST_USER || 'devenv-test';
  const r = spawnSync('runuser', ['-u', user, '--', 'env', `HOME=/home/${user}`, `USER=${user}`, `LOGNAME=${user}`, 'NIX_REMOTE=daemon', `PATH=${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, process.execPath, ...process.argv.slice(1)], {stdio: 'inherit'});
  process.exit(r.status ?? 1);
}

const dir = mkdtempSync(join(tmpdir(), 'devenv-bench-svc-'));
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

function run(cmd, args, {timed = false} = {}) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {cwd: app, env: {...env, PWD: app}, encoding: 'utf8'});
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return timed ? {ms, stdout: r.stdout} : r.stdout;
}
const devenv = (...args) => run(process.execPath, [DEVENV, ...args]);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  devenv('init', 'python-postgres');
  devenv('up', '-d'); // evaluates the environment and runs initdb once; not measured
  const st = JSON.parse(devenv('ps', '--json')).services[0];
  devenv('down');
  const pgctl = devenv('exec', '--', 'sh', '-c', 'command -v pg_ctl').trim();
  const opts = `-c port=${st.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${st.socketDir}`;

  const res = {devenv: [], ready: [], pgctl: [], node: [], ps: []};
  for (let i = 0; i < runs; i++) {
    const u = run(process.execPath, [DEVENV, 'up', '-d', '--json'], {timed: true});
    res.devenv.push(u.ms);
    res.ready.push(JSON.parse(u.stdout).services[0].readyMs);
    devenv('down');
    res.pgctl.push(run(pgctl, ['start', '-w', '-D', st.dataDir, '-l', st.logFile, '-o', opts], {timed: true}).ms);
    run(pgctl, ['stop', '-m', 'fast', '-w', '-D', st.dataDir]);
    res.node.push(run(process.execPath, ['-e', '0'], {timed: true}).ms);
    res.ps.push(run(process.execPath, [DEVENV, 'ps', '--json'], {timed: true}).ms);
  }
  const m = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, median(v)]));
  const f = (x) => x.toFixed(0);
  console.log(`runs: ${runs} each, alternating, medians (2-core machine; ratios matter, not times)`);
  console.log(`devenv up -d (process start to exit, server ready): ${f(m.devenv)} ms`);
  console.log(`  of which postgres spawn to ready (devenv's own wait): ${f(m.ready)} ms`);
  console.log(`bare pg_ctl start -w (same data dir, port, socket dir): ${f(m.pgctl)} ms`);
  console.log(`devenv ps --json (oclif start-up, no server work): ${f(m.ps)} ms; node -e 0: ${f(m.node)} ms`);
  console.log(`ratio devenv up -d / pg_ctl start -w: ${(m.devenv / m.pgctl).toFixed(2)}x; spawn-to-ready / pg_ctl: ${(m.ready / m.pgctl).toFixed(2)}x`);
} finally {
  spawnSync(process.execPath, [DEVENV, 'down'], {cwd: app, env: {...env, PWD: app}});
  rmSync(dir, {recursive: true, force: true});
}
