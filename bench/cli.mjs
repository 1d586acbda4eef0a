#!/usr/bin/env node
// Start-up of the informational commands vs `node -e 0`, side by side, alternating, medians:
// `ps --json`, `status --json`, `logs`, `down`, `--version`, `--help` in an allowed project with
// a fresh cache and no service running (what a user sees between `up`s).
//   node bench/cli.mjs [--runs N]        target: each <= 1.5x node -e 0
import {rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {benchProject, DEVENV, median, report, runsArg} from './lib.mjs';

const runs = runsArg(15);
const {dir, app, run, devenv} = benchProject('devenv-bench-cli-');
const TARGET = 1.5;
try {
  writeFileSync(join(app, 'devenv.toml'), 'name = "app"\npackages = ["python311"]\n\n[processes.web]\nexec = "sleep 1000"\n');
  devenv('allow');
  devenv('exec', '--', 'true'); // evaluates once: the cache is fresh from here on
  const cases = {
    'ps --json': ['ps', '--json'],
    'status --json': ['status', '--json'],
    logs: ['logs'],
    down: ['down'],
    '--version': ['--version'],
    '--help': ['--help'],
  };
  const node = () => run(process.execPath, ['-e', '0'], {timed: true}).ms;
  const res = Object.fromEntries(['node', ...Object.keys(cases)].map((k) => [k, []]));
  for (const args of Object.values(cases)) run(process.execPath, [DEVENV, ...args]); // warm the page cache
  for (let i = 0; i < runs; i++) {
    res.node.push(node());
    for (const [k, args] of Object.entries(cases)) res[k].push(run(process.execPath, [DEVENV, ...args], {timed: true}).ms);
  }
  const n = median(res.node);
  console.log(`node -e 0: ${n.toFixed(1)} ms (median of ${runs}, alternating with each command)`);
  for (const k of Object.keys(cases)) {
    const m = median(res[k]);
    console.log(`devenv ${k}: ${m.toFixed(1)} ms => ${(m / n).toFixed(2)}x node -e 0 (target <= ${TARGET}x)`);
    report({name: `devenv ${k}`, value: `${m.toFixed(1)} ms`, ref: `node -e 0 ${n.toFixed(1)} ms`, ratio: m / n, target: TARGET});
  }
} finally {
  rmSync(dir, {recursive: true, force: true});
}
