// What language setup adds to a project's environment at activation: the venv (VIRTUAL_ENV,
// .venv/bin first on PATH) and node_modules/.bin. Data only, fed into the env spec; the venv
// and node_modules are made by languages/setup.ts, outside the prompt. Built-ins only.
import {join} from 'node:path';
import type {EnvSpec} from '../env/spec.js';
import {activationConfig} from './dotenv.js';

export const VENV_DIR = '.venv';

/**
 * What the language setup made (relative to the root): the shells watch these too, so a deleted
 * .venv or node_modules is set up again at the next prompt, not only by the next exec.
 */
export function setupTargetNames(root: string): string[] {
  const c = activationConfig(root);
  return [...(c.python?.venv ? [join(VENV_DIR, 'pyvenv.cfg')] : []), ...(c.node?.install ? ['node_modules'] : [])];
}

export function languageEnv(root: string): {vars: Record<string, string>; path: string[]} {
  const c = activationConfig(root);
  const vars: Record<string, string> = {};
  const path: string[] = [];
  if (c.python?.venv) {
    vars.VIRTUAL_ENV = join(root, VENV_DIR);
    path.push(join(root, VENV_DIR, 'bin'));
  }
  if (c.node) path.push(join(root, 'node_modules', '.bin'));
  return {vars, path};
}

/** The spec with the project's language paths in front (the venv's python before nix's). */
export function withLanguages(spec: EnvSpec, root: string): EnvSpec {
  const {vars, path} = languageEnv(root);
  if (!path.length && !Object.keys(vars).length) return spec;
  return {...spec, vars: {...spec.vars, ...vars}, prepend: {...spec.prepend, PATH: [...path, ...(spec.prepend.PATH ?? [])]}};
}
