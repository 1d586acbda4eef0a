// Shared hook code for bash and zsh: they differ in indirect expansion, word splitting and
// hook registration; everything else (state machine, revert) is the same text.
import {ansiCQuote as q} from './quote.js';
import type {Activation, HookPaths, Shell} from './shell.js';

type Family = 'bash' | 'zsh';

const ind = (f: Family, name: string): string => (f === 'bash' ? `\${!${name}}` : `\${(P)${name}}`);
const indOr = (f: Family, name: string): string => (f === 'bash' ? `\${!${name}-}` : `\${(P)${name}-}`);
const split = (f: Family, v: string): string => (f === 'bash' ? `\${${v}-}` : `\${=\${${v}-}}`);
const local = (f: Family): string => (f === 'zsh' ? 'emulate -L zsh; ' : '');
/** A test that the variable named by $1 is exported. */
const exported = (f: Family): string => (f === 'bash' ? `\${!1@a} == *x*` : `\${(Pt)1} == *-export*`);
const unexport = (f: Family): string => (f === 'bash' ? 'export -n' : 'typeset -g +x');

/** Functions both shells define: state, change test, root search, apply/revert helpers, the hook. */
export function posixCommon(f: Family, p: HookPaths): string {
  const pathRemove =
    f === 'bash'
      ? `_devenv_path_remove() {
  local __devenv_cur=":\${!1-}:" __devenv_e
  local -a __devenv_list
  IFS=: read -r -a __devenv_list <<< "$2"
  for __devenv_e in "\${__devenv_list[@]}"; do __devenv_cur=\${__devenv_cur/":$__devenv_e:"/:}; done
  __devenv_cur=\${__devenv_cur#:}; __devenv_cur=\${__devenv_cur%:}
  export "$1=$__devenv_cur"
}`
      : `_devenv_path_remove() {
  emulate -L zsh
  local __devenv_cur=":\${(P)1-}:" __devenv_e
  for __devenv_e in "\${(@s.:.)2}"; do __devenv_cur=\${__devenv_cur/":$__devenv_e:"/:}; done
  __devenv_cur=\${__devenv_cur#:}; __devenv_cur=\${__devenv_cur%:}
  export "$1=$__devenv_cur"
}`;
  return `_devenv_state=${q(p.stateDir)}
_devenv_node=${q(p.nodeBin)}
_devenv_bin=${q(p.devenvBin)}
_devenv_epoch=${q(p.trustEpochFile)}
_devenv_stamp=${q(p.runtimeDir)}/stamp.$$
_devenv_watch_present=()
_devenv_watch_absent=()
_devenv_pwd=
_devenv_seen=
_devenv_loaded=
# True when a watched file changed since this shell last looked (builtins only).
_devenv_changed() {
  ${local(f)}local __devenv_f
  for __devenv_f in "\${_devenv_watch_present[@]}"; do
    # Unchanged only if strictly older than the stamp: file times are coarse (a kernel tick),
    # so an edit in the same tick as the stamp has an equal time and must count as a change.
    [[ -e $__devenv_f && $_devenv_stamp -nt $__devenv_f ]] || return 0
  done
  for __devenv_f in "\${_devenv_watch_absent[@]}"; do [[ -e $__devenv_f ]] && return 0; done
  return 1
}
_devenv_find_root() {
  ${local(f)}local __devenv_d=$PWD
  _devenv_r=
  while [[ -n $__devenv_d ]]; do
    if [[ -f $__devenv_d/devenv.toml || -f $__devenv_d/flake.nix ]]; then _devenv_r=$__devenv_d; return; fi
    __devenv_d=\${__devenv_d%/*}
  done
}
# The old value, and whether it was a shell variable only (exporting it on revert would change env).
_devenv_remember() {
  if [[ -v $1 ]]; then
    export "__DEVENV_OLD_$1=${ind(f, '1')}"
    [[ ${exported(f)} ]] || export "__DEVENV_LOCAL_$1=1"
  fi
}
_devenv_set() {
  _devenv_remember "$1"
  export "$1=$2"
  export DEVENV_VARS="\${DEVENV_VARS:+$DEVENV_VARS }$1"
}
_devenv_prepend() {
  _devenv_remember "$1"
  export "__DEVENV_ADD_$1=$2"
  if [[ -n ${indOr(f, '1')} ]]; then export "$1=$2:${ind(f, '1')}"; else export "$1=$2"; fi
  export DEVENV_VARS="\${DEVENV_VARS:+$DEVENV_VARS }$1"
}
${pathRemove}
# Exact revert: old values back, unset what was unset; PATH-likes lose only devenv's entries.
_devenv_unload() {
  # The user's IFS must not change how the list of names splits.
  ${local(f)}local __devenv_n __devenv_old __devenv_add IFS=' '
  for __devenv_n in ${split(f, 'DEVENV_VARS')}; do
    __devenv_old=__DEVENV_OLD_$__devenv_n
    __devenv_add=__DEVENV_ADD_$__devenv_n
    if [[ -v $__devenv_add ]]; then
      _devenv_path_remove "$__devenv_n" "${ind(f, '__devenv_add')}"
      if [[ ! -v $__devenv_old && -z ${indOr(f, '__devenv_n')} ]]; then unset "$__devenv_n"; fi
      unset "$__devenv_add"
    elif [[ -v $__devenv_old ]]; then
      export "$__devenv_n=${ind(f, '__devenv_old')}"
    else
      unset "$__devenv_n"
    fi
    unset "$__devenv_old"
    if [[ -v __DEVENV_LOCAL_$__devenv_n ]]; then
      if [[ -v $__devenv_n ]]; then ${unexport(f)} "$__devenv_n"; fi
      unset "__DEVENV_LOCAL_$__devenv_n"
    fi
  done
  unset DEVENV_VARS DEVENV_ROOT
  _devenv_loaded=
}
_devenv_touch() { [[ -d \${_devenv_stamp%/*} ]] || command mkdir -p -m 700 "\${_devenv_stamp%/*}"; : >| "$_devenv_stamp"; }
_devenv_source() {
  [[ -n \${DEVENV_ROOT-} ]] && _devenv_unload
  _devenv_loaded=$1
  source "$1"
  _devenv_touch
}
_devenv_block() {
  _devenv_watch_present=("$@")
}
_devenv_slow() {
  local __devenv_code
  _devenv_touch
  if __devenv_code=$("$_devenv_node" "$_devenv_bin" __hook ${f} "$_devenv_r"); then
    eval "$__devenv_code"
  else
    # devenv failed (or was interrupted): retry when a project file or trust changes.
    local __devenv_f
    _devenv_watch_present=("$_devenv_epoch"); _devenv_watch_absent=()
    for __devenv_f in "$_devenv_r/devenv.toml" "$_devenv_r/flake.nix" "$_devenv_r/flake.lock"; do
      if [[ -e $__devenv_f ]]; then _devenv_watch_present+=("$__devenv_f"); else _devenv_watch_absent+=("$__devenv_f"); fi
    done
  fi
}
_devenv_hook() {
  local __devenv_rc=$?
  ${f === 'zsh' ? 'emulate -L zsh\n  [[ -n ${compstate+x} ]] && return $__devenv_rc' : ''}
  if [[ $PWD == "$_devenv_pwd" ]] && ! _devenv_changed; then return $__devenv_rc; fi
  _devenv_pwd=$PWD
  local _devenv_r
  _devenv_find_root
  # Outside every project a new directory means new places to watch: go on to rebuild the list.
  if [[ -n $_devenv_r && $_devenv_r == "$_devenv_seen" ]] && ! _devenv_changed; then return $__devenv_rc; fi
  _devenv_seen=$_devenv_r
  if [[ -z $_devenv_r ]]; then
    if [[ -n \${DEVENV_ROOT-} ]]; then _devenv_unload; printf 'devenv: unloading\\n' >&2; fi
    # Outside every project: watch for a project file appearing here or above (init, checkout).
    _devenv_watch_present=(); _devenv_watch_absent=()
    local __devenv_d=$PWD
    while [[ -n $__devenv_d ]]; do
      _devenv_watch_absent+=("$__devenv_d/devenv.toml" "$__devenv_d/flake.nix")
      __devenv_d=\${__devenv_d%/*}
    done
    return $__devenv_rc
  fi
  local __devenv_s=$_devenv_state/roots$_devenv_r/@devenv@/activate.${f}
  if [[ -f $__devenv_s ]] && source "$__devenv_s" check; then
    if [[ \${DEVENV_ROOT-} == "$_devenv_r" && $_devenv_loaded == "$__devenv_s" && ! $__devenv_s -nt $_devenv_stamp ]]; then
      _devenv_touch
    else
      _devenv_source "$__devenv_s"
    fi
    return $__devenv_rc
  fi
  _devenv_slow
  return $__devenv_rc
}`;
}

