// First evaluation of a template project at the top of a git repository holding 50,000 other
// committed files, against the same project in an empty repository, side by side (runs
// interleaved, each with a fresh cache and a devenv.toml of its own, so each is a real first
// evaluation); and the size of the source nix copies (the project's private copy of its inputs).
//   node bench/inputs.mjs [--files 50000] [--runs 5] [--template minimal]
import {execFileSync, spawnSync} from 'node:child_process';
import {appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {benchProject, DEVENV, median, runsArg} from './lib.mjs';

const arg = (name, dflt) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : dflt);
const FILES = Number(arg('--files', 50000));
const RUNS = runsArg(5);
const TEMPLATE = arg('--template', 'minimal');

const git = (cwd, ...a) => execFileSync('git', ['-c', 'user.email=b@example.com', '-c', 'user.name=b', ...a], {cwd, stdio: 'ignore'});

/** Bytes and files under a dir (not following symlinks). */
function size(dir) {
  let bytes = 0, files = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, {withFileTypes: true})) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== '.git') walk(p);
      } else {
        bytes += statSync(p, {throwIfNoEntry: false})?.size ?? 0;
        files++;
      }
    }
  };
  walk(dir);
  return {bytes, files};
}

function side(label, extraFiles) {
  const b = benchProject(`devenv-bench-inputs-${label}-`);
  const app = join(b.dir, 'app');
  for (let i = 0; i < extraFiles; i++) {
    const d = join(app, 'src', `m${i % 250}`, `p${i % 8}`);
    if (i < 2000) mkdirSync(d, {recursive: true});
    writeFileSync(join(d, `f${i}.py`), `# module ${i}\nVALUE = ${i}\n`);
  }
  b.run('node', [DEVENV, 'init', TEMPLATE]);
  git(app, 'init', '-q');
  git(app, 'add', '-A');
  git(app, 'commit', '-qm', 'init');
  return {label, b, app, times: []};
}

process.stderr.write(`making a repository of ${FILES} files and an empty one...\n`);
const big = side('big', FILES);
const empty = side('empty', 0);
let copied;
for (let r = 0; r < RUNS; r++) {
  for (const s of r % 2 ? [empty, big] : [big, empty]) {
    // A fresh cache and an input of its own: a first evaluation, not a hit.
    rmSync(s.b.env.XDG_CACHE_HOME, {recursive: true, force: true});
    mkdirSync(s.b.env.XDG_CACHE_HOME, {recursive: true});
    appendFileSync(join(s.app, 'devenv.toml'), `# run ${r} ${s.label} ${process.pid}\n`);
    s.b.run('node', [DEVENV, 'allow']);
    const t = process.hrtime.bigint();
    // /usr/bin/time: the CPU devenv and its children (git, the nix client) used, which the
    // machine's load does not inflate as it does wall time.
    const cpu = s.b.run('/usr/bin/time', ['-f', '%U %S', '-o', join(s.b.dir, 'cpu'), 'node', DEVENV, 'exec', '--', 'true']);
    s.times.push(Number(process.hrtime.bigint() - t) / 1e6);
    const [u, sys] = readFileSync(join(s.b.dir, 'cpu'), 'utf8').trim().split('\n').pop().split(' ').map(Number);
    (s.cpu ??= []).push((u + sys) * 1000);
    if (s === big) copied = size(join(s.b.env.XDG_CACHE_HOME, 'devenv', 'src', readdirSync(join(s.b.env.XDG_CACHE_HOME, 'devenv', 'src'))[0]));
  }
}
const [tb, te] = [median(big.times), median(empty.times)];
const repo = size(big.app);
console.log(`first evaluation ('devenv exec -- true', fresh cache), '${TEMPLATE}' template, median of ${RUNS}, side by side:`);
console.log(`  in a repository of ${FILES} committed files: ${tb.toFixed(0)} ms`);
console.log(`  in an empty repository:                    ${te.toFixed(0)} ms`);
console.log(`  ratio: ${(tb / te).toFixed(2)}x wall; CPU of devenv and its children (git, nix client): ${median(big.cpu).toFixed(0)} vs ${median(empty.cpu).toFixed(0)} ms = ${(median(big.cpu) / median(empty.cpu)).toFixed(2)}x`);
console.log(`source nix copied: ${copied.files} files, ${(copied.bytes / 1024).toFixed(1)} KB (the work tree: ${repo.files} files, ${(repo.bytes / 1024 / 1024).toFixed(1)} MB)`);
for (const s of [big, empty]) spawnSync('rm', ['-rf', s.b.dir]);
