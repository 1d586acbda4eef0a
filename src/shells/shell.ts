// One interface, one module per shell. The hook text keeps the prompt path inside the shell;
// activation scripts are rendered ahead of time by devenv from trusted content only.
import type {Watched} from './logic.js';

/** What an activation applies, shell-neutral. */
export interface Activation {
  root: string;
  /** Set outright (the old value, or that there was none, is recorded for the revert). */
  vars: Record<string, string>;
  /** PATH-likes: entries put before and after the user's own value (devenv's and the shellHook's). */
  paths: Record<string, {pre: string[]; post: string[]}>;
  /** Inputs whose change makes this activation stale (the script itself included). */
  watch: Watched[];
  /** Files whose appearance makes it stale. */
  watchAbsent: string[];
  /** Store paths the environment needs: gone (nix-collect-garbage) means stale. */
  storePaths: string[];
  /** Truncated on every load: its mtime tells `devenv gc` the cache entry is in use. */
  usedMarker?: string;
  /** Shown on stderr when loading: "devenv: loading ~/app (python3 3.11)". */
  message: string;
  /** Further lines shown on loading (what the shellHook printed). */
  notes?: string[];
  /** [shell] aliases and functions (bash/zsh bodies; `fish`: fish bodies given separately). */
  defs?: {aliases: Record<string, string>; functions: Record<string, string>; fish: Record<string, string>};
  /** [services] auto-start: where shells inside mark themselves (`<shell>-<pid>` files). */
  autoStart?: {shellsDir: string};
}

export interface HookPaths {
  /** Absolute path of the devenv launcher the hook calls on a miss. */
  devenvBin: string;
  /** node binary to run it with (avoids PATH lookups and shebang cost). */
  nodeBin: string;
  /** $XDG_STATE_HOME/devenv: activation scripts live under roots<abs path>/@devenv@/. */
  stateDir: string;
  /** Private directory (0700, ours, not a symlink) for per-shell stamp files. */
  stampDir: string;
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
  blocked(present: string[], absent: string[], message: string): string;
  /** Code that reverts the current activation (if any), optionally printing a message. */
  unload(message?: string): string;
  /** Code that prints a message on stderr. */
  say(message: string): string;
  /** Code that sources a rendered activation script. */
  load(script: string): string;
  /** Code that applies an activation script's text directly (when it could not be written). */
  loadInline(scriptText: string): string;
  /** Code that makes the next prompt ask devenv again. */
  retry(): string;
  /** `export`-style dump of a whole environment, for `devenv export <shell>`. */
  exportVars(vars: Record<string, string>): string;
}

export type ShellName = 'bash' | 'zsh' | 'fish';
export const SHELL_NAMES: ShellName[] = ['bash', 'zsh', 'fish'];
