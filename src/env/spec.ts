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

/** Variables set outright and PATH-like edits: what an activation renders and a process env applies. */
export interface EnvEdits {
  vars: Record<string, string>;
  paths: Record<string, {pre: string[]; post: string[]}>;
}

/**
 * The spec, the project's own variables (`extra`) and what the shellHook did, as edits: later
 * sources win for a plain variable; PATH-likes are the hook's entries around the spec's. Names
 * devenv never touches are left out.
 */
export function envEdits(spec: EnvSpec, extra: Record<string, string> = {}, effects?: HookEffects): EnvEdits {
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries({...spec.vars, ...extra, ...(effects?.vars ?? {})})) if (!NEVER_TOUCH.has(k)) vars[k] = v;
  const paths = pathEdits(spec, effects);
  // Client wrappers of the project's services (redis-cli) come first on PATH.
  const bin = extra.DEVENV_SERVICE_BIN;
  if (bin) paths.PATH = {pre: [bin, ...(paths.PATH?.pre ?? [])], post: paths.PATH?.post ?? []};
  for (const k of Object.keys(paths)) if (NEVER_TOUCH.has(k)) delete paths[k];
  return {vars, paths};
}

/** A process environment: `base` with the edits applied, PATH-likes around the base value. */
export function applyEdits(base: NodeJS.ProcessEnv, {vars, paths}: EnvEdits): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...base, ...vars};
  for (const [k, {pre, post}] of Object.entries(paths)) {
    const old = base[k];
    env[k] = [...pre, ...(old ? [old] : []), ...post].join(':');
  }
  return env;
}

/** base plus the spec, the project's own variables and the shellHook's effects (see envEdits). */
export const applyToEnv = (base: NodeJS.ProcessEnv, spec: EnvSpec, extra: Record<string, string> = {}, effects?: HookEffects): NodeJS.ProcessEnv =>
  applyEdits(base, envEdits(spec, extra, effects));
