// The wait before a process restart is 0.1 s to 5 s, as README says, after a long run too.
import {expect, test} from '@jest/globals';
import {restartBackoffMs} from '../../src/services/restart.js';

test('restart backoff: 0.1 s after a long run (0 failures in a row) or a first failure, doubling to at most 5 s', () => {
  expect(restartBackoffMs(0)).toBe(100);
  expect(restartBackoffMs(1)).toBe(100);
  expect(restartBackoffMs(2)).toBe(200);
  expect(restartBackoffMs(4)).toBe(800);
  expect(restartBackoffMs(7)).toBe(5000);
  expect(restartBackoffMs(1000)).toBe(5000);
});
