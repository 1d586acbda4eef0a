// The shell protocol, declared once: the variables a loaded shell carries, their prefixes,
// the names devenv never touches, where stamps live and what the hook prints. bash, zsh and
// fish implement it (src/shells/logic.ts, written once over src/shells/dialect.ts); node
// reads and writes the same names. No imports: the manifest, env and hot path use it.

/** Exported state: a subshell inherits it and can unload too. */
export const STATE = {
  /** Root of the loaded project. */
  root: 'DEVENV_ROOT',
  /** Space-separated names of the variables the loaded project set. */
  vars: 'DEVENV_VARS',
  /** `<shell>:<pid>` of the shell that installed the hook (for `devenv doctor`). */
  hooked: 'DEVENV_HOOK',
} as const;

/**
 * Per-variable revert records, `<prefix><NAME>`. The revert is defined on what devenv added:
 * OLD is the value before entry (absent: it was unset), NEW the value right after loading
 * (a user edit inside shows as a difference), PRE/POST the PATH-like entries devenv and the
 * shellHook put before and after the user's own value, LOCAL that the old value was a shell
 * variable only.
 */
export const PREFIX = {
  old: '__DEVENV_OLD_',
  now: '__DEVENV_NEW_',
  pre: '__DEVENV_PRE_',
  post: '__DEVENV_POST_',
  local: '__DEVENV_LOCAL_',
} as const;

/** Variables nix prepends to the user's value instead of replacing it. */
export const PATH_LIKE = ['PATH', 'XDG_DATA_DIRS'];

/** Set by the login, the terminal or the shell itself: devenv never sets or restores them. */
export const NEVER_TOUCH = new Set(['PWD', 'OLDPWD', 'SHLVL', '_', 'PS1', 'HOME', 'USER', 'LOGNAME', 'TERM', 'SHELL', 'HOSTNAME']);

/** Where a variable comes from: devenv.toml's [env], a dotenv file, or what a shellHook exported. */
export type EnvSource = 'env' | 'dotenv' | 'shellHook';

/**
 * Exact names a project may not set, each with the reason shown, and the sources it applies to
 * (all when none are named). One list for [env], dotenv files and shellHook exports.
 */
const RESERVED: [string[], string, EnvSource[]?][] = [
  // A shellHook may put entries around PATH (as under nix develop); [env] and dotenv replace it.
  [['PATH'], 'devenv builds PATH from `packages`; add the package instead', ['env', 'dotenv']],
  [['XDG_DATA_DIRS'], 'devenv builds XDG_DATA_DIRS from `packages`; add the package instead', ['env', 'dotenv']],
  [['VIRTUAL_ENV'], 'devenv sets it for [languages.python] (its venv)', ['dotenv']],
  [[...NEVER_TOUCH], 'it belongs to your login, terminal or shell, and devenv never changes it'],
  [['PROMPT_COMMAND', 'PS0', 'PROMPT', 'RPROMPT', 'RPS1', 'PS2', 'PS3', 'PS4', 'precmd_functions', 'preexec_functions', 'chpwd_functions', 'periodic_functions', 'zshexit_functions'],
    'the shell runs it at every prompt: setting it would remove the devenv hook (the project could never unload)'],
  [['UID', 'EUID', 'GID', 'EGID', 'PPID', 'USERNAME', 'GROUPS', 'BASHPID', 'BASH_VERSINFO', 'BASHOPTS', 'SHELLOPTS', 'RANDOM', 'SECONDS', 'LINENO', 'HISTCMD', 'EPOCHSECONDS', 'EPOCHREALTIME', 'SRANDOM', 'ZSH_SUBSHELL', 'ERRNO', 'TTYIDLE', 'IFS', 'FPATH', 'OPTIND', 'OPTARG', 'COLUMNS', 'LINES'],
    'a special variable of bash or zsh: assigning it is refused, or changes the shell itself (in zsh, UID calls setuid)'],
  [['status', 'pipestatus', 'argv', 'hostname', 'version', 'FISH_VERSION', 'fish_pid', 'last_pid', 'history', 'umask', 'CMD_DURATION', 'COLUMNS', 'LINES', 'SHLVL', 'fish_kill_signal', 'status_generation', 'fish_private_mode', 'path', 'fpath', 'cdpath', 'manpath', 'module_path', 'psvar'],
    "a read-only or special variable of fish or zsh"],
  [['name', 'system', 'builder', 'outputs', 'out', 'shellHook', 'packages', 'buildInputs', 'nativeBuildInputs', 'propagatedBuildInputs', 'propagatedNativeBuildInputs', 'inputsFrom', 'args', 'stdenv', 'passthru', 'meta', 'env', 'phases', 'src', 'srcs', 'patches', 'preferLocalBuild', 'allowSubstitutes', 'impureEnvVars', 'requiredSystemFeatures', 'allowedReferences', 'allowedRequisites', 'disallowedReferences', 'disallowedRequisites', 'exportReferencesGraph', 'passAsFile', 'outputHash', 'outputHashAlgo', 'outputHashMode', 'strictDeps'],
    'an attribute of the nix derivation, not an environment variable', ['env']],
];

/** Patterns of names a project may not set (and the sources, all when none are named). */
const RESERVED_PATTERNS: [RegExp, string, EnvSource[]?][] = [
  [/^(DEVENV_|__DEVENV_|_devenv_)/i, "reserved for devenv's own state"],
  [/^__/, 'names starting with __ are nix derivation attributes', ['env']],
  [/Phase$|^(pre|post)[A-Z].*$/, 'a stdenv build phase or hook, not an environment variable', ['env']],
  [/^(BASH_(?!ENV$)|fish_|__fish)/, 'a variable bash or fish uses for itself'],
];

