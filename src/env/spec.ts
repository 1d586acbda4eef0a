// What an evaluated environment is, independent of any shell, and how to apply it to a
// process environment (exec). The shells render the same spec as scripts.
import {NEVER_TOUCH, PATH_LIKE} from '../shells/protocol.js';

export {NEVER_TOUCH, PATH_LIKE};

export interface EnvSpec {
  /** Plain variables, set outright. */
  vars: Record<string, string>;
  /** PATH-like variables: entries to prepend to the user's value. */
  prepend: Record<string, string[]>;
  /** bash code run on entry (captured once per checkout: see shell-hook.ts). */
  shellHook?: string;
  /** stdenv's shell functions (addToSearchPath, runHook, ...), name -> body, for the shellHook. */
  bashFunctions?: Record<string, string>;
}

/** What a shellHook did, run in one checkout: variables it set, entries it put around PATH-likes, what it printed. */
export interface HookEffects {
  vars: Record<string, string>;
  paths: Record<string, {pre: string[]; post: string[]}>;
  output: string[];
}

export const isShellName = (k: string): boolean => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k);

/** The PATH-likes an activation sets: devenv's prepends and the hook's edits, per variable. */
export function pathEdits(spec: EnvSpec, effects?: HookEffects): Record<string, {pre: string[]; post: string[]}> {
  const out: Record<string, {pre: string[]; post: string[]}> = {};
  for (const [k, entries] of Object.entries(spec.prepend)) out[k] = {pre: [...entries], post: []};
  for (const [k, e] of Object.entries(effects?.paths ?? {})) {
    const cur = (out[k] ??= {pre: [], post: []});
    cur.pre = [...e.pre, ...cur.pre];
    cur.post = [...cur.post, ...e.post];
  }
  return out;
}

/**
 * A process environment: base plus the spec, the project's own variables (`extra`) and what
 * the shellHook did, PATH-likes around the base value. Names devenv never touches stay as they are.
 */
export function applyToEnv(base: NodeJS.ProcessEnv, spec: EnvSpec, extra: Record<string, string> = {}, effects?: HookEffects): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...base};
  const put = (k: string, v: string) => {
    if (!NEVER_TOUCH.has(k)) env[k] = v;
  };
  for (const [k, v] of Object.entries(spec.vars)) put(k, v);
  for (const [k, v] of Object.entries(extra)) put(k, v);
  for (const [k, v] of Object.entries(effects?.vars ?? {})) put(k, v);
  for (const [k, {pre, post}] of Object.entries(pathEdits(spec, effects))) {
    const old = base[k];
    put(k, [...pre, ...(old ? [old] : []), ...post].join(':'));
  }
  // Client wrappers of the project's services (redis-cli) come first on PATH.
  if (extra.DEVENV_SERVICE_BIN) env.PATH = [extra.DEVENV_SERVICE_BIN, ...(env.PATH ? [env.PATH] : [])].join(':');
  return env;
}
