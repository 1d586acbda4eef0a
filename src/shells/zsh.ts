// zsh (>= 5.3): precmd and chpwd through add-zsh-hook (registering twice is a no-op there).
// Does nothing inside completion (`cd <TAB>` runs chpwd in a subshell: direnv#1109).
import {makeShell} from './common.js';
import {MIN_VERSION, STATE} from './protocol.js';

const min = MIN_VERSION.zsh.join('.');

export const zsh = makeShell(
  'zsh',
  (logic) => `# devenv hook for zsh: eval "$(devenv hook zsh)" in ~/.zshrc
autoload -Uz is-at-least
if ! is-at-least ${min}; then
print -ru2 -- "devenv: the hook needs zsh >= ${min} (this is $ZSH_VERSION); nothing was loaded"
elif [[ -z \${_devenv_hooked-} ]]; then
_devenv_hooked=1
# For devenv doctor: which shell (by pid) runs the hook; children inherit it but have another pid.
export ${STATE.hooked}=zsh:$$
${logic}
_devenv_chpwd() {
(( ZSH_SUBSHELL )) && return 0
[[ -n \${compstate+x} ]] && return 0
_devenv_hook
}
autoload -Uz add-zsh-hook
add-zsh-hook precmd _devenv_hook
add-zsh-hook chpwd _devenv_chpwd
fi`,
  (k, v) => `export ${k}=${v}`,
);
