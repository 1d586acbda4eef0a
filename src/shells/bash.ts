// bash: a function in PROMPT_COMMAND (string or, since 5.1, array). The idle prompt runs
// only builtins: a PWD compare and a few -nt tests against this shell's stamp file.
import {ansiCQuote} from './quote.js';
import type {Activation, HookPaths, Shell} from './shell.js';
import {posixActivation, posixBlocked, posixCommon} from './posix.js';

export const bash: Shell = {
  name: 'bash',
  quote: ansiCQuote,

  hook(p: HookPaths): string {
    const q = ansiCQuote;
    return `# devenv hook for bash: eval "$(devenv hook bash)" in ~/.bashrc
if [[ -z \${_devenv_hooked-} ]]; then
_devenv_hooked=1
# For devenv doctor: which shell (by pid) runs the hook; children inherit it but have another pid.
export DEVENV_HOOK=bash:$$
${posixCommon('bash', p)}
_devenv_install() {
  local __devenv_pc
  if [[ "$(declare -p PROMPT_COMMAND 2>/dev/null)" == "declare -a"* ]]; then
    for __devenv_pc in "\${PROMPT_COMMAND[@]}"; do [[ $__devenv_pc == _devenv_hook ]] && return; done
    PROMPT_COMMAND=(_devenv_hook "\${PROMPT_COMMAND[@]}")
  else
    case ";\${PROMPT_COMMAND-};" in *";_devenv_hook;"*) return ;; esac
    PROMPT_COMMAND="_devenv_hook\${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
  fi
}
_devenv_install
fi
: ${q('')}`;
  },

  activationScript(a: Activation, self: string): string {
    return posixActivation('bash', a, self);
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
