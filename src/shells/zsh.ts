// zsh: precmd and chpwd through add-zsh-hook (registering twice is a no-op there).
// Does nothing inside completion (`cd <TAB>` runs chpwd in a subshell: direnv#1109).
import {ansiCQuote} from './quote.js';
import type {Activation, HookPaths, Shell} from './shell.js';
import {posixActivation, posixBlocked, posixCommon} from './posix.js';

export const zsh: Shell = {
  name: 'zsh',
  quote: ansiCQuote,

  hook(p: HookPaths): string {
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
  },

  activationScript(a: Activation, self: string): string {
    return posixActivation('zsh', a, self);
  },

  blocked(root, present, absent, message) {
    return posixBlocked(ansiCQuote, root, present, absent, message);
  },

  unload(message?: string): string {
    return `_devenv_unload${message ? `; printf '%s\\n' ${ansiCQuote(message)} >&2` : ''}`;
  },

  say(message: string): string {
    return `printf '%s\\n' ${ansiCQuote(message)} >&2`;
  },

  load(script: string): string {
    return `_devenv_source ${ansiCQuote(script)}`;
  },

  exportVars(vars) {
    return Object.entries(vars).map(([k, v]) => `export ${k}=${ansiCQuote(v)}`).join('\n') + '\n';
  },
};
