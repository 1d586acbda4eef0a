// Cost of trust hashing on a 10,000-file repository, as ratios against references run side by
// side: `git ls-files -z | xargs -0 sha256sum` (hash every tracked file) and `nix hash path`.
//   node bench/trust.mjs [files=10000]
import {execFileSync, spawnSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

const N = Number(process.argv[2] ?? 10000);
const base = mkdtempSync(join(tmpdir(), 'devenv-bench-trust-'));
process.env.XDG_STATE_HOME = join(base, 'state');
const {readInputs} = await import('../dist/project/inputs.js');
const {projectAt} = await import('../dist/project/project.js');

const repo = join(base, 'repo');
for (let i = 0; i < N; i++) {
  const dir = join(repo, `d${i % 100}`, `e${i % 7}`);
  mkdirSync(dir, {recursive: true});
  writeFileSync(join(dir, `f${i}.txt`), `file ${i}\n`.repeat(20 + (i % 50)));
}
writeFileSync(join(repo, 'flake.nix'), '{ outputs = _: {}; }\n');
const git = (...a) => execFileSync('git', a, {cwd: repo, stdio: 'ignore'});
git('init', '-q');
git('add', '-A');
// Files changed within 2 s of a look are re-hashed next time (same clock tick): let them settle.
await new Promise((r) => setTimeout(r, 2500));

const time = (f) => {
  const t = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runs = 5;
const cold = [], warm = [], shaRef = [], nixRef = [];
for (let r = 0; r < runs; r++) {
  rmSync(process.env.XDG_STATE_HOME, {recursive: true, force: true});
  cold.push(time(() => readInputs(projectAt(repo))));
  warm.push(time(() => readInputs(projectAt(repo))));
  shaRef.push(time(() => spawnSync('sh', ['-c', 'git ls-files -z | xargs -0 sha256sum > /dev/null'], {cwd: repo})));
  nixRef.push(time(() => spawnSync('nix', ['--extra-experimental-features', 'nix-command', 'hash', 'path', repo], {stdio: 'ignore'})));
}
const [c, w, s, n] = [cold, warm, shaRef, nixRef].map(median);
console.log(`${N} tracked files (git flake), median of ${runs}:`);
console.log(`  devenv, nothing memoized (first look / after a pull): ${c.toFixed(0)} ms = ${(c / s).toFixed(2)}x 'git ls-files | xargs sha256sum' (${s.toFixed(0)} ms), ${(c / n).toFixed(2)}x 'nix hash path' (${n.toFixed(0)} ms)`);
console.log(`  devenv, unchanged tree (stat only):                  ${w.toFixed(0)} ms = ${(w / s).toFixed(2)}x 'git ls-files | xargs sha256sum', ${(w / n).toFixed(2)}x 'nix hash path'`);
rmSync(base, {recursive: true, force: true});
