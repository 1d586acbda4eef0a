// A process that gives up makes `up -d` fail, and what up leaves is final before it returns:
// a `ps` right after it (through the light path, which starts in a fraction of oclif's time)
// reads the process as failed with its restarts, every time, as through oclif.
import {afterAll, beforeAll, expect, test} from '@jest/globals';
import {appendFileSync} from 'node:fs';
import {join} from 'node:path';
import {initProject, makeSandbox, type Sandbox} from '../helpers/env.js';

let sb: Sandbox;
let p: string;
beforeAll(() => {
  sb = makeSandbox('devenv-final-');
  p = initProject(sb, 'final', ['minimal']);
  appendFileSync(join(p, 'devenv.toml'), '\n[processes.web]\nexec = "exec sleep 300"\n\n[processes.crashy]\nexec = "echo boom-$RANDOM; exit 3"\nrestart = "on-failure"\nmax_restarts = 2\nafter = ["web"]\n');
  expect(sb.devenv(['allow'], {cwd: p}).status).toBe(0);
  expect(sb.devenv(['up', '-d', 'web'], {cwd: p}).status).toBe(0);
}, 300_000);
afterAll(() => {
  sb.devenv(['down'], {cwd: p});
  sb.cleanup();
});

test('ps right after a failed up -d: failed, 2 restarts, the reason; light path and oclif alike, again and again', () => {
  const seen: string[] = [];
  for (const light of ['1', '1', '1', '1', '0']) {
    const env = {DEVENV_LIGHT: light};
    const up = sb.devenv(['up', '-d', 'crashy'], {cwd: p, env});
    expect(up.stderr).toMatch(/crashy exited 3 times in a row; gave up \(max_restarts = 2\)/);
    const ps = sb.devenv(['ps', '--json'], {cwd: p, env});
    const c = JSON.parse(ps.stdout).services.find((s: {name: string}) => s.name === 'crashy');
    seen.push(`${up.status} ${c.state}/${c.restarts}/${c.ready}`);
  }
  expect(seen).toEqual(Array(5).fill('5 failed/2/false'));
  const plain = sb.devenv(['ps'], {cwd: p});
  expect(plain.stdout).toMatch(/^crashy +process +failed +no +- +- +2 /m);
  expect(plain.stdout).toMatch(/^crashy: exited 3 times in a row; gave up \(max_restarts = 2\)$/m);
}, 300_000);
