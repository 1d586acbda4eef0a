// A Shell from a dialect and its registration text: everything but registration is shared.
import {dialect} from './dialect.js';
import {activationScript, blockedCode, hookLogic, loadCode, loadInlineCode, retryCode, unloadCode} from './logic.js';
import type {HookPaths, Shell, ShellName} from './shell.js';

export function makeShell(name: ShellName, wrap: (logic: string, p: HookPaths) => string, exportLine: (k: string, quoted: string) => string): Shell {
  const d = dialect(name);
  return {
    name,
    quote: d.q,
    hook: (p) => wrap(hookLogic(d, p).join('\n'), p),
    activationScript: (a, self) => activationScript(d, a, self),
    blocked: (present, absent, message) => blockedCode(d, present, absent, message),
    unload: (message) => unloadCode(d, message),
    say: (message) => d.say(d.q(message)),
    load: (script) => loadCode(d, script),
    loadInline: (text) => loadInlineCode(d, text),
    retry: () => retryCode(d),
    exportVars: (vars) => Object.entries(vars).map(([k, v]) => exportLine(k, d.q(v))).join('\n') + '\n',
  };
}
