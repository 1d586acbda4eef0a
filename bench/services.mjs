#!/usr/bin/env node
// `devenv up -d` (until PostgreSQL is ready) vs a bare `pg_ctl start -w` on the same data dir,
// port and socket dir, side by side, alternating, each followed by an untimed stop.
//   node bench/services.mjs [--runs N]      (as root it re-runs itself as devenv-test: PostgreSQL refuses root)
// Prints medians and the ratio; also devenv's own spawn-to-ready time, and `devenv ps` and
// `node -e 0` to show how much of the difference is the CLI starting up.
import {rmSync} from 'node:fs';
import {spawnSync} from 'node:child_process';
import {asTestUser, benchProject, DEVENV, median, runsArg} from './lib.mjs';

const runs = runsArg();
asTestUser();
const {dir, app, env, run, devenv} = benchProject('devenv-bench-svc-');

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
