// fish (>= 3.1): a fish_prompt event handler plus --on-variable PWD (which also fires on
// `cd .`, fish keeping no OLDPWD). Two helpers stand in for what fish spells differently:
// _devenv_put (PATH-named variables are lists) and _devenv_nt (`test -nt` only since 3.6).
import {makeShell} from './common.js';
import {FISH_BUILTIN_NT, MIN_VERSION, STATE} from './protocol.js';

const atLeast = (v: readonly number[]) => `__devenv_at_least ${v[0]} ${v[1]}`;

export const fish = makeShell(
  'fish',
  (logic) => `# devenv hook for fish: devenv hook fish | source  (in ~/.config/fish/config.fish)
function __devenv_at_least -a maj min
    set -l v (string split . -- $version)
    test "$v[1]" -gt $maj 2>/dev/null; or begin; test "$v[1]" -eq $maj 2>/dev/null; and test (string replace -r '[^0-9].*' '' -- "$v[2]") -ge $min 2>/dev/null; end
end
if not ${atLeast(MIN_VERSION.fish)}
    printf 'devenv: the hook needs fish >= ${MIN_VERSION.fish.join('.')} (this is %s); nothing was loaded\\n' $version >&2
else if not set -q _devenv_hooked
set -g _devenv_hooked 1
# For devenv doctor: which shell (by pid) runs the hook; children inherit it but have another pid.
set -gx ${STATE.hooked} fish:$fish_pid
function _devenv_put -a __devenv_n __devenv_v
    if string match -q -- '*PATH' $__devenv_n
        set -gx $__devenv_n (string split : -- "$__devenv_v")
    else
        set -gx $__devenv_n "$__devenv_v"
    end
end
if ${atLeast(FISH_BUILTIN_NT)}
    set -g _devenv_nt_builtin 1
    function _devenv_nt
        test $argv[1] -nt $argv[2]
    end
else
    function _devenv_nt
        command test $argv[1] -nt $argv[2]
    end
end
${logic}
function _devenv_prompt --on-event fish_prompt
    _devenv_hook
end
function _devenv_on_pwd --on-variable PWD
    status --is-command-substitution; and return
    set -g _devenv_pwd ''
    _devenv_hook
end
end
functions -e __devenv_at_least`,
  (k, v) => `set -gx ${k} ${v}`,
);