const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Why `name` cannot be set by `[env]` (or a dotenv file, or a shellHook export), or undefined
 * when it can. One list for the manifest, dotenv files, the shellHook, the activation and exec:
 * what passes here is applied exactly, in every shell.
 */
export function envNameProblem(name: string, source: EnvSource = 'env'): string | undefined {
  if (!SHELL_NAME.test(name)) return 'environment variable names are letters, digits and _, not starting with a digit';
  for (const [names, why, only] of RESERVED) if (names.includes(name) && (!only || only.includes(source))) return why;
  for (const [re, why, only] of RESERVED_PATTERNS) if (re.test(name) && (!only || only.includes(source))) return why;
  return undefined;
}

/** Per-shell files (stamps) live in `<runtime dir>/shell/`: created 0700 by devenv, checked owned and not a symlink. */
export const STAMP = {
  dir: 'shell',
  /** `stamp.<pid>`: its mtime is when the shell last looked at its watched files. */
  file: (pid: string): string => `stamp.${pid}`,
} as const;

/** Lines the hook prints on stderr; tests and users read them. */
export const MARK = {
  loading: 'devenv: loading',
  unloading: 'devenv: unloading',
  interrupted: 'devenv: interrupted; `cd .` tries again',
} as const;

/** Oldest shells the hook runs on; older ones get one line and nothing loaded. */
export const MIN_VERSION = {bash: [3, 2], zsh: [5, 3], fish: [3, 1]} as const;

/** fish before 3.6 has no `test -nt`: the hook then calls test(1), one process per check. */
export const FISH_BUILTIN_NT = [3, 6] as const;

/** Exit status of `source activate.<shell> check` when the script is stale. */
export const STALE = 99;

/** Scratch names the generated code uses; fish has no dynamic scoping, so they are globals there. */
export const VAR = {
  root: '_devenv_r',
  pairs: '_devenv_pairs',
  present: '_devenv_present',
  absent: '_devenv_absent',
} as const;

/** The hook's own functions and the activation's undo of [shell] aliases and functions. */
export const DEF_UNDO = '_devenv_undo_defs';

// Names a [shell] alias or function may not take: the shells' keywords and builtins (the hook
// and users' scripts call them: `printf`, `test`, `set`, `string`...), the functions a shell
// calls by name at prompts and events, and devenv's own.
const SHELL_WORDS = [
  // keywords of bash, zsh and fish
  'if', 'then', 'else', 'elif', 'fi', 'case', 'esac', 'for', 'select', 'while', 'until', 'do', 'done', 'in', 'function', 'time', 'coproc',
  'foreach', 'repeat', 'end', 'begin', 'not', 'and', 'or', 'switch', 'nocorrect', '[[', ']]', '!', '{', '}',
  // builtins of bash
  '.', ':', '[', 'alias', 'bg', 'bind', 'break', 'builtin', 'caller', 'cd', 'command', 'compgen', 'complete', 'compopt', 'continue', 'declare', 'dirs', 'disown',
  'echo', 'enable', 'eval', 'exec', 'exit', 'export', 'false', 'fc', 'fg', 'getopts', 'hash', 'help', 'history', 'jobs', 'kill', 'let', 'local', 'logout',
  'mapfile', 'popd', 'printf', 'pushd', 'pwd', 'read', 'readarray', 'readonly', 'return', 'set', 'shift', 'shopt', 'source', 'suspend', 'test', 'times',
  'trap', 'true', 'type', 'typeset', 'ulimit', 'umask', 'unalias', 'unset', 'wait',
  // builtins of zsh
  'autoload', 'bindkey', 'chdir', 'emulate', 'functions', 'integer', 'float', 'noglob', 'print', 'rehash', 'setopt', 'unsetopt', 'unfunction', 'unhash',
  'whence', 'where', 'which', 'zcompile', 'zle', 'zmodload', 'zparseopts', 'zstyle', 'compdef', 'add-zsh-hook', 'is-at-least', 'r',
  // builtins of fish
  'abbr', 'argparse', 'block', 'commandline', 'contains', 'count', 'fish_indent', 'math', 'random', 'realpath', 'status', 'string', 'path', 'vared', 'isatty',
  // functions a shell calls by name
  'precmd', 'preexec', 'chpwd', 'periodic', 'zshaddhistory', 'zshexit', 'command_not_found_handle', 'command_not_found_handler', 'prompt', 'cdpath',
  // what the hook runs
  'devenv', 'node',
];

/**
 * Why `name` cannot be a [shell] alias or function, or undefined when it can: a name that would
 * break the shell, the hook or devenv's own code (refused at parse time with file:line).
 */
export function defNameProblem(name: string): string | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) return 'names are letters, digits, _ . and -, not starting with a digit, . or -';
  if (SHELL_WORDS.includes(name)) return 'a keyword, builtin or special function of bash, zsh or fish: redefining it breaks the shell or the hook';
  if (/^_?_?devenv/i.test(name)) return "reserved for devenv's own hook";
  if (/^(fish_|__fish|_?TRAP|prompt_|_zsh|__zsh|_comp|compinit|_main_complete)/.test(name)) return 'a function bash, zsh or fish calls itself (prompt, completion, traps)';
  return undefined;
}
