// zsh: precmd and chpwd through add-zsh-hook (registering twice is a no-op there).
// Does nothing inside completion (`cd <TAB>` runs chpwd in a subshell: direnv#1109).
import type {HookPaths, Shell} from './shell.js';
import {posixCommon, posixShell} from './posix.js';

export const zsh: Shell = posixShell('zsh', (p: HookPaths): string => {
  return `# devenv hook for zsh: eval "$(devenv hook zsh)" in ~/.zshrc
if [[ -z \${_devenv_hooked-} ]]; then
_devenv_hooked=1
# For devenv doctor: which shell (by pid) runs the hook; children inherit it but have another pid.
export DEVENV_HOOK=zsh:$$
${posixCommon('zsh', p)}
_devenv_chpwd() {
(( ZSH_SUBSHELL )) && return 0
[[ -n \${compstate+x} ]] && return 0
_devenv_hook
}
autoload -Uz add-zsh-hook
add-zsh-hook precmd _devenv_hook
add-zsh-hook chpwd _devenv_chpwd
fi`;
});
