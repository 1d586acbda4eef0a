// What ps reads of a process's keeper state: a final state (failed, exited) is reported as
// written, even while its keeper is still exiting; a fast `ps` right after a failed `up -d`
// must not see it as starting (or anything else).
import {afterAll, expect, test} from '@jest/globals';
import {spawn} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {ProcessUnit} from '../../src/services/proc-unit.js';
import {identityOf} from '../../src/util/proc.js';

const dir = mkdtempSync(join(tmpdir(), 'devenv-procunit-'));
// Stands for a keeper that has written its last state and not exited yet.
const keeper = spawn('sleep', ['60'], {stdio: 'ignore'});
afterAll(() => {
  keeper.kill('SIGKILL');
  rmSync(dir, {recursive: true, force: true});
});

const unit = () => new ProcessUnit({root: dir, name: 'crashy', exec: 'exit 3', after: [], runDir: dir, logFile: join(dir, 'crashy.log'), restart: 'on-failure', maxRestarts: 2, env: async () => ({})});
const write = (st: object) => writeFileSync(join(dir, 'crashy.state.json'), JSON.stringify({keeperPid: keeper.pid, keeperId: identityOf(keeper.pid!), startedAt: new Date().toISOString(), ready: false, ...st}));

test('a failed or exited state is reported as such while its keeper is still alive, and after', async () => {
  write({state: 'failed', restarts: 2, lastExit: {code: 3, signal: null, at: 'now'}, detail: 'exited 3 times in a row; gave up (max_restarts = 2)'});
  expect(await unit().status()).toMatchObject({state: 'failed', restarts: 2, ready: false, detail: 'exited 3 times in a row; gave up (max_restarts = 2)'});
  write({state: 'exited', restarts: 0, lastExit: {code: 0, signal: null, at: 'now'}});
  expect(await unit().status()).toMatchObject({state: 'exited', restarts: 0, ready: false, detail: 'exited with code 0'});
  // Not final: a live keeper between two runs is backing off, one whose keeper died crashed.
  write({state: 'backoff', restarts: 1});
  expect(await unit().status()).toMatchObject({state: 'backoff', restarts: 1});
  write({state: 'running', restarts: 1, keeperPid: 2 ** 22 - 1});
  expect(await unit().status()).toMatchObject({state: 'crashed'});
});
