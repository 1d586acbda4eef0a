// One project environment (issue 22.2): a venv, a node install, a dotenv file, a shellHook that
// exports and edits PATH, PostgreSQL and Redis. `exec`, `export json`, `shell`, the bash hook's
// activation (real bash under tmux) and a process started by `up` must all see the same
// variables, PATH entries included, whichever of them runs the shellHook first: the first round
// enters the shell first, the second (after a dotenv edit, which runs the hook again) runs
// `exec` first. Real nix (offline fixture), real servers.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {makeSandbox, type Sandbox} from '../helpers/env.js';
import {ShellSession, waitUntil} from '../helpers/tmux.js';

const EVAL_TIMEOUT = 240_000;

let sb: Sandbox;
let proj: string;
let sh: ShellSession;
let basePath: string[];

// The hook sees the language paths (or not), adds a PATH entry of its own and exports a value.
const HOOK = [
  'case ":$PATH:" in *"/.venv/bin:"*"/node_modules/.bin:"*) HOOK_SAW=languages ;; *) HOOK_SAW=none ;; esac',
  'export HOOK_SAW',
  'export HOOK_GREETING="hi from $(basename "$PWD")"',
  'PATH="$PWD/hookbin:$PATH"',
].join('\n');

const TOML = `name = "envproj"
packages = ["coreutils"]

[env]
FROM_TOML = "toml value"

[dotenv]
files = [".env"]

[languages.python]
version = "3.11"
venv = true

[languages.node]
install = "npm install"

[shell]
hook = ${JSON.stringify(HOOK)}

[services.postgres]

[services.redis]

[processes.dump]
exec = "env -0 > .up-env.tmp && mv .up-env.tmp .up-env && exec sleep 100000"
restart = "never"
`;

const parseEnv0 = (text: string): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const kv of text.split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
};

const ok = (r: ReturnType<Sandbox['devenv']>) => {
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
  return r;
};

/** What the project put on PATH: its entries without the caller's own. */
const projectPath = (path: string | undefined) => (path ?? '').split(':').filter((e) => e && !basePath.includes(e));

type Views = Record<'exec' | 'export' | 'shell' | 'activation' | 'up', Record<string, string>>;

/** Every view limited to the names `export json` lists (what the project sets), PATH as its project entries. */
function comparable(views: Views): Record<string, Record<string, string>> {
  const names = Object.keys(views.export).sort();
  const out: Record<string, Record<string, string>> = {};
  for (const [view, env] of Object.entries(views)) {
    const picked: Record<string, string> = {};
    for (const n of names) picked[n] = n === 'PATH' ? projectPath(env[n]).join(':') : (env[n] ?? '<unset>');
    out[view] = picked;
  }
  return out;
}

const viaExec = () => parseEnv0(ok(sb.devenv(['exec', '--', 'env', '-0'], {cwd: proj, timeout: EVAL_TIMEOUT})).stdout);
const viaExport = () => JSON.parse(ok(sb.devenv(['export', 'json'], {cwd: proj, timeout: EVAL_TIMEOUT})).stdout) as Record<string, string>;
const viaShell = () => parseEnv0(ok(sb.devenv(['shell'], {cwd: proj, input: 'exec env -0\n', env: {SHELL: 'bash'}, timeout: EVAL_TIMEOUT})).stdout);
const viaActivation = () => {
  sh.run(`cd '${proj}'`, EVAL_TIMEOUT);
  return sh.env();
};
const viaUp = () => {
  rmSync(join(proj, '.up-env'), {force: true});
  sb.devenv(['down', 'dump'], {cwd: proj});
  ok(sb.devenv(['up', '-d'], {cwd: proj, timeout: EVAL_TIMEOUT}));
  waitUntil(() => existsSync(join(proj, '.up-env')), 30_000, 'the process to write its environment', () => sb.devenv(['ps'], {cwd: proj}).stdout);
  return parseEnv0(readFileSync(join(proj, '.up-env'), 'utf8'));
};

