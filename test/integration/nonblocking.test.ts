// Non-blocking entry: with a stale cache and a last good environment, the hook's miss path
// serves the last good env at once, says so, and re-evaluates in the background; a later
// prompt gets the new env. The project's flake is made slow on purpose (evalWork), and the
// hook's time is compared with a real evaluation run side by side (a ratio, not a time).
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawnSync} from 'node:child_process';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {DEVENV, makeSandbox, nixSpy, type Sandbox} from '../helpers/env.js';

let sb: Sandbox;
let spy: ReturnType<typeof nixSpy>;
let S: string;
let refMs: number;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const evals = () => spy.calls().filter((c) => c.includes('print-dev-env')).length;
const activation = () => join(sb.env.XDG_STATE_HOME!, 'devenv', 'roots', S, '@devenv@', 'activate.bash');
const markIn = (text: string) => /^\s*_devenv_set MARK \$'([^']*)'$/m.exec(text)?.[1];

/** A hand-written flake whose evaluation costs about a second (evalWork 2000000). */
function writeFlake(mark: string): void {
  writeFileSync(
    join(S, 'flake.nix'),
    `{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";
  outputs = { self, nixpkgs }:
    let shell = system: let pkgs = nixpkgs.legacyPackages.\${system}; in {
      default = pkgs.mkShell {
        X = builtins.toString (pkgs.evalWork 2000000);
        MARK = "${mark}";
      };
    };
    in {
      devShells.x86_64-linux = shell "x86_64-linux";
      devShells.aarch64-linux = shell "aarch64-linux";
    };
}
`,
  );
}

function timed<T>(fn: () => T): [T, number] {
  const t0 = process.hrtime.bigint();
  const r = fn();
  return [r, Number(process.hrtime.bigint() - t0) / 1e6];
}

const hook = () => spawnSync(process.execPath, [DEVENV, '__hook', 'bash', S], {cwd: S, env: {...sb.env, ...spy.env, PWD: S}, encoding: 'utf8', timeout: 120_000});

async function waitFor(what: string, pred: () => boolean, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

beforeAll(() => {
  sb = makeSandbox('devenv-nonblock-');
  spy = nixSpy(sb);
  S = join(sb.dir, 'mine', 'slow');
  mkdirSync(S, {recursive: true});
  // Prefix trust: an edit keeps the project trusted, which is when serving the old env makes sense.
  expect(sb.devenv(['allow', '--prefix', join(sb.dir, 'mine')]).status).toBe(0);
  writeFlake('v1');
  expect(sb.devenv(['exec', '--', 'true'], {cwd: S}).status).toBe(0); // warm-up: builds the shell once
  // Reference: a real evaluation after an edit, the cost a blocking hook would put on the prompt.
  writeFlake('v2');
  const [r, ms] = timed(() => sb.devenv(['exec', '--', 'sh', '-c', 'echo $MARK'], {cwd: S}));
  expect(r.stdout.trim()).toBe('v2');
  refMs = ms;
}, 300_000);
afterAll(() => sb?.cleanup());

describe('non-blocking entry', () => {
  test('a stale cache with a last good env: the hook returns at once with the old env and says so', async () => {
    // The shell loaded v2 once (so activation scripts exist), then the flake is edited.
    expect(hook().status).toBe(0);
    writeFlake('v3');
    writeFileSync(spy.log, '');
    const [r, hookMs] = timed(hook);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`_devenv_source $'${activation()}'`);
    expect(r.stdout).toMatch(/using the previous environment while it re-evaluates in the background/);
    // Served right away: the old environment.
    expect(markIn(readFileSync(activation(), 'utf8'))).toBe('v2');
    // The prompt did not wait for nix: a fraction of one real evaluation.
    expect(hookMs / refMs).toBeLessThan(0.5);
    // The background refresh re-renders the activation script with the new env.
    await waitFor('the background refresh', () => markIn(readFileSync(activation(), 'utf8')) === 'v3');
    writeFileSync(spy.log, '');
    expect(sb.devenv(['exec', '--', 'sh', '-c', 'echo $MARK'], {cwd: S, env: spy.env}).stdout.trim()).toBe('v3');
    expect(spy.calls()).toEqual([]);
    process.stdout.write(`non-blocking hook: ${hookMs.toFixed(0)} ms vs a real evaluation ${refMs.toFixed(0)} ms (ratio ${(hookMs / refMs).toFixed(2)})\n`);
  }, 240_000);

  test('several shells entering at once start one background evaluation', async () => {
    writeFlake('v4');
    writeFileSync(spy.log, '');
    for (let i = 0; i < 3; i++) expect(hook().stdout).toMatch(/re-evaluates in the background/);
    await waitFor('the background refresh', () => markIn(readFileSync(activation(), 'utf8')) === 'v4');
    await sleep(1500);
    expect(evals()).toBe(1);
  }, 240_000);

  test('a real bash: cd returns without waiting, and a later prompt loads the new env', async () => {
    writeFlake('v5');
    // An interactive bash reading from a pipe still runs PROMPT_COMMAND before each command.
    const script = `
eval "$(${JSON.stringify(process.execPath)} ${JSON.stringify(DEVENV)} hook bash)"
t0=\${EPOCHREALTIME/./}
cd ${JSON.stringify(S)}
echo "cd-ms=$(( (\${EPOCHREALTIME/./} - t0) / 1000 ))"
echo "first=$MARK"
for i in $(seq 1 1200); do grep -q "MARK \\$'v5'" ${JSON.stringify(activation())} && break; sleep 0.1; done
:
echo "later=$MARK"
exit
`;
    const r = spawnSync('bash', ['--norc', '--noprofile', '-i'], {cwd: sb.dir, env: {...sb.env, PWD: sb.dir, PS1: '$ '}, input: script, encoding: 'utf8', timeout: 180_000});
    const cdMs = Number(/cd-ms=(\d+)/.exec(r.stdout)?.[1]);
    expect(r.stdout).toMatch(/^first=v4$/m);
    expect(r.stdout).toMatch(/^later=v5$/m);
    expect(r.stderr).toMatch(/re-evaluates in the background/);
    expect(cdMs / refMs).toBeLessThan(0.5);
    process.stdout.write(`bash cd into a stale project: ${cdMs} ms vs a real evaluation ${refMs.toFixed(0)} ms\n`);
  }, 240_000);
});