/** The activation script: `source it check` tests freshness; `source it` applies. */
export function posixActivation(f: Family, a: Activation, self: string): string {
  const lines: string[] = [];
  lines.push(`# devenv activation for ${a.root.replace(/[\r\n]/g, '?')} (${f}); rendered by devenv from trusted content. Do not edit.`);
  lines.push(`if [[ \${1-} == check ]]; then`);
  // Fresh only if this script is strictly newer than each input (equal times are ambiguous).
  for (const file of a.watchPresent) if (file !== self) lines.push(`  [[ -e ${q(file)} && ${q(self)} -nt ${q(file)} ]] || return 99`);
  for (const file of a.watchAbsent) lines.push(`  [[ -e ${q(file)} ]] && return 99`);
  lines.push('  return 0');
  lines.push('fi');
  for (const [k, v] of Object.entries(a.vars)) lines.push(`_devenv_set ${k} ${q(v)}`);
  for (const [k, entries] of Object.entries(a.prepend)) lines.push(`_devenv_prepend ${k} ${q(entries.join(':'))}`);
  lines.push(`export DEVENV_ROOT=${q(a.root)}`);
  lines.push(`_devenv_watch_present=(${a.watchPresent.map(q).join(' ')})`);
  lines.push(`_devenv_watch_absent=(${a.watchAbsent.map(q).join(' ')})`);
  lines.push(`printf '%s\\n' ${q(a.message)} >&2`);
  if (f === 'bash' && a.shellHook) {
    lines.push('# shellHook');
    lines.push(a.shellHook);
  }
  lines.push('return 0');
  return lines.join('\n') + '\n';
}

