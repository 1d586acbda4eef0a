// [services] auto-start through real shells (tmux): entering an allowed project starts its
// auto-start units in the background (the prompt is back before they are ready), `ps` names
// the shells that keep them up, and they stop once the last shell inside has left, or has
// been killed without leaving (liveness by pid). Units with auto-start = false, and projects
// without auto-start, start nothing.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {existsSync, mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {makeSandbox, type Sandbox} from '../helpers/env.js';
import {ShellSession, type ShellKind, shq, waitUntil} from '../helpers/tmux.js';

const EVAL_TIMEOUT = 240_000;

let sb: Sandbox;
let proj: string;
let plain: string;
let flag: string;
const sessions: ShellSession[] = [];

interface Ps {
  services: {name: string; state: string; ready?: boolean}[];
  autoStart?: {supervisor: number; units: string[]; shells: {shell: string; pid: number}[]};
}
const ps = (cwd = proj): Ps => {
  const r = sb.devenv(['ps', '--json'], {cwd});
  if (r.status !== 0) throw new Error(r.stderr + r.stdout);
  return JSON.parse(r.stdout) as Ps;
};
const unit = (p: Ps, name: string) => p.services.find((s) => s.name === name)!;
const waitPs = (what: string, cond: (p: Ps) => boolean, timeout = 60_000): Ps => {
  let last: Ps | undefined;
  waitUntil(() => cond((last = ps())), timeout, what, () => JSON.stringify(last, null, 2));
  return last!;
};

function shell(kind: ShellKind, name: string): {sh: ShellSession; pid: number} {
  const sh = ShellSession.start(kind, {env: {...sb.env, LANG: 'C.UTF-8'}, dir: join(sb.dir, `session-${name}`), cwd: sb.dir});
  sessions.push(sh);
  return {sh, pid: Number(sh.run(kind === 'fish' ? 'echo $fish_pid' : 'echo $$'))};
}

beforeAll(() => {
  sb = makeSandbox('devenv-autostart-');
  proj = join(sb.dir, 'proj');
  plain = join(sb.dir, 'plain');
  flag = join(sb.dir, 'ready-flag');
  mkdirSync(proj);
  mkdirSync(plain);
  writeFileSync(
    join(proj, 'devenv.toml'),
    [
      'name = "auto"', 'packages = []', '',
      '[services]', 'auto-start = true', '',
      // Ready only once the test says so: the prompt must not wait for it.
      '[processes.slow]', 'exec = "sleep 600"', `ready = {exec = "test -e ${flag}"}`, '',
      '[processes.manual]', 'exec = "sleep 600"', 'auto-start = false', '',
    ].join('\n'),
  );
  writeFileSync(join(plain, 'devenv.toml'), ['name = "plain"', 'packages = []', '', '[processes.idle]', 'exec = "sleep 600"', ''].join('\n'));
  for (const p of [proj, plain]) {
    const r = sb.devenv(['allow'], {cwd: p, timeout: EVAL_TIMEOUT});
    if (r.status !== 0) throw new Error(r.stderr);
    const e = sb.devenv(['exec', '--', 'true'], {cwd: p, timeout: EVAL_TIMEOUT});
    if (e.status !== 0) throw new Error(e.stderr);
  }
}, 2 * EVAL_TIMEOUT);

afterAll(() => {
  for (const s of sessions) s.close();
  sb?.devenv(['down'], {cwd: proj});
  sb?.devenv(['down'], {cwd: plain});
  sb?.cleanup();
});

describe('auto-start', () => {
  test('entering starts the auto-start units in the background; two shells keep them up; the last one killed stops them', () => {
    const a = shell('bash', 'a');
    const b = shell('zsh', 'b');
    expect(a.sh.run(`cd ${shq('bash', proj)}`, EVAL_TIMEOUT)).toBe(`devenv: loading ${proj}`);
    // The prompt is back, and slow cannot be ready yet: its check waits for the flag.
    expect(existsSync(flag)).toBe(false);
    expect(unit(ps(), 'slow').ready).not.toBe(true);
    waitPs('slow starting for shell a', (p) => ['starting', 'running'].includes(unit(p, 'slow').state) && !!p.autoStart?.shells.some((s) => s.pid === a.pid));
    writeFileSync(flag, '');
    let p = waitPs('slow ready', (x) => unit(x, 'slow').state === 'running' && unit(x, 'slow').ready === true && (x.autoStart?.units ?? []).includes('slow'));
    expect(unit(p, 'manual').state).toBe('stopped');
    expect(b.sh.run(`cd ${shq('zsh', proj)}`)).toBe(`devenv: loading ${proj}`);
    p = waitPs('both shells inside', (x) => x.autoStart?.shells.length === 2);
    expect(p.autoStart!.shells).toEqual([{shell: 'bash', pid: a.pid}, {shell: 'zsh', pid: b.pid}].sort((x, y) => x.pid - y.pid));
    const text = sb.devenv(['ps'], {cwd: proj}).stdout;
    expect(text).toContain(`auto-start: slow kept up by `);
    expect(text).toContain(`bash (pid ${a.pid})`);
    // a leaves: b still keeps it up.
    expect(a.sh.run(`cd ${shq('bash', sb.dir)}`)).toBe('devenv: unloading');
    p = waitPs('only shell b inside', (x) => x.autoStart?.shells.length === 1);
    expect(p.autoStart!.shells).toEqual([{shell: 'zsh', pid: b.pid}]);
    expect(unit(p, 'slow').state).toBe('running');
    // b dies without leaving.
    process.kill(b.pid, 'SIGKILL');
    p = waitPs('slow stopped after the last shell was killed', (x) => unit(x, 'slow').state === 'stopped' && !x.autoStart);
    expect(unit(p, 'manual').state).toBe('stopped');
  }, 2 * EVAL_TIMEOUT);

  test('they start again on the next entry and stop when the last of two shells leaves (fish and bash)', () => {
    const c = shell('fish', 'c');
    const d = shell('bash', 'd');
    expect(c.sh.run(`cd ${shq('fish', proj)}`)).toBe(`devenv: loading ${proj}`);
    expect(d.sh.run(`cd ${shq('bash', join(proj, '.'))}`)).toBe(`devenv: loading ${proj}`);
    waitPs('slow running, kept by c and d', (x) => unit(x, 'slow').state === 'running' && x.autoStart?.shells.length === 2);
    expect(c.sh.run(`cd ${shq('fish', sb.dir)}`)).toBe('devenv: unloading');
    waitPs('only d inside', (x) => x.autoStart?.shells.length === 1 && x.autoStart.shells[0].pid === d.pid);
    expect(unit(ps(), 'slow').state).toBe('running');
    expect(d.sh.run(`cd ${shq('bash', sb.dir)}`)).toBe('devenv: unloading');
    waitPs('slow stopped after the last shell left', (x) => unit(x, 'slow').state === 'stopped' && !x.autoStart);
  }, EVAL_TIMEOUT);

  test('off by default: a project without auto-start starts nothing on entry', () => {
    const e = shell('bash', 'e');
    expect(e.sh.run(`cd ${shq('bash', plain)}`)).toBe(`devenv: loading ${plain}`);
    // The activation that would start it has run (the prompt is back): nothing was asked for.
    expect(e.sh.nodeCalls().filter((l) => l.includes('__autostart'))).toEqual([]);
    const p = ps(plain);
    expect(p.autoStart).toBeUndefined();
    expect(unit(p, 'idle').state).toBe('stopped');
  });
});
