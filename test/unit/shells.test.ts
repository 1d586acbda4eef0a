// Quoting and activation scripts through the real bash, zsh and fish (non-interactive):
// hostile values round-trip byte for byte, activation applies them exactly, and unloading
// restores the environment exactly (PATH entries the user added inside survive).
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawnSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {shellFor} from '../../src/shells/index.js';
import type {Activation, HookPaths, ShellName} from '../../src/shells/shell.js';
import {hostileValues} from '../helpers/hostile.js';

const KINDS: ShellName[] = ['bash', 'zsh', 'fish'];
let dir: string;
let marker: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'devenv-shells-'));
  marker = join(dir, 'INJECTED');
});
afterAll(() => rmSync(dir, {recursive: true, force: true}));

function runScript(kind: ShellName, script: string, env: NodeJS.ProcessEnv = process.env) {
  const file = join(dir, `script-${kind}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, script);
  const argv = kind === 'bash' ? [process.env.DEVENV_TEST_BASH ?? 'bash', '--norc', '--noprofile', file] : kind === 'zsh' ? ['zsh', '-f', file] : [process.env.DEVENV_TEST_FISH ?? 'fish', '--no-config', file];
  const r = spawnSync(argv[0], argv.slice(1), {env, cwd: dir, timeout: 30_000});
  return {status: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8')};
}

function parseEnv0(buf: Buffer | string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of buf.toString().split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

function quoteCases(): [string, string][] {
  let ascii = '';
  for (let c = 1; c < 128; c++) ascii += String.fromCharCode(c);
  let latin = '';
  for (let c = 0x80; c < 0x100; c++) latin += String.fromCharCode(c);
  return [
    ...Object.entries(hostileValues(marker)),
    ['ascii 1..127', ascii],
    ['latin-1 range', latin],
    ['lone dash', '-'],
    ['double dash', '--'],
    ['only newline', '\n'],
    ['only quote', "'"],
    ['only backslash', '\\'],
    ['trailing backslash quote', "\\'"],
    ['fish private use area', '\uf600\uf6ff\ufffd'],
    ['astral', '𝄞🎉'],
    ['dollar brace', '${x}$x$'],
  ];
}

describe.each(KINDS)('%s quoting', (kind) => {
  const sh = shellFor(kind);

  test('every hostile value round-trips byte for byte and runs nothing', () => {
    const cases = quoteCases();
    const r = runScript(kind, cases.map(([, v]) => `printf '%s\\0' ${sh.quote(v)}`).join('\n') + '\n');
    expect(r.stderr).toBe('');
    const got = r.stdout.toString('utf8').split('\0').slice(0, -1);
    expect(got.length).toBe(cases.length);
    cases.forEach(([name, v], i) => {
      expect([name, Buffer.from(got[i], 'utf8').toString('hex')]).toEqual([name, Buffer.from(v, 'utf8').toString('hex')]);
    });
    expect(() => readFileSync(marker)).toThrow();
  });

  test('exportVars exports exactly', () => {
    const vals = hostileValues(marker);
    const r = runScript(kind, `${sh.exportVars(vals)}command env -0\n`);
    expect(r.stderr).toBe('');
    const env = parseEnv0(r.stdout);
    for (const [k, v] of Object.entries(vals)) expect([k, env[k]]).toEqual([k, v]);
  });
});

describe.each(KINDS)('%s activation and exact revert', (kind) => {
  const sh = shellFor(kind);
  let root: string;
  let paths: HookPaths;
  let script: string;
  let act: Activation;

  beforeAll(() => {
    const base = join(dir, `act-${kind}`);
    root = join(base, "proj 'x' $y");
    mkdirSync(root, {recursive: true});
    writeFileSync(join(root, 'devenv.toml'), '');
    writeFileSync(join(root, 'flake.nix'), '');
    paths = {devenvBin: '/nonexistent/run.js', nodeBin: '/bin/false', stateDir: join(base, 'state'), stampDir: join(base, 'run'), trustEpochFile: join(base, 'epoch')};
    mkdirSync(paths.stampDir, {recursive: true, mode: 0o700});
    writeFileSync(paths.trustEpochFile, '');
    // Where the hook looks for it: $XDG_STATE_HOME/devenv/roots<root>/@devenv@/.
    script = join(paths.stateDir, 'roots', root, '@devenv@', `activate.${kind}`);
    mkdirSync(join(script, '..'), {recursive: true});
    act = {
      root,
      vars: {...hostileValues(marker), FROM_HOOK: 'recorded', DEVENV_STATE: join(root, '.devenv/state')},
      paths: {PATH: {pre: ['/nix/store/aaaa-python3-3.11/bin', '/nix/store/bbbb-pg-15/bin'], post: []}, XDG_DATA_DIRS: {pre: ['/nix/store/cccc-share/share'], post: []}},
      watch: [join(root, 'devenv.toml'), join(root, 'flake.nix'), script, paths.trustEpochFile].map((file) => ({file})),
      watchAbsent: [join(root, 'flake.lock')],
      storePaths: [],
      message: `devenv: loading ${root} (python3 3.11)`,
    };
    writeFileSync(script, sh.activationScript(act, script));
    // Older inputs than the script: fresh.
    const past = new Date(Date.now() - 60_000);
    for (const f of [join(root, 'devenv.toml'), join(root, 'flake.nix'), paths.trustEpochFile]) utimesSync(f, past, past);
  });

  const q = (v: string) => sh.quote(v);
  const envDump = (file: string) => `command env -0 > ${q(join(dir, file))}`;
  const read = (file: string) => parseEnv0(readFileSync(join(dir, file)));
  const setup = (k: string, v: string) => (kind === 'fish' ? `set -gx ${k} ${q(v)}` : `export ${k}=${q(v)}`);
  const unset = (k: string) => (kind === 'fish' ? `set -e ${k}` : `unset ${k}`);

  test('check mode tells fresh from stale, and never applies anything', () => {
    const check = `if ${kind === 'fish' ? 'source' : 'source'} ${q(script)} check; then echo fresh; else echo stale; fi`;
    const fishCheck = `if source ${q(script)} check; echo fresh; else; echo stale; end`;
    const line = kind === 'fish' ? fishCheck : check;
    const hook = sh.hook(paths);
    let r = runScript(kind, `${hook}\n${line}\ncommand env -0 > ${q(join(dir, `check-${kind}`))}\n`);
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe('fresh\n');
    expect(read(`check-${kind}`).NL_VAL).toBeUndefined();
    writeFileSync(join(root, 'flake.lock'), '{}');
    r = runScript(kind, `${hook}\n${line}\n`);
    expect(r.stdout.toString()).toBe('stale\n');
    rmSync(join(root, 'flake.lock'));
    const now = new Date(Date.now() + 5_000);
    utimesSync(join(root, 'devenv.toml'), now, now);
    r = runScript(kind, `${hook}\n${line}\n`);
    expect(r.stdout.toString()).toBe('stale\n');
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(root, 'devenv.toml'), past, past);
  });

  test('applies every value exactly and unloads to the exact previous environment', () => {
    const hook = sh.hook(paths);
    const lines = [
      hook,
      // Previously set values (one empty), one unset, and a PATH with an entry devenv also adds.
      setup('EMPTY_VAL', 'was set before'),
      setup('UNICODE_VAL', ''),
      setup('NL_VAL', 'old\nvalue'),
      // A shell variable that is not exported stays so after the revert.
      kind === 'fish' ? "set -g DASH_VAL 'local only'" : "DASH_VAL='local only'",
      unset('XDG_DATA_DIRS'),
      unset('FROM_HOOK'),
      setup('PATH', `/usr/bin:/bin:/nix/store/bbbb-pg-15/bin`),
      envDump(`before-${kind}`),
      `_devenv_source ${q(script)}`,
      envDump(`inside-${kind}`),
      // The user edits PATH inside the project: both their entries must survive leaving.
      kind === 'fish' ? 'set -gx PATH /opt/first $PATH /opt/last' : 'export PATH="/opt/first:$PATH:/opt/last"',
      // A user's odd IFS does not change how the revert splits its list of names.
      kind === 'fish' ? '' : "IFS=$'\\n'",
      '_devenv_unload',
      kind === 'fish' ? '' : "IFS=$' \\t\\n'",
      envDump(`after-${kind}`),
      `printf '%s' "$DASH_VAL" > ${q(join(dir, `local-${kind}`))}`,
      // Loading twice in a row (sibling to sibling) leaves one copy of everything.
      `_devenv_source ${q(script)}`,
      `_devenv_source ${q(script)}`,
      envDump(`twice-${kind}`),
      '_devenv_unload',
      envDump(`after2-${kind}`),
    ];
    const r = runScript(kind, lines.join('\n') + '\n');
    expect(r.stderr).toBe(`${act.message}\n`.repeat(3));
    expect(r.status).toBe(0);
    expect(() => readFileSync(marker)).toThrow();
    const before = read(`before-${kind}`);
    const inside = read(`inside-${kind}`);
    for (const [k, v] of Object.entries(act.vars)) expect([k, inside[k]]).toEqual([k, v]);
    expect(inside.DEVENV_ROOT).toBe(root);
    expect(inside.PATH).toBe(`/nix/store/aaaa-python3-3.11/bin:/nix/store/bbbb-pg-15/bin:${before.PATH}`);
    expect(inside.XDG_DATA_DIRS).toBe('/nix/store/cccc-share/share');

    const after = read(`after-${kind}`);
    const drop = (e: Record<string, string>) => {
      const o = {...e};
      for (const k of ['_', 'PWD', 'OLDPWD', 'PATH']) delete o[k];
      return o;
    };
    expect(drop(after)).toEqual(drop(before));
    expect(after.PATH).toBe(`/opt/first:${before.PATH}:/opt/last`);
    expect(after.EMPTY_VAL).toBe('was set before');
    expect(after.UNICODE_VAL).toBe('');
    expect('XDG_DATA_DIRS' in after).toBe(false);
    expect('DASH_VAL' in after).toBe(false);
    expect(readFileSync(join(dir, `local-${kind}`), 'utf8')).toBe('local only');

    const twice = read(`twice-${kind}`);
    expect(twice.PATH).toBe(`/nix/store/aaaa-python3-3.11/bin:/nix/store/bbbb-pg-15/bin:${after.PATH}`);
    const after2 = read(`after2-${kind}`);
    expect(drop(after2)).toEqual(drop(before));
    expect(after2.PATH).toBe(after.PATH);
  });

  test('the hook loads a fresh activation without node, stays quiet when idle, unloads outside', () => {
    const log = join(dir, `node-${kind}.log`);
    writeFileSync(log, '');
    const fakeNode = join(dir, `fake-node-${kind}`);
    writeFileSync(fakeNode, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\n`, {mode: 0o755});
    const hook = sh.hook({...paths, nodeBin: fakeNode});
    const lines = [hook, `cd ${q(root)}`, '_devenv_hook', envDump(`hook-in-${kind}`), '_devenv_hook', '_devenv_hook', 'cd /', '_devenv_hook', envDump(`hook-out-${kind}`)];
    const r = runScript(kind, lines.join('\n') + '\n');
    expect(r.stderr).toBe(`${act.message}\ndevenv: unloading\n`);
    expect(readFileSync(log, 'utf8')).toBe('');
    expect(read(`hook-in-${kind}`).DEVENV_ROOT).toBe(root);
    expect(read(`hook-out-${kind}`).DEVENV_ROOT).toBeUndefined();
    // Stale (an input is newer than the script): the hook asks node, once.
    const older = new Date(Date.now() - 30_000);
    const newer = new Date(Date.now() - 10_000);
    utimesSync(script, older, older);
    utimesSync(join(root, 'flake.nix'), newer, newer);
    const r2 = runScript(kind, [hook, `cd ${q(root)}`, '_devenv_hook', '_devenv_hook'].join('\n') + '\n');
    expect(r2.stderr).toBe('');
    expect(readFileSync(log, 'utf8')).toBe(`/nonexistent/run.js __hook ${kind} ${root}\n`);
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(root, 'flake.nix'), past, past);
  });

  test('an edit in the same clock tick as the prompt (equal file times) still counts as a change', () => {
    const log = join(dir, `node-tick-${kind}.log`);
    writeFileSync(log, '');
    const fakeNode = join(dir, `fake-node-tick-${kind}`);
    writeFileSync(fakeNode, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\n`, {mode: 0o755});
    const hook = sh.hook({...paths, nodeBin: fakeNode});
    const toml = q(join(root, 'devenv.toml'));
    // touch -r gives the edited file exactly the stamp's time, as a coarse clock does.
    const sameTick = kind === 'fish' ? `command touch -r $_devenv_stamp ${toml}` : `command touch -r "$_devenv_stamp" ${toml}`;
    const r = runScript(kind, [hook, `cd ${q(root)}`, '_devenv_hook', sameTick, '_devenv_hook'].join('\n') + '\n');
    expect(r.stderr).toBe(`${act.message}\n`);
    expect(readFileSync(log, 'utf8')).toBe(`/nonexistent/run.js __hook ${kind} ${root}\n`);
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(root, 'devenv.toml'), past, past);
  });

  test('a re-rendered activation dated exactly like the stamp (a coarse clock, bash < 5) is applied, and an unchanged one is not re-applied', () => {
    const hook = sh.hook(paths);
    const next = join(dir, `next-act-${kind}`);
    writeFileSync(next, sh.activationScript({...act, vars: {...act.vars, FROM_HOOK: 'rerendered'}, message: 'devenv: loading again'}, script));
    const saved = readFileSync(script);
    const stamp = kind === 'fish' ? '$_devenv_stamp' : '"$_devenv_stamp"';
    // The watcher renders the new script within the stamp's clock tick.
    const rerender = `command cp ${q(next)} ${q(script)}; command touch -r ${stamp} ${q(script)}`;
    const sameAgain = `command touch -r ${stamp} ${q(script)}`;
    try {
      const r = runScript(kind, [hook, `cd ${q(root)}`, '_devenv_hook', sameAgain, '_devenv_hook', rerender, '_devenv_hook', envDump(`rerendered-${kind}`)].join('\n') + '\n');
      expect(r.stderr).toBe(`${act.message}\ndevenv: loading again\n`);
      expect(read(`rerendered-${kind}`).FROM_HOOK).toBe('rerendered');
    } finally {
      writeFileSync(script, saved);
    }
  });

  test('outside every project, a project file appearing here (devenv init, a checkout) is noticed at the next prompt', () => {
    const log = join(dir, `node-new-${kind}.log`);
    writeFileSync(log, '');
    const fresh = join(dir, `fresh-${kind}`);
    // Stands in for node: answers like an untrusted project (watch its file, say so).
    const answer = join(dir, `answer-${kind}`);
    writeFileSync(answer, sh.blocked([join(fresh, 'devenv.toml')], [], 'devenv: blocked') + '\n');
    const fakeNode = join(dir, `fake-node-new-${kind}`);
    // Real node takes tens of ms; file times are coarse (a kernel tick), so an instant fake would
    // leave the edit and both stamps in one tick, which no real prompt does.
    writeFileSync(fakeNode, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nsleep 0.03\ncat '${answer}'\n`, {mode: 0o755});
    const other = join(dir, `other-${kind}`, 'deep');
    mkdirSync(fresh, {recursive: true});
    mkdirSync(other, {recursive: true});
    const hook = sh.hook({...paths, nodeBin: fakeNode});
    // The shell starts elsewhere, then moves: the watch list must follow the directory.
    const lines = [hook, `cd ${q(other)}`, '_devenv_hook', `cd ${q(fresh)}`, '_devenv_hook', '_devenv_hook', `: > ${q(join(fresh, 'devenv.toml'))}`, '_devenv_hook', '_devenv_hook'];
    const r = runScript(kind, lines.join('\n') + '\n');
    expect(r.stderr).toBe('devenv: blocked\n');
    expect(readFileSync(log, 'utf8')).toBe(`/nonexistent/run.js __hook ${kind} ${fresh}\n`);
  });

  test('a blocked message is said once while the shell stays (prompts may ask node again), again after leaving and coming back', () => {
    const answer = join(dir, `blocked-once-${kind}`);
    writeFileSync(answer, sh.blocked([], [], 'devenv: blocked here') + '\n');
    const here = join(dir, `blocked-here-${kind}`);
    const away = join(dir, `blocked-away-${kind}`);
    mkdirSync(here, {recursive: true});
    mkdirSync(away, {recursive: true});
    const answerNode = `source ${q(answer)}`;
    const lines = [sh.hook(paths), `cd ${q(here)}`, answerNode, answerNode, `cd ${q(away)}`, '_devenv_hook', `cd ${q(here)}`, answerNode];
    const r = runScript(kind, lines.join('\n') + '\n');
    expect(r.stderr).toBe('devenv: blocked here\ndevenv: blocked here\n');
  });

  test('a child shell inherits the revert state and can unload too', () => {
    const hook = sh.hook(paths);
    const child = kind === 'fish' ? `fish --no-config -c ${q(`${hook}\n_devenv_unload\ncommand env -0`)}` : `${kind} ${kind === 'zsh' ? '-f' : '--norc'} -c ${q(`${hook}\n_devenv_unload\ncommand env -0`)}`;
    const r = runScript(kind, [hook, setup('EMPTY_VAL', 'parent value'), envDump(`pbefore-${kind}`), `_devenv_source ${q(script)} 2>/dev/null`, `${child} > ${q(join(dir, `child-${kind}`))}`].join('\n') + '\n');
    expect(r.stderr).toBe('');
    const before = read(`pbefore-${kind}`);
    const childEnv = read(`child-${kind}`);
    // DEVENV_HOOK names the shell that installed the hook (the child has its own pid).
    for (const k of ['_', 'PWD', 'OLDPWD', 'SHLVL', 'DEVENV_HOOK']) {
      delete before[k];
      delete childEnv[k];
    }
    expect(childEnv).toEqual(before);
  });
});

describe('fish bodies of [shell.functions]', () => {
  test('positional parameters are translated; a given fish body wins', async () => {
    const {fishBody} = await import('../../src/shells/logic.js');
    expect(fishBody('echo hi $1 ${2} "$@" $* ${@}')).toBe('echo hi $argv[1] $argv[2] $argv $argv $argv');
    expect(fishBody('echo "$# args"')).toBe('set -l __devenv_argc (count $argv)\necho "$__devenv_argc args"');
    expect(fishBody('echo $HOME $10x', undefined)).toBe('echo $HOME $argv[1]0x');
    expect(fishBody('echo $1', 'echo fish')).toBe('echo fish');
  });
});
