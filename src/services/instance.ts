// Which copy of a project's services we work on. The developer's own ("dev") keeps its state in
// <root>/.devenv/state and its ports in the user's registry keyed by the checkout's real path;
// `devenv test` uses a throwaway instance: a temp state dir and ports of its own, so it never
// touches the developer's running servers.
import {createHash} from 'node:crypto';
import {join} from 'node:path';
import {runtimeDir} from '../paths.js';
import {realPath} from '../util/fs.js';

export interface Instance {
  /** '' for the developer's instance; otherwise a unique tag (ports and sockets are keyed by it). */
  tag: string;
  /** Where service data and logs live; default <root>/.devenv/state. */
  stateBase?: string;
}

let current: Instance = {tag: process.env.DEVENV_INSTANCE_TAG ?? '', stateBase: process.env.DEVENV_INSTANCE_STATE || undefined};

export const instance = (): Instance => current;

export function setInstance(i: Instance): void {
  current = i;
}

/** The env a child devenv needs to act on the same instance (keepers, `devenv run` inside `test`). */
export function instanceEnv(): Record<string, string> {
  return current.tag ? {DEVENV_INSTANCE_TAG: current.tag, DEVENV_INSTANCE_STATE: current.stateBase ?? ''} : {};
}

export const serviceStateDir = (root: string): string => current.stateBase ?? join(root, '.devenv', 'state');

/** The key ports are recorded under: the checkout's real path, plus the instance's tag. */
export const portKey = (root: string): string => (current.tag ? `${realPath(root)}#${current.tag}` : realPath(root));

/** A short socket dir per (checkout, instance, service): Unix socket paths stop at ~107 bytes. */
export function socketDir(root: string, service: string): string {
  const h = createHash('sha256').update(portKey(root)).digest('hex').slice(0, 12);
  return join(runtimeDir(), `${service === 'postgres' ? 'pg' : service}-${h}`);
}

/** The socket dir of another checkout's developer instance (a seed source). */
export function devSocketDir(otherRoot: string, service: string): string {
  const h = createHash('sha256').update(realPath(otherRoot)).digest('hex').slice(0, 12);
  return join(runtimeDir(), `${service === 'postgres' ? 'pg' : service}-${h}`);
}
