// What a shellHook does depends on where it runs (`$PWD/.venv`), so it runs once per checkout
// and environment, in bash, with stdenv's functions defined as under `nix develop`; every
// shell, `exec` and `export` then apply the same recorded effects. PATH-likes are recorded as
// the entries the hook put before and after the value it was given, so the revert can take
// exactly those out again.
import {spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {rmSync} from 'node:fs';
import {join} from 'node:path';
import type {Project} from '../project/project.js';
import {envNameProblem, NEVER_TOUCH, PATH_LIKE, PREFIX, STATE} from '../shells/protocol.js';
import {ansiCQuote} from '../shells/quote.js';
import {readMemo, writeFileAtomic, writeMemo} from '../util/fs.js';
import {applyToEnv, type EnvSpec, type HookEffects, isShellName} from './spec.js';

const MAX_OUTPUT_LINES = 20;
const isPathLike = (k: string) => PATH_LIKE.includes(k) || /(PATH|_DIRS)$/.test(k);
const isState = (k: string) => k === STATE.root || k === STATE.vars || k === STATE.hooked || k.startsWith('DEVENV_') || Object.values(PREFIX).some((p) => k.startsWith(p));

/** Remove the first (or last) occurrence of each entry from a ':' list. */
function strip(value: string, pre: string[], post: string[]): string {
  const list = value.split(':');
  for (const e of pre) {
    const i = list.indexOf(e);
    if (i >= 0) list.splice(i, 1);
  }
  for (const e of post) {
    const i = list.lastIndexOf(e);
    if (i >= 0) list.splice(i, 1);
  }
  return list.join(':');
}

/**
 * The environment a process starts from with a loaded project's activation taken back out,
 * as the shell's unload would (protocol.ts): `devenv exec` inside a loaded project applies
 * the environment once, not on top of itself.
 */
export function baseEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {...env};
  for (const n of (env[STATE.vars] ?? '').split(' ').filter(Boolean)) {
    const cur = env[n];
    const pre = env[PREFIX.pre + n];
    if (pre !== undefined || env[PREFIX.post + n] !== undefined) {
      if (cur !== undefined && cur === env[PREFIX.now + n]) out[n] = env[PREFIX.old + n];
      else if (cur !== undefined) out[n] = strip(cur, (pre ?? '').split(':').filter(Boolean), (env[PREFIX.post + n] ?? '').split(':').filter(Boolean));
    } else if (cur !== undefined && cur === env[PREFIX.now + n]) out[n] = env[PREFIX.old + n];
    if (out[n] === undefined) delete out[n];
  }
  for (const k of Object.keys(out)) if (isState(k) && !['DEVENV_NIXPKGS', 'DEVENV_STRICT', 'DEVENV_DEBUG', STATE.hooked].includes(k)) delete out[k];
  return out;
}

/** `after` = pre + `before` + post, split on ':' boundaries; undefined when `before` is not inside. */
export function splitAround(before: string, after: string): {pre: string[]; post: string[]} | undefined {
  for (let i = after.indexOf(before); i >= 0; i = after.indexOf(before, i + 1)) {
    const end = i + before.length;
    if ((i === 0 || after[i - 1] === ':') && (end === after.length || after[end] === ':')) {
      const fields = (s: string) => s.split(':').filter(Boolean);
      return {pre: fields(after.slice(0, i)), post: fields(after.slice(end))};
    }
  }
  return undefined;
}

export function diffEnv(before: NodeJS.ProcessEnv, after: Record<string, string>, refused: string[] = []): Omit<HookEffects, 'output'> {
  const out: Omit<HookEffects, 'output'> = {vars: {}, paths: {}};
  for (const [k, v] of Object.entries(after)) {
    if (!isShellName(k) || NEVER_TOUCH.has(k) || isState(k) || before[k] === v) continue;
    // The names [env] and dotenv files may not set are not taken from a shellHook either.
    const why = envNameProblem(k, 'shellHook');
    if (why) {
      refused.push(`devenv: the shellHook exported ${k}; not applied: ${why}`);
      continue;
    }
    const b = before[k];
    const around = b && isPathLike(k) ? splitAround(b, v) : undefined;
    if (around) out.paths[k] = around;
    else out.vars[k] = v;
  }
  return out;
}

function run(p: Project, spec: EnvSpec, env: NodeJS.ProcessEnv): HookEffects {
  const {root} = p;
  const fns = Object.entries(spec.bashFunctions ?? {}).map(([n, body]) => `${n} ()\n{\n${body}\n}`);
  const script = [
    ...fns,
    `{ eval ${ansiCQuote(spec.shellHook!)}; } </dev/null 1>&2`,
    '__devenv_status=$?; set +eu; IFS=$\' \\t\\n\'',
    'printf "%s\\0" "$__devenv_status"',
    // Builtins only (BSD env has no -0; bash 3.2 has compgen and ${!n}).
    'for __devenv_n in $(compgen -e); do printf "%s=%s\\0" "$__devenv_n" "${!__devenv_n}"; done',
  ].join('\n');
  const file = join(p.stateDir, `shell-hook.${process.pid}.sh`);
  const output: string[] = [];
  try {
    writeFileAtomic(file, script, 0o600);
    const res = spawnSync('bash', ['--noprofile', '--norc', file], {cwd: root, env: {...env, PWD: root}, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024});
    const printed = (res.stderr ?? '').replace(/\n$/, '');
    if (printed) {
      const lines = printed.split('\n');
      output.push(...lines.slice(0, MAX_OUTPUT_LINES), ...(lines.length > MAX_OUTPUT_LINES ? [`... (${lines.length - MAX_OUTPUT_LINES} more lines)`] : []));
    }
    if (res.error || res.status !== 0 || !res.stdout) {
      output.push(`devenv: the shellHook did not finish (${res.error ? res.error.message : `bash exited ${res.status ?? res.signal}`}); its variables are not applied`);
      return {vars: {}, paths: {}, output};
    }
    const [status, ...kvs] = res.stdout.split('\0');
    if (status !== '0') output.push(`devenv: the shellHook exited with status ${status}`);
    const after: Record<string, string> = {};
    for (const kv of kvs) {
      const i = kv.indexOf('=');
      if (i > 0) after[kv.slice(0, i)] = kv.slice(i + 1);
    }
    const refused: string[] = [];
    const effects = diffEnv(env, after, refused);
    return {...effects, output: [...output, ...refused]};
  } finally {
    rmSync(file, {force: true});
  }
}

/**
 * The shellHook's effects in the project's checkout for the cache entry `key` (memoized per
 * checkout: a clone or worktree at another path runs its own). `extra` is the project's own
 * variables, which the hook sees; `also`, what else the hook's result depends on (what language
 * setup made so far: a hook may source .venv/bin/activate). Undefined when there is no shellHook.
 */
export function hookEffects(p: Project, key: string, spec: EnvSpec, extra: Record<string, string>, also = ''): HookEffects | undefined {
  if (!spec.shellHook) return undefined;
  const {root, real} = p;
  const env = applyToEnv(baseEnv(), spec, {...extra, [STATE.root]: root});
  const digest = createHash('sha256').update(JSON.stringify([key, real, root, spec.shellHook, spec.prepend, extra, also])).digest('hex');
  const memo = join(p.stateDir, 'shell-hook.json');
  const known = readMemo<HookEffects>(memo, digest);
  if (known) return known;
  const effects = run(p, spec, env);
  try {
    writeMemo(memo, digest, effects);
  } catch {
    // A read-only state dir: the hook runs again next time, which is all it costs.
  }
  return effects;
}
