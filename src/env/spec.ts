// What an evaluated environment is, independent of any shell, and how to apply it to a
// process environment (exec). The shells render the same spec as scripts.

/** Variables nix prepends to the user's own value instead of replacing it. */
export const PATH_LIKE = ['PATH', 'XDG_DATA_DIRS'];

/** Never set or restored by devenv. */
export const NEVER_TOUCH = new Set(['PWD', 'OLDPWD', 'SHLVL', '_', 'PS1', 'HOME', 'USER', 'LOGNAME', 'TERM', 'SHELL', 'HOSTNAME', 'DISPLAY', 'SSH_AUTH_SOCK', 'TZ', 'LANG']);

export interface EnvSpec {
  /** Plain variables, set outright. */
  vars: Record<string, string>;
  /** PATH-like variables: entries to prepend to the user's value. */
  prepend: Record<string, string[]>;
  /** bash code to run on entry (bash shells only). */
  shellHook?: string;
  /** What shellHook exported when run at evaluation time (for zsh, fish and exec). */
  hookExports?: Record<string, string>;
}

export const isShellName = (k: string): boolean => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k);

/** A process environment: base plus the spec (and hook exports), PATH-likes prepended. */
export function applyToEnv(base: NodeJS.ProcessEnv, spec: EnvSpec, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...base};
  for (const [k, v] of Object.entries(spec.vars)) env[k] = v;
  for (const [k, v] of Object.entries(spec.hookExports ?? {})) env[k] = v;
  for (const [k, entries] of Object.entries(spec.prepend)) {
    const old = base[k];
    env[k] = [...entries, ...(old ? old.split(':') : [])].join(':');
  }
  for (const [k, v] of Object.entries(extra)) env[k] = v;
  // Client wrappers of the project's services (redis-cli) come first on PATH.
  if (extra.DEVENV_SERVICE_BIN) env.PATH = [extra.DEVENV_SERVICE_BIN, ...(env.PATH ? [env.PATH] : [])].join(':');
  return env;
}
