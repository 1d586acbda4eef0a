// The stale-lock takeover cannot give one lock to two holders: processes race to take a lock
// whose owner died, each holder dies holding it (so every acquisition is a takeover), and the
// log of who held it when shows no overlap.
import {expect, test} from '@jest/globals';
import {spawn, spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {REPO} from '../helpers/env.js';

const worker = `
import {tryLock} from ${JSON.stringify(join(REPO, 'dist', 'util', 'fs.js'))};
import {appendFileSync, existsSync} from 'node:fs';
const [lock, log, go] = process.argv.slice(2);
while (!existsSync(go)) {}
for (;;) {
  if (tryLock(lock)) {
    appendFileSync(log, 'in ' + process.pid + '\\n');
    const until = Date.now() + 40;
    while (Date.now() < until) {}
    appendFileSync(log, 'out ' + process.pid + '\\n');
    process.exit(0); // dies holding the lock: the next taker must take it over
  }
}
`;

test('racing takeovers of a stale lock never give it to two processes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'devenv-lock-'));
  try {
    const script = join(dir, 'worker.mjs');
    writeFileSync(script, worker);
    for (let round = 0; round < 3; round++) {
    const lock = join(dir, `x${round}.lock`);
    const log = join(dir, `log${round}`);
    const go = join(dir, `go${round}`);
    // A lock left by a process that is gone.
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], {encoding: 'utf8'});
    writeFileSync(lock, dead.stdout.trim());
    writeFileSync(log, '');
    const n = 8;
    const procs = Array.from({length: n}, () => spawn(process.execPath, [script, lock, log, go], {stdio: 'ignore'}));
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
}, 60_000);
