// The progress line on a terminal closes with the elapsed time once ("done (5.2s)", not "in 5.2s (5.2s)").
import {afterEach, expect, test} from '@jest/globals';
import {startProgress} from '../../src/evaluation/progress.js';

const realWrite = process.stderr.write.bind(process.stderr);
const realTTY = process.stderr.isTTY;
afterEach(() => {
  process.stderr.write = realWrite;
  process.stderr.isTTY = realTTY;
});

test('one closing line with one time figure', async () => {
  const out: string[] = [];
  process.stderr.isTTY = true;
  process.stderr.write = ((s: string) => out.push(s) > 0) as typeof process.stderr.write;
  const p = startProgress('evaluating /p');
  await new Promise((r) => setTimeout(r, 700));
  p.done('done');
  const last = out[out.length - 1];
  expect(last).toMatch(/^\r\x1b\[Kdevenv: evaluating \/p: done \(\d+\.\ds\)\n$/);
  expect(last.match(/\d+\.\ds/g)).toHaveLength(1);
});
