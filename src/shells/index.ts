import {UsageError} from '../errors.js';
import {bash} from './bash.js';
import {fish} from './fish.js';
import type {Shell, ShellName} from './shell.js';
import {SHELL_NAMES} from './shell.js';
import {zsh} from './zsh.js';

const SHELLS: Record<ShellName, Shell> = {bash, zsh, fish};

export function shellFor(name: string): Shell {
  const s = SHELLS[name as ShellName];
  if (!s) throw new UsageError(`unknown shell '${name}'`, `supported shells: ${SHELL_NAMES.join(', ')}`);
  return s;
}

export {SHELL_NAMES};
export type {Shell, ShellName};
