#!/usr/bin/env node
// The watcher's figures, measured on a real watcher process against real nix:
//   node bench/watch.mjs [--edits N] [--idle-seconds S] [--projects K]
// 1. latency from save to fresh cache: an edit to devenv.toml, timed until the cache entry
//    for the new content exists (median of N edits, offline flake). It includes the 300 ms
//    quiet period; a blocking evaluation of the same edit (`devenv exec`) is shown beside it.
// 2. idle CPU: utime+stime of the watcher (/proc/<pid>/stat) before and after S idle seconds,
//    with K projects watched.
// Run as any user that can use nix (scripts/run-tests.sh's user works: runuser -u devenv-test).
import {spawn, spawnSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const DEVENV = join(REPO, 'bin', 'run.js');
const arg = (name, dflt) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : dflt);
const EDITS = arg('--edits', 9);
const IDLE_S = arg('--idle-seconds', 60);
const PROJECTS = arg('--projects', 3);

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'devenv-bench-watch-')));
const home = (d) => join(dir, 'home', d);
Object.assign(process.env, {
  XDG_CACHE_HOME: home('cache'),
  XDG_STATE_HOME: home('state'),
  XDG_DATA_HOME: home('data'),
  XDG_CONFIG_HOME: home('config'),
  XDG_RUNTIME_DIR: home('run'),
  DEVENV_NIXPKGS: `path:${REPO}/test/fixtures/nixpkgs-offline`,
  NIX_CONFIG: 'substituters =\nexperimental-features = nix-command flakes',
});
delete process.env.DEVENV_ROOT;
const env = process.env;
// Imported after the env is set: the cache paths come from it.
const {computeKey} = await import(join(REPO, 'dist/cache/key.js'));
const {readEntry} = await import(join(REPO, 'dist/cache/entries.js'));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const devenv = (args, cwd) => {
  const r = spawnSync(process.execPath, [DEVENV, ...args], {cwd, env: {...env, PWD: cwd}, encoding: 'utf8'});
  if (r.status !== 0) throw new Error(`devenv ${args.join(' ')}: ${r.stderr}`);
  return r;
};
const setGreeting = (root, v) => {
  const f = join(root, 'devenv.toml');
  const text = readFileSync(f, 'utf8').replace(/^GREETING = .*\n/m, '');
  writeFileSync(f, text.replace(/^\[env\]\n/m, `[env]\nGREETING = "${v}"\n`));
};
const fresh = (root) => readEntry(computeKey(root).key, false).status === 'hit';
const cpuTicks = (pid) => {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
};
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).stdout.trim()) || 100;

let watcher;
try {
  mkdirSync(join(dir, 'src'));
  devenv(['allow', '--prefix', join(dir, 'src')], dir);
  const roots = [];
  for (let i = 0; i < PROJECTS; i++) {
    const p = join(dir, 'src', `p${i}`);
    mkdirSync(p);
    devenv(['init', 'python'], p);
    devenv(['exec', '--', 'true'], p);
    roots.push(p);
  }
  const p = roots[0];

  // Reference: the same kind of edit evaluated in the foreground.
  const blocking = [];
  for (let i = 0; i < 3; i++) {
    setGreeting(p, `ref${i}`);
    const t = process.hrtime.bigint();
    devenv(['exec', '--', 'true'], p);
    blocking.push(Number(process.hrtime.bigint() - t) / 1e6);
  }

  let out = '';
  watcher = spawn(process.execPath, [DEVENV, 'watch'], {cwd: dir, env: {...env, PWD: dir}, stdio: ['ignore', 'pipe', 'pipe']});
  watcher.stdout.on('data', (d) => (out += d));
  watcher.stderr.on('data', (d) => (out += d));
  for (const end = Date.now() + 30_000; !/watching \d+ project/.test(out); await sleep(20)) if (Date.now() > end) throw new Error(`watcher did not start:\n${out}`);

  const latencies = [];
  for (let i = 0; i < EDITS; i++) {
    setGreeting(p, `edit${i}`);
    const t = process.hrtime.bigint();
    for (const end = Date.now() + 120_000; !fresh(p); await sleep(5)) if (Date.now() > end) throw new Error(`no fresh cache after edit ${i}:\n${out}`);
    latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
    await sleep(500);
  }
  const evalTimes = [...out.matchAll(/evaluated in ([0-9.]+)s/g)].map((m) => Number(m[1]) * 1000);

  await sleep(2000); // let the last evaluation's aftermath settle
  const before = cpuTicks(watcher.pid);
  await sleep(IDLE_S * 1000);
  const after = cpuTicks(watcher.pid);
  const cpuS = (after - before) / CLK_TCK;

  console.log(`watcher, ${PROJECTS} projects watched, offline flake (python template), nix ${spawnSync('nix', ['--version'], {encoding: 'utf8'}).stdout.trim()}`);
  console.log(`save -> fresh cache: median ${median(latencies).toFixed(0)} ms over ${EDITS} edits (min ${Math.min(...latencies).toFixed(0)}, max ${Math.max(...latencies).toFixed(0)}); includes the 300 ms quiet period`);
  console.log(`  the watcher's evaluation alone: median ${median(evalTimes).toFixed(0)} ms; the same edit evaluated in the foreground by 'devenv exec': median ${median(blocking).toFixed(0)} ms`);
  console.log(`idle CPU over ${IDLE_S} s: ${cpuS.toFixed(2)} s of CPU (${((cpuS / IDLE_S) * 100).toFixed(3)} %)`);
} finally {
  if (watcher && watcher.exitCode === null) watcher.kill('SIGTERM');
  await sleep(300);
  rmSync(dir, {recursive: true, force: true});
}
