// fish: a fish_prompt event handler plus --on-variable PWD. Same state machine as bash/zsh;
// PATH-likes are lists in fish, so the revert removes list elements.
import {fishQuote as q} from './quote.js';
import type {Activation, HookPaths, Shell} from './shell.js';

export const fish: Shell = {
  name: 'fish',
  quote: q,

  hook(p: HookPaths): string {
    return `# devenv hook for fish: devenv hook fish | source  (in ~/.config/fish/config.fish)
if not set -q _devenv_hooked
set -g _devenv_hooked 1
# For devenv doctor: which shell (by pid) runs the hook; children inherit it but have another pid.
set -gx DEVENV_HOOK fish:$fish_pid
set -g _devenv_state ${q(p.stateDir)}
set -g _devenv_node ${q(p.nodeBin)}
set -g _devenv_bin ${q(p.devenvBin)}
set -g _devenv_epoch ${q(p.trustEpochFile)}
set -g _devenv_stamp ${q(p.runtimeDir)}/stamp.$fish_pid
set -g _devenv_watch_present
set -g _devenv_watch_absent
set -g _devenv_pwd ''
set -g _devenv_seen ''
set -g _devenv_loaded ''
function _devenv_changed
    for __dv_f in $_devenv_watch_present
        # Unchanged only if strictly older than the stamp (file times are coarse).
        test -e $__dv_f; and test $_devenv_stamp -nt $__dv_f; or return 0
    end
    for __dv_f in $_devenv_watch_absent
        test -e $__dv_f; and return 0
    end
    return 1
end
function _devenv_find_root
    set -l __dv_d $PWD
    set -g _devenv_r ''
    while test -n "$__dv_d"
        if test -f $__dv_d/devenv.toml; or test -f $__dv_d/flake.nix
            set -g _devenv_r $__dv_d
            return
        end
        set __dv_d (string replace -r '/[^/]*$' '' -- $__dv_d)
    end
end
# The old value, and whether it was a shell variable only (exporting it on revert would change env).
function _devenv_remember -a __dv_n
    if set -q $__dv_n
        set -gx __DEVENV_OLD_$__dv_n "$$__dv_n"
        set -qx $__dv_n; or set -gx __DEVENV_LOCAL_$__dv_n 1
    end
end
function _devenv_set -a __dv_n __dv_v
    _devenv_remember $__dv_n
    set -gx $__dv_n $__dv_v
    set -gx DEVENV_VARS (string join ' ' -- $DEVENV_VARS $__dv_n)
end
function _devenv_prepend -a __dv_n __dv_v
    _devenv_remember $__dv_n
    set -gx __DEVENV_ADD_$__dv_n $__dv_v
    set -gx --path $__dv_n (string split : -- $__dv_v) $$__dv_n
    set -gx DEVENV_VARS (string join ' ' -- $DEVENV_VARS $__dv_n)
end
function _devenv_unload
    for __dv_n in (string split ' ' -- "$DEVENV_VARS")
        test -n "$__dv_n"; or continue
        set -l __dv_old __DEVENV_OLD_$__dv_n
        set -l __dv_add __DEVENV_ADD_$__dv_n
        if set -q $__dv_add
            for __dv_e in (string split : -- "$$__dv_add")
                set -l __dv_i (contains -i -- $__dv_e $$__dv_n)
                and set -e -g "$__dv_n""[$__dv_i]"
            end
            if not set -q $__dv_old; and test -z "$$__dv_n"
                set -e -g $__dv_n
            end
            set -e -g $__dv_add
        else if set -q $__dv_old
            set -gx $__dv_n "$$__dv_old"
        else
            set -e -g $__dv_n
        end
        set -e -g $__dv_old
        if set -q __DEVENV_LOCAL_$__dv_n
            set -q $__dv_n; and set -gu $__dv_n $$__dv_n
            set -e -g __DEVENV_LOCAL_$__dv_n
        end
    end
    set -e -g DEVENV_VARS
    set -e -g DEVENV_ROOT
    set -g _devenv_loaded ''
end
function _devenv_touch
    test -d (string replace -r '/[^/]*$' '' -- $_devenv_stamp); or command mkdir -p -m 700 (string replace -r '/[^/]*$' '' -- $_devenv_stamp)
    true >$_devenv_stamp
end
function _devenv_source -a __dv_s
    set -q DEVENV_ROOT; and _devenv_unload
    set -g _devenv_loaded $__dv_s
    source $__dv_s
    _devenv_touch
end
function _devenv_slow
    _devenv_touch
    set -l __dv_code ($_devenv_node $_devenv_bin __hook fish $_devenv_r | string collect)
    if test $pipestatus[1] -eq 0
        eval $__dv_code
    else
        # devenv failed (or was interrupted): retry when a project file or trust changes.
        set -g _devenv_watch_present $_devenv_epoch
        set -g _devenv_watch_absent
        for __dv_f in $_devenv_r/devenv.toml $_devenv_r/flake.nix $_devenv_r/flake.lock
            if test -e $__dv_f
                set -g -a _devenv_watch_present $__dv_f
            else
                set -g -a _devenv_watch_absent $__dv_f
            end
        end
    end
end
function _devenv_hook --on-event fish_prompt
    if test "$PWD" = "$_devenv_pwd"; and not _devenv_changed
        return
    end
    set -g _devenv_pwd $PWD
    _devenv_find_root
    # Outside every project a new directory means new places to watch: go on to rebuild the list.
    if test -n "$_devenv_r" -a "$_devenv_r" = "$_devenv_seen"; and not _devenv_changed
        return
    end
    set -g _devenv_seen $_devenv_r
    if test -z "$_devenv_r"
        if set -q DEVENV_ROOT
            _devenv_unload
            printf 'devenv: unloading\\n' >&2
        end
        # Outside every project: watch for a project file appearing here or above (init, checkout).
        set -g _devenv_watch_present
        set -g _devenv_watch_absent
        set -l __dv_d $PWD
        while test -n "$__dv_d"
            set -a _devenv_watch_absent $__dv_d/devenv.toml $__dv_d/flake.nix
            set __dv_d (string replace -r '/[^/]*$' '' -- $__dv_d)
        end
        return
    end
    set -l __dv_s $_devenv_state/roots$_devenv_r/@devenv@/activate.fish
    if test -f $__dv_s; and source $__dv_s check
        if test "$DEVENV_ROOT" = "$_devenv_r" -a "$_devenv_loaded" = "$__dv_s"; and not test $__dv_s -nt $_devenv_stamp
            _devenv_touch
        else
            _devenv_source $__dv_s
        end
        return
    end
    _devenv_slow
end
function _devenv_on_pwd --on-variable PWD
    status --is-command-substitution; and return
    _devenv_hook
end
end`;
  },

  activationScript(a: Activation, self: string): string {
    // No `return` here: in fish it would return from the function that sources this file
    // (_devenv_hook / _devenv_source), skipping the rest of it. The status of the `if` is the result.
    const lines: string[] = [];
    lines.push(`# devenv activation for ${a.root.replace(/[\r\n]/g, '?')} (fish); rendered by devenv from trusted content. Do not edit.`);
    lines.push('if test "$argv[1]" = check');
    lines.push('    true');
    for (const f of a.watchPresent) if (f !== self) lines.push(`    and test -e ${q(f)}; and test ${q(self)} -nt ${q(f)}`);
    for (const f of a.watchAbsent) lines.push(`    and not test -e ${q(f)}`);
    lines.push('else');
    for (const [k, v] of Object.entries(a.vars)) lines.push(`    _devenv_set ${k} ${q(v)}`);
    for (const [k, entries] of Object.entries(a.prepend)) lines.push(`    _devenv_prepend ${k} ${q(entries.join(':'))}`);
    lines.push(`    set -gx DEVENV_ROOT ${q(a.root)}`);
    lines.push(`    set -g _devenv_watch_present ${a.watchPresent.map(q).join(' ')}`);
    lines.push(`    set -g _devenv_watch_absent ${a.watchAbsent.map(q).join(' ')}`);
    lines.push(`    printf '%s\\n' ${q(a.message)} >&2`);
    lines.push('end');
    return lines.join('\n') + '\n';
  },

  blocked(_root, present, absent, message) {
    return [
      `set -g _devenv_watch_present ${present.map(q).join(' ')}`,
      `set -g _devenv_watch_absent ${absent.map(q).join(' ')}`,
      `printf '%s\\n' ${q(message)} >&2`,
      // A fresh stamp now that node has read the files (file times are coarse).
      '_devenv_touch',
    ].join('\n');
  },

  unload(message?: string): string {
    return `_devenv_unload${message ? `\nprintf '%s\\n' ${q(message)} >&2` : ''}`;
  },

  say(message: string): string {
    return `printf '%s\\n' ${q(message)} >&2`;
  },

  load(script: string): string {
    return `_devenv_source ${q(script)}`;
  },

  exportVars(vars) {
    return Object.entries(vars).map(([k, v]) => `set -gx ${k} ${q(v)}`).join('\n') + '\n';
  },
};
