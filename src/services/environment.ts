// The project's environment, assembled in one place: the evaluated spec (print-dev-env) with
// the language paths in front (.venv/bin, node_modules/.bin), the project's own variables
// ([env], each service's client variables from its registry entry, process ports, dotenv
// files) and what the shellHook did in this checkout, run once with all of the above. exec,
// export, shell, the activation scripts, the services' tools, the processes `up` starts and
// language setup all take it from here, so none can see another environment than the rest.
// It lives beside the services because they need it (their tools) and it needs them (their
// variables). Built-ins only at import (exec's warm path).
import {join} from 'node:path';
import type {CacheEntry} from '../cache/entries.js';
import {baseEnv, hookEffects} from '../env/shell-hook.js';
import {applyEdits, type EnvEdits, type EnvSpec, envEdits, type HookEffects} from '../env/spec.js';
import {VENV_DIR, withLanguages} from '../project/languages.js';
import type {Project} from '../project/project.js';
import {exists} from '../util/fs.js';
import {projectEnv} from './project-env.js';

export interface ProjectEnvironment {
  readonly root: string;
  /** The evaluated spec with the language paths and VIRTUAL_ENV. */
  readonly spec: EnvSpec;
  /** [env], the services' and processes' variables, DEVENV_STATE, then the dotenv files. */
  readonly own: Record<string, string>;
  /** What the shellHook did in this checkout (undefined without one). */
  readonly effects?: HookEffects;
  /** A process environment: `base` (the caller's, a loaded project taken out) with the project's applied. */
  toProcessEnv(base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** What the activation scripts set: plain variables and PATH-like edits. */
  toActivation(): EnvEdits;
}

/** The environment of `project` for its cache entry `entry` (current or last good). */
export async function projectEnvironment(project: Project, entry: Pick<CacheEntry, 'key' | 'spec'>): Promise<ProjectEnvironment> {
  const root = project.root;
  const spec = withLanguages(entry.spec, project);
  const own = await projectEnv(project);
  // The hook runs again once setup made (or lost) a venv or node_modules (two stats, with a hook only).
  const made = spec.shellHook ? [join(root, VENV_DIR, 'pyvenv.cfg'), join(root, 'node_modules')].map((f) => (exists(f) ? '1' : '0')).join('') : '';
  const effects = hookEffects(project, entry.key, spec, own, made);
  const activation = envEdits(spec, own, effects);
  const processEdits = envEdits(spec, {...own, DEVENV_ROOT: root}, effects);
  return {
    root,
    spec,
    own,
    effects,
    toProcessEnv: (base = baseEnv()) => applyEdits(base, processEdits),
    toActivation: () => activation,
  };
}
