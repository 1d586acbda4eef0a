// The shell protocol through the real bash, zsh and fish (non-interactive, many cases per run):
// leaving restores exactly what was there before entry plus what the user did inside, for every
// combination of devenv's prepends, a shellHook's edits and the user's own edits; an mtime that
// moves backwards and a garbage-collected store path make an activation stale.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawnSync} from 'node:child_process';
import {chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {baseEnv, diffEnv, hookEffects, splitAround} from '../../src/env/shell-hook.js';
import {shellFor} from '../../src/shells/index.js';
import {envNameProblem} from '../../src/shells/protocol.js';
import type {Activation, HookPaths, ShellName} from '../../src/shells/shell.js';
import {parseManifest} from '../../src/manifest/parse.js';
import {ensurePrivateDir} from '../../src/util/fs.js';

const KINDS: ShellName[] = ['bash', 'zsh', 'fish'];
const REPO = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'devenv-protocol-'));
});
afterAll(() => rmSync(dir, {recursive: true, force: true}));

function run(kind: ShellName, script: string): {status: number | null; stdout: string; stderr: string} {
  const file = join(dir, `s-${kind}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, script);
  const argv = kind === 'bash' ? [process.env.DEVENV_TEST_BASH ?? 'bash', '--norc', '--noprofile', file] : kind === 'zsh' ? ['zsh', '-f', file] : [process.env.DEVENV_TEST_FISH ?? 'fish', '--no-config', file];
  const r = spawnSync(argv[0], argv.slice(1), {cwd: dir, encoding: 'utf8', timeout: 60_000, env: {...process.env, XDG_DATA_DIRS: undefined}});
  return {status: r.status, stdout: r.stdout, stderr: r.stderr};
}

function hookPaths(kind: ShellName): HookPaths {
  const base = join(dir, `h-${kind}`);
  mkdirSync(join(base, 'run'), {recursive: true, mode: 0o700});
  writeFileSync(join(base, 'epoch'), '');
  return {devenvBin: '/nonexistent/run.js', nodeBin: '/bin/false', stateDir: join(base, 'state'), stampDir: join(base, 'run'), trustEpochFile: join(base, 'epoch')};
}

function activation(root: string, paths: Activation['paths'], vars: Record<string, string> = {}): Activation {
  return {root, vars, paths, watch: [], watchAbsent: [], storePaths: [], message: 'devenv: loading'};
}

interface Case {
  name: string;
  /** PATH-like value before entry (undefined: unset). */
  old?: string;
  devenv: string[];
  hookPre: string[];
  hookPost: string[];
  /** What the user does inside: entries put before / after the value. */
  userPre: string[];
  userPost: string[];
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const old of ['/usr/bin:/bin', '/usr/bin:/nix/store/d1/bin:/bin', '', undefined])
    for (const devenv of [[], ['/nix/store/d1/bin', '/nix/store/d2/bin']])
      for (const hookPre of [[], ['/proj/bin']])
        for (const hookPost of [[], ['/proj/last']])
          for (const [userPre, userPost] of [[[], []], [['/opt/u1'], []], [[], ['/opt/u2']], [['/proj/bin'], ['/opt/u2']]])
            if (devenv.length || hookPre.length || hookPost.length)
              out.push({name: `old=${old} devenv=${devenv.length} hook=${hookPre.length}/${hookPost.length} user=${userPre}/${userPost}`, old, devenv, hookPre, hookPost, userPre, userPost});
  return out;
}

const join_ = (...parts: (string | undefined)[]) => parts.filter((p) => p !== undefined && p !== '').join(':');

describe.each(KINDS)('%s: the revert is defined on what devenv added', (kind) => {
  const sh = shellFor(kind);
  const q = sh.quote;
  // A PATH-named variable (fish keeps it as a list) that is not PATH itself, so the shell keeps working.
  const V = 'DV_TEST_PATH';

  test('every combination of devenv prepends, shellHook edits and user edits', () => {
    const all = cases();
    const lines = [sh.hook(hookPaths(kind))];
    all.forEach((c, i) => {
      const script = join(dir, `act-${kind}-${i}`);
      writeFileSync(script, sh.activationScript(activation('/proj', {[V]: {pre: [...c.hookPre, ...c.devenv], post: c.hookPost}}), script));
      lines.push(c.old === undefined ? (kind === 'fish' ? `set -e ${V}` : `unset ${V}`) : kind === 'fish' ? `set -gx ${V} (string split : -- ${q(c.old)})` : `export ${V}=${q(c.old)}`);
      lines.push(`_devenv_source ${q(script)} 2>/dev/null`);
      const pre = c.userPre.length ? c.userPre.join(':') + ':' : '';
      const post = c.userPost.length ? ':' + c.userPost.join(':') : '';
      if (pre || post) lines.push(kind === 'fish' ? `set -gx ${V} (string split : -- ${q(pre)}(string join : -- $${V})${q(post)})` : `export ${V}=${q(pre)}"$${V}"${q(post)}`);
      lines.push('_devenv_unload');
      // "unset" and the value, one line per case.
      lines.push(kind === 'fish' ? `if set -q ${V}; set -l x (string join : -- $${V}); printf '%s\\n' "=$x"; else; echo unset; end` : `if [ -n "\${${V}+x}" ]; then printf '%s\\n' "=$${V}"; else echo unset; fi`);
    });
    const r = run(kind, lines.join('\n') + '\n');
    expect(r.stderr).toBe('');
    const got = r.stdout.split('\n').slice(0, -1);
    const want = all.map((c) => {
      const userAdded = c.userPre.length || c.userPost.length;
      if (!userAdded) return c.old === undefined ? 'unset' : `=${c.old}`;
      // The user's additions around what was there before; devenv's and the hook's entries gone.
      const v = join_(...c.userPre, c.old, ...c.userPost);
      return c.old === undefined && !v ? 'unset' : `=${v}`;
    });
    expect(got.map((g, i) => `${all[i].name} -> ${g}`)).toEqual(want.map((w, i) => `${all[i].name} -> ${w}`));
  });

  test('a variable the user changed inside keeps the change; untouched ones get their old value', () => {
    const script = join(dir, `vars-${kind}`);
    writeFileSync(script, sh.activationScript(activation('/proj', {}, {KEPT: 'devenv', BACK: 'devenv', NEWV: 'devenv', GONE: 'devenv'}), script));
    const set = (k: string, v: string) => (kind === 'fish' ? `set -gx ${k} ${q(v)}` : `export ${k}=${q(v)}`);
    const show = (k: string) => (kind === 'fish' ? `if set -q ${k}; echo "${k}=$${k}"; else; echo "${k} unset"; end` : `if [ -n "\${${k}+x}" ]; then echo "${k}=$${k}"; else echo "${k} unset"; fi`);
    const lines = [
      sh.hook(hookPaths(kind)),
      set('KEPT', 'before'),
      set('BACK', 'before'),
      `_devenv_source ${q(script)} 2>/dev/null`,
      set('KEPT', 'user edit'),
      kind === 'fish' ? 'set -e GONE' : 'unset GONE',
      '_devenv_unload',
      ...['KEPT', 'BACK', 'NEWV', 'GONE', 'DEVENV_VARS', '__DEVENV_OLD_BACK', '__DEVENV_NEW_KEPT'].map(show),
    ];
    const r = run(kind, lines.join('\n') + '\n');
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(['KEPT=user edit', 'BACK=before', 'NEWV unset', 'GONE unset', 'DEVENV_VARS unset', '__DEVENV_OLD_BACK unset', '__DEVENV_NEW_KEPT unset']);
  });

  test('an mtime moved backwards (tar, rsync -a, cp -p) and a deleted store path make the activation stale', () => {
    const root = join(dir, `fresh-${kind}`);
    mkdirSync(root, {recursive: true});
    const file = join(root, 'devenv.toml');
    const lo = join(root, 'devenv.toml.lo');
    const store = join(root, 'store-path');
    mkdirSync(store);
    writeFileSync(file, 'x');
    const t = Math.floor(Date.now() / 1000) - 100;
    utimesSync(file, t, t);
    writeFileSync(lo, '');
    utimesSync(lo, t - 1, t - 1);
    const script = join(root, 'activate');
    const a = {...activation(root, {}), watch: [{file, lo}, {file: script}], storePaths: [store]};
    writeFileSync(script, sh.activationScript(a, script));
    const check = kind === 'fish' ? `if source ${q(script)} check; echo fresh; else; echo stale; end` : `if source ${q(script)} check; then echo fresh; else echo stale; fi`;
    const hook = sh.hook(hookPaths(kind));
    expect(run(kind, `${hook}\n${check}\n`).stdout).toBe('fresh\n');
    // Content restored with an older time: still older than the script, but older than devenv saw.
    utimesSync(file, t - 3600, t - 3600);
    expect(run(kind, `${hook}\n${check}\n`).stdout).toBe('stale\n');
    utimesSync(file, t, t);
    expect(run(kind, `${hook}\n${check}\n`).stdout).toBe('fresh\n');
    // The same seen from a loaded shell at its prompt (no activation check involved).
    const loaded = [hook, `_devenv_source ${q(script)} 2>/dev/null`, `command touch -d @${t - 3600} ${q(file)}`, kind === 'fish' ? 'if _devenv_changed; echo changed; else; echo same; end' : 'if _devenv_changed; then echo changed; else echo same; fi'];
    expect(run(kind, loaded.join('\n') + '\n').stdout).toBe('changed\n');
    utimesSync(file, t, t);
    rmSync(store, {recursive: true});
    expect(run(kind, `${hook}\n${check}\n`).stdout).toBe('stale\n');
  });

  test('an idle prompt in a loaded project is a handful of commands, whatever it watches; a change still shows', () => {
    const root = join(dir, `idle-${kind}`);
    mkdirSync(root, {recursive: true});
    const t = Math.floor(Date.now() / 1000) - 100;
    const watch = ['devenv.toml', 'flake.nix', 'flake.lock', 'nix/extra.nix', 'nix/more.nix'].map((f, i) => {
      const file = join(root, f);
      mkdirSync(join(file, '..'), {recursive: true});
      writeFileSync(file, 'x');
      utimesSync(file, t, t);
      const lo = join(root, `.lo${i}`);
      writeFileSync(lo, '');
      utimesSync(lo, t - 1, t - 1);
      return {file, lo};
    });
    const script = join(root, 'activate');
    const a = {...activation(root, {PATH: {pre: ['/nix/store/x/bin'], post: []}}, {A: '1'}), watch: [...watch, {file: script}], watchAbsent: [join(root, 'gone.nix')]};
    writeFileSync(script, sh.activationScript(a, script));
    const [traceOn, traceOff] = kind === 'bash' ? ['set -x', 'set +x'] : kind === 'zsh' ? ['setopt xtrace', 'unsetopt xtrace'] : ['set fish_trace 1', 'set -e fish_trace'];
    const idle = (after: string) =>
      run(kind, [sh.hook(hookPaths(kind)), `cd ${q(root)}`, `_devenv_source ${q(script)} 2>/dev/null`, `_devenv_pwd=$PWD; _devenv_opwd=$OLDPWD`.replace(/(\w+)=(\$\w+)/g, kind === 'fish' ? 'set -g $1 $2' : '$1=$2').replace('; ', '\n'), after, traceOn, '_devenv_hook', traceOff, ''].join('\n'));
    const quiet = idle('');
    expect(quiet.status).toBe(0);
    // The trace's lines are the commands run (bash lists each test of a [[ ]] on a line of its
    // own): besides the 13 tests of the watched files, the hook, its status, the compare, the
    // call and the returns. Walking the watch lists ran a loop step per test.
    const lines = quiet.stderr.split('\n').filter((l) => /^[+>-]/.test(l) && !/(set \+x|unsetopt xtrace|set -e fish_trace| end \w+)$/.test(l));
    const tests = lines.filter((l) => / -nt | -e /.test(l));
    expect(tests.length).toBeLessThanOrEqual(13);
    expect(lines.length - tests.length).toBeLessThanOrEqual(8);
    expect(lines.join('\n')).not.toContain('devenv: loading');
    // The same prompt after an edit goes on past the check (and asks node, here /bin/false).
    const edited = idle(`command touch ${q(watch[3].file)}`);
    expect(edited.stderr.split('\n').filter((l) => /^[+>-]/.test(l)).length).toBeGreaterThan(lines.length + 5);
    expect(edited.stderr).toContain('_devenv_find_root');
  });
});

describe('a shellHook recorded as what it did around the value it was given', () => {
  test('PATH edits become entries before and after; other variables are set', () => {
    expect(splitAround('/nix/a:/usr/bin', '/p/bin:/nix/a:/usr/bin')).toEqual({pre: ['/p/bin'], post: []});
    expect(splitAround('/usr/bin', '/usr/bin:/p/last')).toEqual({pre: [], post: ['/p/last']});
    expect(splitAround('/a:/b', '/x:/a:/bc')).toBeUndefined();
    expect(splitAround('/a', '/a:/x:/a')).toEqual({pre: [], post: ['/x', '/a']});
    const d = diffEnv({PATH: '/nix/a:/usr/bin', HOME: '/home/u', KEEP: '1'}, {PATH: '/proj/bin:/nix/a:/usr/bin', HOME: '/tmp/x', SHELL: '/bin/zsh', KEEP: '1', VENV: '/proj/.venv', DEVENV_ROOT: '/x', __DEVENV_OLD_PATH: 'y'});
    expect(d).toEqual({vars: {VENV: '/proj/.venv'}, paths: {PATH: {pre: ['/proj/bin'], post: []}}});
  });
});

test('exec inside a loaded project starts from what the shell had before entry (no double prepends)', () => {
  const loaded = {
    PATH: '/mine:/proj/bin:/nix/d1/bin:/usr/bin:/proj/last', __DEVENV_PRE_PATH: '/proj/bin:/nix/d1/bin', __DEVENV_POST_PATH: '/proj/last', __DEVENV_NEW_PATH: '/proj/bin:/nix/d1/bin:/usr/bin:/proj/last', __DEVENV_OLD_PATH: '/usr/bin',
    A: 'devenv', __DEVENV_NEW_A: 'devenv', __DEVENV_OLD_A: 'before',
    B: 'user edit', __DEVENV_NEW_B: 'devenv',
    C: 'devenv', __DEVENV_NEW_C: 'devenv',
    DEVENV_VARS: 'PATH A B C', DEVENV_ROOT: '/proj', DEVENV_HOOK: 'bash:1', DEVENV_NIXPKGS: 'path:/x', HOME: '/home/u',
  };
  expect(baseEnv(loaded)).toEqual({PATH: '/mine:/usr/bin', A: 'before', B: 'user edit', DEVENV_HOOK: 'bash:1', DEVENV_NIXPKGS: 'path:/x', HOME: '/home/u'});
});

describe('[env] names: one list, checked at parse time with the place and the reason', () => {
  test('names that would break the shell or devenv are refused, each with why', () => {
    for (const n of ['PROMPT_COMMAND', 'precmd_functions', 'chpwd_functions', 'UID', 'EUID', 'PPID', 'PWD', 'OLDPWD', 'SHLVL', 'HOME', 'SHELL', 'DEVENV_ROOT', 'DEVENV_ANYTHING', '__DEVENV_OLD_PATH', '_devenv_seen', 'status', 'fish_pid', 'hostname', 'buildPhase', 'postInstall', 'PATH', 'IFS', 'BASH_ENV_X', '__structuredAttrs', 'USERNAME']) {
      expect([n, envNameProblem(n)]).toEqual([n, expect.any(String)]);
    }
  });
  test('names an environment legitimately carries pass', () => {
    for (const n of ['TZ', 'LANG', 'LC_ALL', 'SSL_CERT_FILE', 'NIX_SSL_CERT_FILE', 'TMPDIR', 'DISPLAY', 'SSH_AUTH_SOCK', 'EDITOR', 'DATABASE_URL', 'NODE_ENV', 'BASH_ENV', 'PYTHONPATH', 'NIX_PATH']) {
      expect([n, envNameProblem(n)]).toEqual([n, undefined]);
    }
  });
  test('the manifest error names devenv.toml:L:C and the reason', () => {
    const text = 'name = "x"\n\n[env]\nFOO = "1"\n  PROMPT_COMMAND = "echo hi"\n';
    expect(() => parseManifest(text)).toThrow(/^devenv\.toml:5:3: env\.PROMPT_COMMAND cannot be set: .*remove the devenv hook/);
    expect(() => parseManifest('[env]\nUID = "0"\n')).toThrow(/^devenv\.toml:2:1: env\.UID cannot be set: .*setuid/);
    expect(() => parseManifest('[env]\nDEVENV_ROOT = "/x"\n')).toThrow(/devenv\.toml:2:1: env\.DEVENV_ROOT cannot be set: reserved/);
    expect(parseManifest('[env]\nTZ = "UTC"\nTMPDIR = "/var/tmp/x"\nSSL_CERT_FILE = "/etc/ssl/c.pem"\n').env).toEqual({TZ: 'UTC', TMPDIR: '/var/tmp/x', SSL_CERT_FILE: '/etc/ssl/c.pem'});
  });
});

/** What bash 3.2 (macOS's /bin/bash) cannot parse or run, and where bash 4.x differs at run time. */
export const NEWER_THAN_BASH_32: [RegExp, string][] = [
  [/\[\[\s+-v\s/, '[[ -v ]] (4.2)'],
  [/\$\{![A-Za-z_0-9]+@[aAEPQKkUuL]\}/, '${!x@a} and other @ transformations (4.4)'],
  [/\$\{[A-Za-z_0-9]+@[aAEPQKkUuL]\}/, '${x@Q} (4.4)'],
  [/\bdeclare\s+-[a-zA-Z]*[gAn]/, 'declare -g / -A / -n (4.x)'],
  [/\blocal\s+-[a-zA-Z]*[An]/, 'local -A / -n (4.x)'],
  [/\btypeset\s+-[a-zA-Z]*[gAn]/, 'typeset -g / -A / -n (4.x)'],
  [/\b(mapfile|readarray|coproc)\b/, 'mapfile / readarray / coproc (4.0)'],
  [/\$\{[A-Za-z_0-9]+(,,?|\^\^?)\}/, '${x,,} / ${x^^} (4.0)'],
  [/\[\s*-\d+\s*\]/, 'negative array index (4.3)'],
  [/;;&|;&/, ';& / ;;& (4.0)'],
  [/\|&|&>>/, '|& / &>> (4.0)'],
  [/\bBASHPID\b|\bEPOCH(REAL)?TIME\b|\bSRANDOM\b/, '$BASHPID / $EPOCHREALTIME (4.0, 5.0)'],
  [/\bwait\s+-n\b/, 'wait -n (4.3)'],
  [/\{[A-Za-z_][A-Za-z_0-9]*\}[<>]/, '{fd}> (4.1)'],
  [/printf\s+['"]?%\(/, "printf '%(...)T' (4.2)"],
  [/shopt\s+-s\s+(lastpipe|globstar|autocd|direxpand)/, 'shopt lastpipe/globstar (4.x)'],
  [/\$'[^']*\\u/, "$'\\u' escapes (4.2)"],
  // Checked on lines with the guarded form ${a[@]+"${a[@]}"} taken out.
  [/"\$\{[A-Za-z_0-9]+\[@\]\}"/, 'a bare "${a[@]}": an unbound error under set -u for an empty array before 4.4'],
];
const unguarded = (l: string) => l.replace(/\$\{([A-Za-z_0-9]+)\[@\]\+"\$\{\1\[@\]\}"\}/g, '');

test('the generated bash code uses no construct newer than bash 3.2', () => {
  const sh = shellFor('bash');
  const texts = [
    sh.hook(hookPaths('bash')),
    sh.activationScript({...activation('/p', {PATH: {pre: ['/a'], post: ['/b']}}, {A: 'x'}), watch: [{file: '/p/f', lo: '/s/lo'}], storePaths: ['/nix/store/x'], usedMarker: '/s/used/k', notes: ['hi']}, '/s/activate.bash'),
    sh.blocked(['/p/f'], ['/p/g'], 'm'),
    sh.unload('m'),
    sh.retry(),
    sh.loadInline('true'),
  ].join('\n');
  // The one place an array may come from the user: PROMPT_COMMAND, only when bash made it an array (5.1+).
  const lines = texts.split('\n').filter((l) => !/PROMPT_COMMAND\[@\]/.test(l));
  const found = NEWER_THAN_BASH_32.flatMap(([re, what]) => lines.filter((l) => re.test(unguarded(l))).map((l) => `${what}: ${l.trim()}`));
  expect(found).toEqual([]);
  // The scanner itself finds what it looks for.
  for (const bad of ['[[ -v x ]]', 'y=${!1@a}', 'declare -g x', 'mapfile -t a', 'x=${y,,}', 'a=${b[-1]}', 'for x in "${a[@]}"; do :; done']) {
    expect([bad, NEWER_THAN_BASH_32.some(([re]) => re.test(unguarded(bad)))]).toEqual([bad, true]);
  }
  expect(NEWER_THAN_BASH_32.some(([re]) => re.test(unguarded('for x in ${a[@]+"${a[@]}"}; do :; done')))).toBe(false);
});

test('too old a zsh gets one line and nothing installed', () => {
  const r = run('zsh', `ZSH_VERSION=5.2\n${shellFor('zsh').hook(hookPaths('zsh'))}\nprint -r -- "hooked=\${_devenv_hooked-no} fn=\${+functions[_devenv_hook]}"\n`);
  expect(r.stderr).toBe('devenv: the hook needs zsh >= 5.3 (this is 5.2); nothing was loaded\n');
  expect(r.stdout).toBe('hooked=no fn=0\n');
});

test('`devenv hook` serves its text from a private cache, and only while the directory checks out', () => {
  const home = join(dir, 'hook-cache');
  mkdirSync(join(home, 'run'), {recursive: true, mode: 0o700});
  const e = {...process.env, XDG_STATE_HOME: join(home, 'state'), XDG_RUNTIME_DIR: join(home, 'run')};
  const devenv = () => spawnSync(process.execPath, [join(REPO, 'bin', 'run.js'), 'hook', 'bash'], {env: e, encoding: 'utf8'});
  const first = devenv();
  expect(first.status).toBe(0);
  const cache = join(home, 'run', 'devenv', 'shell', 'hook.bash');
  const [key, ...rest] = readFileSync(cache, 'utf8').split('\n');
  expect(rest.join('\n')).toBe(first.stdout);
  // The cache is what the next terminal gets...
  writeFileSync(cache, `${key}\n# cached\n`);
  expect(devenv().stdout).toBe('# cached\n');
  // ...but not once its directory is no longer private, nor under another key.
  chmodSync(join(home, 'run', 'devenv', 'shell'), 0o755);
  expect(devenv().stdout).toBe(first.stdout);
  expect(statSync(join(home, 'run', 'devenv', 'shell')).mode & 0o777).toBe(0o700);
  writeFileSync(cache, `["other key"]\n# cached\n`);
  expect(devenv().stdout).toBe(first.stdout);
});