export function posixBlocked(quote: (s: string) => string, _root: string, present: string[], absent: string[], message: string): string {
  return [
    `_devenv_watch_present=(${present.map(quote).join(' ')})`,
    `_devenv_watch_absent=(${absent.map(quote).join(' ')})`,
    `printf '%s\\n' ${quote(message)} >&2`,
    // Node has read the files by now: a fresh stamp, so an edit made in the same clock tick
    // as the earlier one does not count as a change again (file times are coarse).
    '_devenv_touch',
  ].join('\n');
}

/** bash and zsh differ only in their hook text; quoting, activation and snippets are shared. */
export function posixShell(f: Family, hook: (p: HookPaths) => string): Shell {
  const say = (message: string): string => `printf '%s\\n' ${q(message)} >&2`;
  return {
    name: f,
    quote: q,
    hook,
    activationScript: (a, self) => posixActivation(f, a, self),
    blocked: (root, present, absent, message) => posixBlocked(q, root, present, absent, message),
    unload: (message) => `_devenv_unload${message ? `; ${say(message)}` : ''}`,
    say,
    load: (script) => `_devenv_source ${q(script)}`,
    exportVars: (vars) => Object.entries(vars).map(([k, v]) => `export ${k}=${q(v)}`).join('\n') + '\n',
  };
}
