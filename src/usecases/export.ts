// `devenv export <format>`: the project's environment for editors, CI and scripts, through
// the same shell modules as the hook (direnv's targets are the model).
import {randomBytes} from 'node:crypto';
import {NotAllowedError, UsageError} from '../errors.js';
import {baseEnv} from '../env/shell-hook.js';
import type {Project} from '../project/project.js';
import {projectEnvironment} from '../services/environment.js';
import {shellFor} from '../shells/index.js';

export const EXPORT_FORMATS = ['json', 'dotenv', 'gha', 'bash', 'zsh', 'fish'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The variables the project sets, PATH-likes already prepended to the current value. */
export async function projectVariables(p: Project, opts: {requireTrust?: boolean} = {}): Promise<Record<string, string>> {
  const {root} = p;
  if (opts.requireTrust) {
    const {checkTrust} = await import('../trust/trust.js');
    const t = checkTrust(p);
    if (!t.trusted) throw new NotAllowedError(root, t.state === 'denied' ? 'is denied' : t.state === 'changed' ? 'changed since it was allowed' : 'is not allowed');
  }
  const {ensureEnvironment} = await import('../evaluation/evaluate.js');
  const {entry} = await ensureEnvironment(p, {progress: true});
  const base = baseEnv();
  const env = (await projectEnvironment(p, entry)).toProcessEnv(base);
  // Only what the project changed: the rest is the caller's own environment.
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== base[k]) out[k] = v;
  out.DEVENV_ROOT = root;
  return out;
}

/**
 * Double quotes with \\, ", $ and ` escaped: inert when sourced by sh (`set -a; . ./.env`, no
 * command or variable substitution whatever the value) and read back verbatim by dotenv parsers.
 */
const dotenvQuote = (v: string): string => `"${v.replace(/[\\"$`]/g, (c) => `\\${c}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;

export function formatVariables(vars: Record<string, string>, format: string): string {
  switch (format) {
    case 'json':
      return JSON.stringify(vars, null, 2) + '\n';
    case 'dotenv':
      return Object.entries(vars).map(([k, v]) => `${k}=${dotenvQuote(v)}`).join('\n') + '\n';
    case 'gha':
      // $GITHUB_ENV syntax; a heredoc with a random delimiter carries any value, newlines included.
      return Object.entries(vars)
        .map(([k, v]) => {
          const delim = `DEVENV_${randomBytes(8).toString('hex')}`;
          return `${k}<<${delim}\n${v}\n${delim}`;
        })
        .join('\n') + '\n';
    case 'bash':
    case 'zsh':
    case 'fish':
      return shellFor(format).exportVars(vars);
    default:
      throw new UsageError(`unknown export format '${format}'`, `formats: ${EXPORT_FORMATS.join(', ')}`);
  }
}
