// bash: a function in PROMPT_COMMAND (string or, since 5.1, array). The idle prompt runs
// only builtins: a PWD compare and a few -nt tests against this shell's stamp file.
import type {HookPaths, Shell} from './shell.js';
import {posixCommon, posixShell} from './posix.js';

export const bash: Shell = posixShell('bash', (p: HookPaths): string => {
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
fi`;
});