beforeAll(() => {
  sb = makeSandbox('devenv-envval-');
  proj = join(sb.dir, 'proj');
  mkdirSync(join(proj, 'tools', 'hello-tool'), {recursive: true});
  writeFileSync(join(proj, 'devenv.toml'), TOML);
  // A dependency npm installs offline (a local directory), with a command in node_modules/.bin.
  writeFileSync(join(proj, 'package.json'), JSON.stringify({name: 'envproj', version: '1.0.0', private: true, dependencies: {'hello-tool': 'file:tools/hello-tool'}}) + '\n');
  writeFileSync(join(proj, 'tools', 'hello-tool', 'package.json'), JSON.stringify({name: 'hello-tool', version: '1.0.0', bin: {'hello-tool': 'cli.js'}}) + '\n');
  writeFileSync(join(proj, 'tools', 'hello-tool', 'cli.js'), '#!/usr/bin/env node\nconsole.log("hello");\n', {mode: 0o755});
  // Hostile-ish values: quotes, a dollar, spaces, a newline; never expanded.
  writeFileSync(join(proj, '.env'), 'DOT_VALUE="one \\"two\\" $HOME\\nthree"\n');
  // The local dependency needs no registry: npm is told not to ask one (audit, fund, metadata).
  Object.assign(sb.env, {npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_cache: join(sb.dir, 'npm-cache')});
  ok(sb.devenv(['allow'], {cwd: proj, timeout: EVAL_TIMEOUT}));
  basePath = (sb.env.PATH ?? '').split(':');
  sh = ShellSession.start('bash', {env: {...sb.env, LANG: 'C.UTF-8'}, dir: join(sb.dir, 'session'), cwd: sb.dir});
}, EVAL_TIMEOUT);

afterAll(() => {
  if (sb) sb.devenv(['down'], {cwd: proj});
  sh?.close();
  sb?.cleanup();
});

/** Where a view differs from `export json`: view -> name -> [its value, export's]. */
function disagreements(c: Record<string, Record<string, string>>): Record<string, Record<string, [string, string]>> {
  const out: Record<string, Record<string, [string, string]>> = {};
  for (const [view, vars] of Object.entries(c)) {
    for (const [k, v] of Object.entries(vars)) if (v !== c.export[k]) (out[view] ??= {})[k] = [v, c.export[k]];
  }
  return out;
}

let first: Record<string, Record<string, string>>;

describe('one project environment', () => {
  test('entering the shell first: exec, export json, shell, the activation and an `up` process agree', () => {
    const activation = viaActivation();
    // The language setup runs in the background after the first entry; exec waits for it.
    const exec = viaExec();
    const views: Views = {activation, exec, export: viaExport(), shell: viaShell(), up: viaUp()};
    // The activation was rendered before the setup finished: re-read it once that did.
    views.activation = sh.env();
    first = comparable(views);
    expect(disagreements(first)).toEqual({});
    const e = first.export;
    expect(e.HOOK_SAW).toBe('languages');
    expect(e.HOOK_GREETING).toBe('hi from proj');
    expect(e.DOT_VALUE).toBe('one "two" $HOME\nthree');
    expect(e.FROM_TOML).toBe('toml value');
    expect(e.PGPORT).toMatch(/^\d+$/);
    expect(e.REDIS_URL).toMatch(/^redis:\/\//);
    const path = e.PATH.split(':');
    for (const want of [join(proj, 'hookbin'), join(proj, '.venv', 'bin'), join(proj, 'node_modules', '.bin')]) expect(path).toContain(want);
    // The hook's entry first, then the languages', then the store's.
    expect(path.indexOf(join(proj, 'hookbin'))).toBeLessThan(path.indexOf(join(proj, '.venv', 'bin')));
    expect(ok(sb.devenv(['exec', '--', 'hello-tool'], {cwd: proj})).stdout).toBe('hello\n');
  }, 4 * EVAL_TIMEOUT);

  test('exec first (after a dotenv edit runs the hook again): the same variables as before, in every view', () => {
    expect(first).toBeDefined();
    writeFileSync(join(proj, '.env'), 'DOT_VALUE=second\n');
    // Trust covers the dotenv files; allowing runs nothing of the project (no hook).
    ok(sb.devenv(['allow'], {cwd: proj}));
    const exec = viaExec();
    const views: Views = {exec, export: viaExport(), shell: viaShell(), up: viaUp(), activation: viaActivation()};
    const second = comparable(views);
    // Both at once: which view disagrees, and what changed since the first round (only the dotenv value may).
    const changed = Object.fromEntries(Object.entries(second.export).filter(([k, v]) => k !== 'DOT_VALUE' && v !== first.export[k]).map(([k, v]) => [k, [v, first.export[k]]]));
    expect({disagreements: disagreements(second), sinceFirstRound: changed, dot: second.export.DOT_VALUE}).toEqual({disagreements: {}, sinceFirstRound: {}, dot: 'second'});
  }, 4 * EVAL_TIMEOUT);
});
