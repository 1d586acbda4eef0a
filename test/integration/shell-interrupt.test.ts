// Ctrl-C during a first entry (nothing cached yet, nix evaluating) cancels cleanly: the shell
// is usable at once, says so, nothing is loaded, no nix is left running, and `cd .` retries.
import {afterAll, beforeAll, expect, test} from '@jest/globals';
import {spawn, spawnSync} from 'node:child_process';
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {DEVENV, makeSandbox, type Sandbox} from '../helpers/env.js';
import {MARK} from '../../src/shells/protocol.js';
import {ShellSession, sleepMs, waitUntil, type ShellKind} from '../helpers/tmux.js';

let sb: Sandbox;
beforeAll(() => {
  sb = makeSandbox('devenv-int-');
});
afterAll(() => sb.cleanup());

/** A project (one per shell, so none hits another's cache) whose evaluation takes seconds. */
function slowProject(kind: string, work = 6000000): string {
  const project = join(sb.dir, kind, 'slow');
  mkdirSync(project, {recursive: true});
  writeFileSync(
    join(project, 'flake.nix'),
    `{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";
  outputs = { self, nixpkgs }: let pkgs = nixpkgs.legacyPackages.x86_64-linux; in {
    devShells.x86_64-linux.default = pkgs.mkShell { packages = [ pkgs.python311 ]; SHELL_KIND = "${kind}"; X = builtins.toString (pkgs.evalWork ${work}); };
  };
}
`,
  );
  expect(sb.devenv(['allow'], {cwd: project}).status).toBe(0);
  return project;
}

// nix runs with the flake as its cwd (for a non-git project, a private staged copy), so it is
// found by its --profile, which lives in this sandbox's state dir; the shells here run one at a time.
const nixRunning = (_project: string) => spawnSync('pgrep', ['-f', `print-dev-env.*${sb.dir}`], {encoding: 'utf8'}).stdout.trim();

for (const kind of ['bash', 'zsh', 'fish'] as ShellKind[]) {
  test(`${kind}: Ctrl-C during the first evaluation leaves the shell usable and loads nothing`, () => {
    const project = slowProject(kind);
    const sh = ShellSession.start(kind, {env: sb.env, dir: join(sb.dir, `s-${kind}`), cwd: join(sb.dir, kind)});
    try {
      sh.type(`cd ${project}`);
      waitUntil(() => nixRunning(project) !== '', 30_000, 'nix print-dev-env to start', () => sh.debug());
      sleepMs(200);
      sh.keys('C-c');
      // The shell answers at once, with nothing loaded, and says what happened.
      expect(sh.run('printenv DEVENV_ROOT || echo still-here:none', 10_000)).toBe('still-here:none');
      expect(sh.pane()).toContain(MARK.interrupted);
      waitUntil(() => nixRunning(project) === '', 10_000, 'nix to stop', () => sh.debug());
      // Idle prompts do not start the evaluation again by themselves.
      const calls = sh.nodeCalls().length;
      sh.run('true');
      expect(sh.nodeCalls().length).toBe(calls);
      // `cd .` retries (no stale lock, nothing cached as an error) and loads.
      expect(sh.run('cd .', 120_000)).toMatch(/devenv: loading .*slow/);
      expect(sh.run('command -v python3')).toMatch(/^\/nix\/store\//);
    } finally {
      sh.close();
    }
  }, 240_000);
}

// Nix (2.8 and 2.34 alike) notices SIGINT/SIGTERM only between evaluation steps, so stopping
// it cannot be left to a signal that reached devenv alone (a supervisor's SIGTERM, a kill).
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  test(`${sig} to devenv alone (not its process group) stops its nix at once and devenv dies of it`, async () => {
    // Tens of seconds of evaluation on any Nix: a nix that outlives devenv is seen.
    const project = slowProject(`signal-${sig}`, 30000000);
    const child = spawn(process.execPath, [DEVENV, 'exec', '--', 'true'], {cwd: project, env: {...sb.env, PWD: project}, stdio: 'ignore'});
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({code, signal})));
    waitUntil(() => nixRunning(project) !== '', 30_000, 'nix print-dev-env to start', () => '');
    sleepMs(200);
    child.kill(sig);
    expect(await exited).toEqual({code: null, signal: sig});
    waitUntil(() => nixRunning(project) === '', 5_000, 'nix to stop', () => spawnSync('ps', ['-eo', 'pid,ppid,args'], {encoding: 'utf8'}).stdout);
  }, 120_000);
}
