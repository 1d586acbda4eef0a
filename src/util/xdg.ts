// The user's XDG base dirs. Kept apart from paths.ts (and free of heavy built-ins such as
// crypto) because the new-terminal path, built as CommonJS, needs only this.
import {homedir} from 'node:os';
import {join} from 'node:path';

/** An XDG base dir: the variable when it is an absolute path, else the spec's default under $HOME. */
export function xdg(varName: string, fallback: string): string {
  const v = process.env[varName];
  return v && v.startsWith('/') ? v : join(homedir(), fallback);
}

/**
 * Where shells keep their stamp files: $XDG_RUNTIME_DIR/devenv/shell, else the user's state
 * dir; never a shared /tmp path another user could create first (see ensurePrivateDir).
 */
export function stampDirs(): [base: string, ...parts: string[]][] {
  const r = process.env.XDG_RUNTIME_DIR;
  const state: [string, ...string[]] = [xdg('XDG_STATE_HOME', '.local/state'), 'devenv', 'shell'];
  return r && r.startsWith('/') ? [[r, 'devenv', 'shell'], state] : [state];
}
