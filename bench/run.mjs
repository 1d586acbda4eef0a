#!/usr/bin/env node
// Every speed target of devenv, measured in one run and shown side by side as ratios to its
// reference (direnv, direnv + nix-direnv's warm path, `node -e 0`, bare nix, servers by hand).
//   npm run bench [-- --quick] [-- --only hook,exec,cli,up] [-- --check]
// Runs bash bench/hook.sh, node bench/exec.mjs, node bench/cli.mjs and node bench/up.mjs (as
// the test user when root: servers refuse root), each printing its own details, then one table.
// --quick: fewer runs (a smoke test of the benches, not figures to quote).
// --check: exit 1 when a target is missed. Needs direnv and hyperfine (scripts/setup-machine.sh).
import {spawnSync} from 'node:child_process';
import {chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {REPO} from './lib.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const check = args.includes('--check');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : undefined;

const BENCHES = {
  hook: ['bash', [join(REPO, 'bench/hook.sh'), ...(quick ? ['--idle', '200', '--cycles', '10', '--rounds', '1', '--starts', '5'] : [])]],
  exec: [process.execPath, [join(REPO, 'bench/exec.mjs'), ...(quick ? ['--runs', '3'] : [])]],
  cli: [process.execPath, [join(REPO, 'bench/cli.mjs'), ...(quick ? ['--runs', '3'] : [])]],
  up: [process.execPath, [join(REPO, 'bench/up.mjs'), ...(quick ? ['--runs', '2'] : [])]],
};

const dir = mkdtempSync(join(tmpdir(), 'devenv-bench-run-'));
chmodSync(dir, 0o777); // up.mjs re-runs itself as the test user and appends here
const results = join(dir, 'results.jsonl');
writeFileSync(results, '');
chmodSync(results, 0o666);
const failed = [];
try {
  for (const [name, [cmd, argv]] of Object.entries(BENCHES)) {
    if (only && !only.includes(name)) continue;
    console.log(`\n== ${name}: ${[cmd === process.execPath ? 'node' : cmd, ...argv.map((a) => a.replace(REPO + '/', ''))].join(' ')}`);
    const r = spawnSync(cmd, argv, {stdio: 'inherit', env: {...process.env, DEVENV_BENCH_RESULTS: results}});
    if (r.status !== 0) failed.push(`${name} (exit ${r.status ?? r.signal})`);
  }
  let rows = [];
  try {
    rows = readFileSync(results, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  } catch {}
  const w = (rs, k) => Math.max(k.length, ...rs.map((r) => String(r[k]).length));
  const cells = rows.map((r) => ({...r, ratio: `${r.ratio}x`, target: `<= ${r.target}x`, verdict: r.ratio <= r.target ? 'met' : 'MISSED'}));
  const cols = ['name', 'value', 'ref', 'ratio', 'target', 'verdict'];
  const widths = cols.map((c) => w(cells, c));
  const line = (o) => cols.map((c, i) => String(o[c]).padEnd(widths[i])).join('  ');
  console.log(`\n== summary (${quick ? 'quick run: not figures to quote' : 'medians'}; ratios matter, not times)`);
  console.log(line(Object.fromEntries(cols.map((c) => [c, c]))));
  for (const c of cells) console.log(line(c));
  if (failed.length) console.log(`benches that failed: ${failed.join(', ')}`);
  if (failed.length || (check && cells.some((c) => c.verdict !== 'met'))) process.exitCode = 1;
} finally {
  rmSync(dir, {recursive: true, force: true});
}