test('a stamp directory planted by someone else, or through a symlink, is refused', () => {
  const base = join(dir, 'private');
  mkdirSync(base);
  const victim = join(dir, 'victim');
  mkdirSync(join(victim, 'shell'), {recursive: true});
  symlinkSync(victim, join(base, 'devenv'));
  expect(() => ensurePrivateDir(base, 'devenv', 'shell')).toThrow(/refusing to use .*devenv: it is a symlink/);
  rmSync(join(base, 'devenv'));
  writeFileSync(join(base, 'devenv'), '');
  expect(() => ensurePrivateDir(base, 'devenv', 'shell')).toThrow(/not a directory/);
  rmSync(join(base, 'devenv'));
  expect(ensurePrivateDir(base, 'devenv', 'shell')).toBe(join(base, 'devenv', 'shell'));
  expect(statSync(join(base, 'devenv', 'shell')).mode & 0o777).toBe(0o700);
  // Owned by another user (root's /usr, when these tests run unprivileged).
  if (process.getuid!() !== 0) expect(() => ensurePrivateDir('/', 'usr')).toThrow(/belongs to uid 0/);
  expect(readdirSync(join(victim, 'shell'))).toEqual([]);
});

test('a shellHook runs per checkout, with stdenv functions, in real bash; its PATH edits are recorded around the value it got', () => {
  const saved = process.env.XDG_STATE_HOME;
  process.env.XDG_STATE_HOME = join(dir, 'hook-state');
  try {
    const spec = {
      vars: {},
      prepend: {PATH: ['/nix/store/x-tool/bin']},
      shellHook: 'addToSearchPath MY_SEARCH "$PWD/lib"\nexport PATH="$PWD/bin:$PATH:$PWD/last"\nexport VENV="$PWD/.venv" HOME=/elsewhere\nIFS=:\necho "hook in $PWD"',
      bashFunctions: {addToSearchPath: '    export "$1=${!1:+${!1}:}$2"'},
    };
    const a = join(dir, 'checkout-a');
    const b = join(dir, 'checkout-b');
    for (const r of [a, b]) mkdirSync(r, {recursive: true});
    const ea = hookEffects(a, 'k1', spec, {})!;
    expect(ea).toEqual({vars: {MY_SEARCH: join(a, 'lib'), VENV: join(a, '.venv')}, paths: {PATH: {pre: [join(a, 'bin')], post: [join(a, 'last')]}}, output: [`hook in ${a}`]});
    // Same environment, another checkout: its own values, not the first one's.
    expect(hookEffects(b, 'k1', spec, {})!.vars.VENV).toBe(join(b, '.venv'));
    expect(hookEffects(a, 'k1', spec, {})).toEqual(ea);
    const failing = hookEffects(a, 'k2', {...spec, shellHook: 'echo half; false'}, {})!;
    expect(failing.output).toEqual(['half', 'devenv: the shellHook exited with status 1']);
  } finally {
    if (saved === undefined) delete process.env.XDG_STATE_HOME;
    else process.env.XDG_STATE_HOME = saved;
  }
});
