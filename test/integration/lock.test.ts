// The stale-lock takeover cannot give one lock to two holders: processes race to take a lock
// whose owner died, each holder dies holding it (so every acquisition is a takeover), and the
// log of who held it when shows no overlap. Both the plain lock (util/fs.ts) and the per-user
// watcher's watch.json, which is the same primitive with JSON content.
import {expect, test} from '@jest/globals';
import {spawn, spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {REPO} from '../helpers/env.js';

const dist = (f: string) => JSON.stringify(join(REPO, 'dist', f));

/** A worker: spins until `go` exists, takes the lock once, holds it 40 ms, exits holding it. */
const worker = (take: string) => `
import {tryLock} from ${dist('util/fs.js')};
import {acquireWatchLock} from ${dist('watch/state.js')};
import {appendFileSync, existsSync} from 'node:fs';
const [lock, log, go] = process.argv.slice(2);
while (!existsSync(go)) {}
for (;;) {
  if (${take}) {
    appendFileSync(log, 'in ' + process.pid + '\\n');
    const until = Date.now() + 40;
    while (Date.now() < until) {}
    appendFileSync(log, 'out ' + process.pid + '\\n');
    process.exit(0); // dies holding the lock: the next taker must take it over
  }
}
`;

async function race(opts: {take: string; lockFile: (dir: string, round: number) => string; stale: (pid: number) => string; argv: string[]; env?: (dir: string, round: number) => NodeJS.ProcessEnv}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'devenv-lock-'));
  try {
    const script = join(dir, 'worker.mjs');
    writeFileSync(script, worker(opts.take));
    for (let round = 0; round < 3; round++) {
      const lock = opts.lockFile(dir, round);
      const log = join(dir, `log${round}`);
      const go = join(dir, `go${round}`);
      // A lock left by a process that is gone.
      const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], {encoding: 'utf8'});
      spawnSync('mkdir', ['-p', join(lock, '..')]);
      writeFileSync(lock, opts.stale(Number(dead.stdout.trim())));
      writeFileSync(log, '');
      const n = 8;
      const env = {...process.env, ...opts.env?.(dir, round)};
      const procs = Array.from({length: n}, () => spawn(process.execPath, [script, lock, log, go, ...opts.argv], {stdio: 'ignore', env}));
      const exited = Promise.all(procs.map((p) => new Promise((r) => p.on('exit', r))));
      await new Promise((r) => setTimeout(r, 300));
      writeFileSync(go, '');
      await exited;
      const lines = readFileSync(log, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(2 * n);
      for (let i = 0; i < lines.length; i += 2) {
        const [a, b] = [lines[i].split(' '), lines[i + 1].split(' ')];
        expect([a[0], b[0], b[1]]).toEqual(['in', 'out', a[1]]);
      }
      expect(existsSync(lock)).toBe(true);
    }
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

test('racing takeovers of a stale lock never give it to two processes', async () => {
  await race({take: 'tryLock(lock)', lockFile: (dir, round) => join(dir, `x${round}.lock`), stale: String, argv: []});
}, 60_000);

test("racing watchers taking over a dead watcher's watch.json never both hold it", async () => {
  // The workers name themselves watchers ('watch' in their argv), as the real one does.
  await race({
    take: 'acquireWatchLock().ok',
    lockFile: (dir, round) => join(dir, `state${round}`, 'devenv', 'watch.json'),
    stale: (pid) => JSON.stringify({pid, since: new Date(0).toISOString()}) + '\n',
    argv: ['watch'],
    env: (dir, round) => ({XDG_STATE_HOME: join(dir, `state${round}`)}),
  });
}, 60_000);

test("a watcher slow to remove a dead watcher's watch.json never removes the one another watcher just took", async () => {
  // Deterministic: B's unlink(2) calls take 1 s (strace delays them), so B has seen the dead
  // owner and is removing its file when A, 100 ms later, takes the lock. Removing by name, B
  // removed A's live lock and took one of its own: both held it.
  const dir = mkdtempSync(join(tmpdir(), 'devenv-lock-'));
  try {
    const script = join(dir, 'watcher.mjs');
    writeFileSync(
      script,
      `import {acquireWatchLock} from ${dist('watch/state.js')};
import {appendFileSync, existsSync} from 'node:fs';
const [log, go, who] = process.argv.slice(2);
while (!existsSync(go)) {}
if (who === 'A') { const t = Date.now() + 100; while (Date.now() < t) {} }
const deadline = Date.now() + 15000;
while (Date.now() < deadline) {
  if (acquireWatchLock().ok) {
    appendFileSync(log, 'in ' + who + '\\n');
    const until = Date.now() + 1500;
    while (Date.now() < until) {}
    appendFileSync(log, 'out ' + who + '\\n');
    process.exit(0);
  }
}
`,
    );
    const state = join(dir, 'state');
    const log = join(dir, 'log');
    const go = join(dir, 'go');
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], {encoding: 'utf8'});
    spawnSync('mkdir', ['-p', join(state, 'devenv')]);
    writeFileSync(join(state, 'devenv', 'watch.json'), JSON.stringify({pid: Number(dead.stdout.trim()), since: new Date(0).toISOString()}) + '\n');
    writeFileSync(log, '');
    const env = {...process.env, XDG_STATE_HOME: state};
    const b = spawn('strace', ['-f', '-qq', '-o', '/dev/null', '-e', 'trace=unlink,unlinkat', '-e', 'inject=unlink,unlinkat:delay_enter=1000000', process.execPath, script, log, go, 'B', 'watch'], {stdio: 'ignore', env});
    const a = spawn(process.execPath, [script, log, go, 'A', 'watch'], {stdio: 'ignore', env});
    const exited = Promise.all([a, b].map((p) => new Promise((r) => p.on('exit', r))));
    await new Promise((r) => setTimeout(r, 1500)); // both spinning on `go`, B under strace
    writeFileSync(go, '');
    await exited;
    expect(readFileSync(log, 'utf8')).toBe('in A\nout A\nin B\nout B\n');
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}, 60_000);
