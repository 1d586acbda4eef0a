#!/usr/bin/env node
// `devenv up -d` until PostgreSQL, Redis and one user process are ready, vs starting the same
// three by hand (pg_ctl start -w; redis-server then a PING loop; the process then a TCP-connect
// loop) on the same data dirs, ports and sockets, side by side, alternating, each followed by
// an untimed stop.
//   node bench/up.mjs [--runs N]      (as root it re-runs itself as devenv-test)
// Prints medians and the ratio.
import {spawn, spawnSync} from 'node:child_process';
import {rmSync, writeFileSync} from 'node:fs';
import {createConnection} from 'node:net';
import {join} from 'node:path';
import {asTestUser, benchProject, DEVENV, median, report, runsArg} from './lib.mjs';

const runs = runsArg();
asTestUser();
const {dir, app, env, run, devenv} = benchProject('devenv-bench-up-');
// The user process: a small TCP server (python's http.server resolves its host name at start).
writeFileSync(join(app, 'server.py'), "import os, socket\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(('127.0.0.1', int(os.environ['PORT'])))\ns.listen()\nwhile True:\n    c, _ = s.accept()\n    c.close()\n");
writeFileSync(join(app, 'devenv.toml'), `name = "app"
packages = ["python311"]

[services.postgres]

[services.redis]

[processes.web]
exec = "exec python3 server.py"
port = "auto"
ready = "tcp"
`);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const answers = (opts, send, ok) =>
  new Promise((resolve) => {
    const s = createConnection(opts);
    s.once('connect', () => (send ? s.write(send) : (s.destroy(), resolve(true))));
    s.on('data', (d) => {
      s.destroy();
      resolve(ok(d));
    });
    s.once('error', () => resolve(false));
  });

/** By hand: the three started at once, then each waited for, the way a script would. */
async function byHand(t) {
  const t0 = process.hrtime.bigint();
  const pg = spawn(t.pgctl, ['start', '-w', '-D', t.pg.dataDir, '-l', t.pg.logFile, '-o', `-c port=${t.pg.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${t.pg.socketDir}`], {env: t.env, stdio: 'ignore'});
  const redis = spawn(t.redisServer, ['--port', String(t.redis.port), '--bind', '127.0.0.1', '--unixsocket', t.redisSock, '--dir', t.redis.dataDir, '--daemonize', 'no', '--logfile', ''], {env: t.env, stdio: 'ignore', detached: true});
  const web = spawn(t.python, ['server.py'], {cwd: app, env: {...t.env, PORT: String(t.web.port)}, stdio: 'ignore', detached: true});
  const pgDone = new Promise((r) => pg.once('exit', r));
  while (!(await answers(t.redisSock, 'PING\r\n', (d) => d.toString().startsWith('+PONG')))) await sleep(5);
  while (!(await answers({host: '127.0.0.1', port: t.web.port}))) await sleep(5);
  await pgDone;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  run(t.pgctl, ['stop', '-m', 'fast', '-w', '-D', t.pg.dataDir], {extraEnv: t.env});
  for (const c of [redis, web]) {
    process.kill(-c.pid, 'SIGTERM');
    await new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r)));
  }
  return ms;
}

try {
  devenv('allow');
  devenv('up', '-d'); // evaluates the environment and runs initdb once; not measured
  const st = Object.fromEntries(JSON.parse(devenv('ps', '--json')).services.map((s) => [s.name, s]));
  devenv('down');
  const tools = JSON.parse(devenv('exec', '--', 'node', '-e', 'const c=require("child_process");const w=(x)=>c.execSync("command -v "+x,{shell:"/bin/sh"}).toString().trim();console.log(JSON.stringify({pgctl:w("pg_ctl"),redisServer:w("redis-server"),python:w("python3"),path:process.env.PATH}))'));
  const t = {...tools, pg: st.postgres, redis: st.redis, web: st.web, redisSock: join(st.redis.socketDir, 'bench.sock'), env: {...env, PATH: tools.path}};
  const res = {devenv: [], hand: [], ps: []};
  for (let i = 0; i < runs; i++) {
    res.devenv.push(run(process.execPath, [DEVENV, 'up', '-d', '--json'], {timed: true}).ms);
    devenv('down');
    res.hand.push(await byHand(t));
    res.ps.push(run(process.execPath, [DEVENV, 'ps', '--json'], {timed: true}).ms);
  }
  const m = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, median(v)]));
  console.log(`runs: ${runs} each, alternating, medians (2-core machine; ratios matter, not times)`);
  console.log(`devenv up -d (postgres + redis + one process, process start to exit, all ready): ${m.devenv.toFixed(0)} ms`);
  console.log(`by hand (pg_ctl start -w, redis-server + PING loop, the process + connect loop, in parallel): ${m.hand.toFixed(0)} ms`);
  console.log(`devenv ps --json (CLI start-up and status checks, no server work): ${m.ps.toFixed(0)} ms`);
  report({name: 'devenv up -d to ready (postgres + redis + process)', value: `${m.devenv.toFixed(0)} ms`, ref: `by hand in parallel ${m.hand.toFixed(0)} ms`, ratio: m.devenv / m.hand, target: 1.5});
  console.log(`ratio devenv up -d / by hand: ${(m.devenv / m.hand).toFixed(2)}x; without the CLI start-up (up - ps): ${((m.devenv - m.ps) / m.hand).toFixed(2)}x`);
} finally {
  spawnSync(process.execPath, [DEVENV, 'down'], {cwd: app, env: {...env, PWD: app}});
  rmSync(dir, {recursive: true, force: true});
}
