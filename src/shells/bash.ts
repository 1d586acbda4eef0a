// bash (>= 3.2, macOS's /bin/bash): a function in PROMPT_COMMAND (a string, or since 5.1 an
// array). The idle prompt runs only builtins.
import {makeShell} from './common.js';
import {MIN_VERSION, STATE} from './protocol.js';

const [MAJ, MIN] = MIN_VERSION.bash;

export const bash = makeShell(
  'bash',
  (logic) => `# devenv hook for bash: eval "$(devenv hook bash)" in ~/.bashrc
if [ "\${BASH_VERSINFO[0]:-0}" -lt ${MAJ} ] || { [ "\${BASH_VERSINFO[0]}" -eq ${MAJ} ] && [ "\${BASH_VERSINFO[1]}" -lt ${MIN} ]; }; then
printf 'devenv: the hook needs bash >= ${MAJ}.${MIN} (this is %s); nothing was loaded\\n' "\${BASH_VERSION-?}" >&2
elif [[ -z \${_devenv_hooked-} ]]; then
_devenv_hooked=1
# For devenv doctor: which shell (by pid) runs the hook; children inherit it but have another pid.
export ${STATE.hooked}=bash:$$
${logic}
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
fi`,
  (k, v) => `export ${k}=${v}`,
);
