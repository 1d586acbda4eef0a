// bin/devenv, the sh launcher npm installs as `devenv`: `hook <shell>` printed without node once
// node has left it a text it can check (under bash, dash and busybox sh alike); anything it
// cannot check, and every other command, goes to node with the same output and exit code.
import {afterAll, beforeAll, expect, test} from '@jest/globals';
import {spawnSync} from 'node:child_process';
import {mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {DEVENV, initProject, makeSandbox, type Sandbox} from '../helpers/env.js';

const LAUNCHER = join(dirname(DEVENV), 'devenv');
const SHELLS: [string, string[]][] = [
  ['bash', ['bash']],
  ['dash', ['dash']],
  ['busybox', ['busybox', 'sh']],
];

let sb: Sandbox;
let p: string;
beforeAll(() => {
  sb = makeSandbox('devenv-launch-');
  p = initProject(sb, 'proj', ['minimal']);
  expect(sb.devenv(['exec', '--', 'true'], {cwd: p}).status).toBe(0);
}, 300_000);
afterAll(() => sb.cleanup());

const viaNode = (args: string[], env: NodeJS.ProcessEnv = {}, cwd = sb.dir) => spawnSync(process.execPath, [DEVENV, ...args], {cwd, env: {...sb.env, PWD: cwd, ...env}, encoding: 'utf8', input: 'from stdin\n'});
const viaSh = (sh: string[], args: string[], env: NodeJS.ProcessEnv = {}, cwd = sb.dir) => spawnSync(sh[0], [...sh.slice(1), LAUNCHER, ...args], {cwd, env: {...sb.env, PWD: cwd, ...env}, encoding: 'utf8', input: 'from stdin\n'});
/** The programs a launcher run executed (strace), and its result. */
function traced(sh: string[], args: string[], env: NodeJS.ProcessEnv = {}) {
  const log = join(sb.dir, 'exec.log');
  const r = spawnSync('strace', ['-f', '-qq', '-o', log, '-e', 'trace=execve', sh[0], ...sh.slice(1), LAUNCHER, ...args], {cwd: sb.dir, env: {...sb.env, ...env}, encoding: 'utf8'});
  const ran = [...readFileSync(log, 'utf8').matchAll(/execve\("([^"]+)"[^\n]*= 0$/gm)].map((m) => m[1].replace(/.*\//, ''));
  return {status: r.status, stdout: r.stdout, stderr: r.stderr, ran};
}
const launchFile = (shell: string) => join(sb.env.XDG_RUNTIME_DIR!, 'devenv', 'shell', `launch.${shell}`);

test.each(SHELLS)('under %s: hook texts the same bytes as node prints, the second time without node', (_name, sh) => {
  for (const shell of ['bash', 'zsh', 'fish']) {
    rmSync(launchFile(shell), {force: true});
    const want = viaNode(['hook', shell]);
    expect(want.status).toBe(0);
    const first = traced(sh, ['hook', shell]);
    expect([shell, first.status, first.stdout, first.stderr]).toEqual([shell, 0, want.stdout, want.stderr]);
    expect(first.ran).toContain('node'); // nothing left yet: node printed it, and left the text
    expect(readFileSync(launchFile(shell), 'utf8').endsWith(want.stdout)).toBe(true);
    const again = traced(sh, ['hook', shell]);
    expect([shell, again.status, again.stdout, again.stderr]).toEqual([shell, 0, want.stdout, want.stderr]);
    expect([shell, again.ran.includes('node')]).toEqual([shell, false]);
  }
});

test('a text it cannot check goes to node: another XDG dir, a symlink, a forged or foreign header', () => {
  const sh = ['dash'];
  expect(viaSh(sh, ['hook', 'bash']).status).toBe(0);
  const good = readFileSync(launchFile('bash'), 'utf8');
  // Another state dir is another key: node runs (and its text names that dir).
  const state = join(sb.dir, 'other-state');
  mkdirSync(state, {mode: 0o700});
  const other = traced(sh, ['hook', 'bash'], {XDG_STATE_HOME: state});
  expect(other.ran).toContain('node');
  expect(other.stdout).toBe(viaNode(['hook', 'bash'], {XDG_STATE_HOME: state}).stdout);
  // A forged text under a header that does not match what the launcher sees.
  const [root, exe, key] = good.split('\n');
  const forged = 'echo FORGED\n';
  for (const header of [[root, exe, key.replace('|bash|', '|zsh|')], [root, exe, key + 'x'], [join(sb.dir, 'elsewhere'), exe, key], [root, '/bin/true', key]]) {
    writeFileSync(launchFile('bash'), `${header.join('\n')}\n${forged}`, {mode: 0o600});
    const r = traced(sh, ['hook', 'bash']);
    expect([header, r.stdout.includes('FORGED'), r.ran.includes('node')]).toEqual([header, false, true]);
  }
  // A symlink to a text that would otherwise check out.
  const planted = join(sb.dir, 'planted');
  writeFileSync(planted, `${root}\n${exe}\n${key}\n${forged}`, {mode: 0o600});
  rmSync(launchFile('bash'));
  symlinkSync(planted, launchFile('bash'));
  const viaLink = traced(sh, ['hook', 'bash']);
  expect([viaLink.stdout.includes('FORGED'), viaLink.ran.includes('node')]).toEqual([false, true]);
  // The same header in a real file of ours is trusted: the checks above are what refused.
  rmSync(launchFile('bash'));
  writeFileSync(launchFile('bash'), `${root}\n${exe}\n${key}\n${forged}`, {mode: 0o600});
  expect(viaSh(sh, ['hook', 'bash']).stdout).toBe(forged);
  rmSync(launchFile('bash'));
});

test.each(SHELLS)('under %s: every other command is node, same output and exit code; arguments pass unchanged', (_name, sh) => {
  const cases = [['--version'], ['hook', 'tcsh'], ['hook'], ['status', '--jsn'], ['exec', '--', 'sh', '-c', 'exit 7'], ['exec', '--', 'printf', '%s|', 'a b', '', '*', '$HOME', '-n'], ['exec', '--', 'sh', '-c', 'kill -TERM $$'], ['exec', '--', 'cat'], ['exec', '--', 'no-such-program']];
  for (const args of cases) {
    const want = viaNode(args, {}, p);
    const got = viaSh(sh, args, {}, p);
    expect([args, got.status, got.signal, got.stdout, got.stderr]).toEqual([args, want.status, want.signal, want.stdout, want.stderr]);
  }
  expect(viaSh(sh, ['exec', '--', 'cat'], {}, p).stdout).toBe('from stdin\n');
  // The environment a command gets is node's, without the launcher's own variables.
  const env = (r: {stdout: string}) => r.stdout.split('\n').filter((l) => !/^(_|SHLVL|PWD|OLDPWD)=/.test(l)).sort();
  const got = viaSh(sh, ['exec', '--', 'env'], {}, p);
  expect(got.stdout).toMatch(/^DEVENV_ROOT=/m);
  expect(got.stdout).not.toMatch(/DEVENV_LAUNCHER/);
  expect(env(got)).toEqual(env(viaNode(['exec', '--', 'env'], {}, p)));
});
