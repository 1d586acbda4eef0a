// One interface, one module per shell. The hook text keeps the prompt path inside the shell;
// activation scripts are rendered ahead of time by devenv from trusted content only.

/** What an activation applies, shell-neutral. */
export interface Activation {
  root: string;
  /** Set outright (old value or unset-ness is recorded for the exact revert). */
  vars: Record<string, string>;
  /** PATH-like: entries prepended; on revert only these entries are removed. */
  prepend: Record<string, string[]>;
  /** bash code run on entry (bash only; other shells get `vars` that include what it exported). */
  shellHook?: string;
  /** Files whose change makes this activation stale: must exist / must not exist. */
  watchPresent: string[];
  watchAbsent: string[];
  /** Shown on stderr when loading: "devenv: loading ~/app (python3 3.11)". */
  message: string;
}

export interface HookPaths {
  /** Absolute path of the devenv launcher the hook calls on a miss. */
  devenvBin: string;
  /** node binary to run it with (avoids PATH lookups and shebang cost). */
  nodeBin: string;
  /** $XDG_STATE_HOME/devenv: activation scripts live under roots<abs path>/@devenv@/. */
  stateDir: string;
  /** Directory for per-shell stamp files. */
  runtimeDir: string;
  /** Touched by allow/deny so every shell re-checks. */
  trustEpochFile: string;
}

export interface Shell {
  readonly name: ShellName;
  /** The text users eval from their rc file. */
  hook(paths: HookPaths): string;
  /** A literal that evaluates to exactly `value` in this shell. */
  quote(value: string): string;
  /** The script sourced on entry. Called with `check` as its first argument, it only tests freshness. */
  activationScript(a: Activation, self: string): string;
  /** Code telling the shell it sits in a blocked project: watch these files, stay unloaded. */
  blocked(root: string, watchPresent: string[], watchAbsent: string[], message: string): string;
  /** Code that reverts the current activation (if any), optionally printing a message. */
  unload(message?: string): string;
  /** Code that prints a message on stderr. */
  say(message: string): string;
  /** Code that sources a rendered activation script. */
  load(script: string): string;
  /** `export`-style dump of a whole environment, for `devenv export <shell>`. */
  exportVars(vars: Record<string, string>): string;
}

export type ShellName = 'bash' | 'zsh' | 'fish';
export const SHELL_NAMES: ShellName[] = ['bash', 'zsh', 'fish'];
