#!/usr/bin/env node
// Exec and evaluation speed as ratios, measured side by side in one run (machines are noisy).
//   node bench/exec.mjs [--runs N]
// 1. warm `devenv exec -- true` vs `node -e 0`                      (target <= 1.5x)
// 2. cold evaluation vs bare `nix print-dev-env --json` on a flake whose evaluation costs
//    about a second (the offline package set's evalWork), like a real nixpkgs   (target <= 1.2x)
// 3. devenv's fixed overhead on the small offline flake, as a ratio to `node -e 0`.
import {spawnSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {report} from './lib.mjs';

const REPO = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const DEVENV = join(REPO, 'bin', 'run.js');
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 15;
const dir = mkdtempSync(join(tmpdir(), 'devenv-bench-'));
const home = (d) => join(dir, 'home', d);
const env = {
  ...process.env,
  XDG_CACHE_HOME: home('cache'), XDG_STATE_HOME: home('state'), XDG_DATA_HOME: home('data'), XDG_CONFIG_HOME: home('config'),
  DEVENV_NIXPKGS: `path:${REPO}/test/fixtures/nixpkgs-offline`,
  // nix's own eval cache off for both sides: a cold evaluation (content changed) never hits it.
  NIX_CONFIG: 'substituters =\nexperimental-features = nix-command flakes\neval-cache = false',
};
const FEATURES = ['--extra-experimental-features', 'nix-command flakes'];

function time(cmd, args, cwd) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {cwd, env: {...env, PWD: cwd}, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8'});
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function sideBySide(cases, n) {
  const res = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let i = 0; i < n; i++) for (const [k, f] of Object.entries(cases)) res[k].push(f());
  return Object.fromEntries(Object.entries(res).map(([k, v]) => [k, median(v)]));
}
function project(name, flakeExtra) {
  const p = join(dir, name);
  mkdirSync(p, {recursive: true});
  writeFileSync(join(p, 'flake.nix'), `{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";
  outputs = { self, nixpkgs }: let pkgs = nixpkgs.legacyPackages.x86_64-linux; in {
    devShells.x86_64-linux.default = pkgs.mkShell { packages = [ pkgs.python311 pkgs.postgresql_15 ]; ${flakeExtra} };
  };
}
`);
  return p;
}
const clearCache = () => rmSync(home('cache'), {recursive: true, force: true});

try {
  const small = project('small', '');
  const heavy = project('heavy', 'WORK = builtins.toString (pkgs.evalWork 2000000);');
  const bare = (p) => () => time('nix', ['print-dev-env', '--json', ...FEATURES, '--override-input', 'nixpkgs', env.DEVENV_NIXPKGS, '--no-write-lock-file', p], p);
  const cold = (p) => () => (clearCache(), time('node', [DEVENV, 'exec', '--', 'true'], p));
  time('node', [DEVENV, 'exec', '--', 'true'], small); // warm up the store and the cache

  const warm = sideBySide({node: () => time('node', ['-e', '0'], small), exec: () => time('node', [DEVENV, 'exec', '--', 'true'], small)}, runs * 2);
  const heavyRuns = Math.max(5, runs);
  const h = sideBySide({bare: bare(heavy), devenv: cold(heavy)}, heavyRuns);
  const s = sideBySide({node: () => time('node', ['-e', '0'], small), bare: bare(small), devenv: cold(small)}, runs);

  const f = (x) => x.toFixed(2);
  console.log(`warm exec:        devenv exec -- true ${f(warm.exec)} ms vs node -e 0 ${f(warm.node)} ms  => ${f(warm.exec / warm.node)}x (target <= 1.5x)`);
  console.log(`cold evaluation:  devenv ${f(h.devenv)} ms vs bare nix print-dev-env ${f(h.bare)} ms on a ~1 s flake => ${f(h.devenv / h.bare)}x (target <= 1.2x)`);
  report({name: 'warm devenv exec -- true', value: `${f(warm.exec)} ms`, ref: `node -e 0 ${f(warm.node)} ms`, ratio: warm.exec / warm.node, target: 1.5});
  report({name: 'cold evaluation, ~1 s flake', value: `${f(h.devenv)} ms`, ref: `bare nix print-dev-env ${f(h.bare)} ms`, ratio: h.devenv / h.bare, target: 1.2});
  console.log(`fixed overhead:   small flake, devenv ${f(s.devenv)} ms - bare nix ${f(s.bare)} ms = ${f(s.devenv - s.bare)} ms => ${f((s.devenv - s.bare) / s.node)}x node -e 0 (${f(s.node)} ms)`);
} finally {
  rmSync(dir, {recursive: true, force: true});
}
