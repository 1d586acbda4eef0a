// A process with a port gets <NAME>_PORT; two names must not map to one variable, and none may
// be a variable a service sets (checked at parse time, so every command refuses alike).
import {ManifestError} from '../errors.js';
import {locateKey} from './locate.js';
import {type Manifest, processPortVar, SERVICE_VARS} from './model.js';

/** `<NAME>_PORT` for a process name (web-api -> WEB_API_PORT); defined beside serviceVarOwner. */
export const portVar = processPortVar;

/** The service section whose client variables include `v` (REDIS_PORT: services.redis). */
const serviceSetting = (v: string): string | undefined => {
  const s = Object.entries(SERVICE_VARS).find(([, vars]) => vars.includes(v));
  return s && `[services.${s[0]}]`;
};

export function checkProcessPortVars(m: Manifest, text: string, file: string): void {
  const seen = new Map<string, string>();
  for (const [name, p] of Object.entries(m.processes ?? {})) {
    if (p.port === undefined) continue;
    const v = portVar(name);
    const other = seen.get(v);
    const svc = serviceSetting(v);
    if (!other && !svc) {
      seen.set(v, name);
      continue;
    }
    const loc = locateKey(text, ['processes', name]);
    throw new ManifestError(`processes.${name}: its port variable ${v} is ${other ? `also processes.${other}'s` : `the one ${svc} sets`}; one would silently replace the other`, {
      location: loc ? `${file}:${loc.line}:${loc.col}` : file,
      keyPath: `processes.${name}`,
      hint: `rename [processes.${name}] in ${file}; nothing was changed`,
    });
  }
}
