import {fileURLToPath} from 'node:url';
import {runtimeDir, stateDir} from '../paths.js';
import {shellFor} from '../shells/index.js';
import {trustEpochFile} from './render.js';

/** The hook for a shell, with absolute paths so the prompt path never searches PATH. */
export function hookText(shell: string): string {
  return shellFor(shell).hook({
    devenvBin: fileURLToPath(new URL('../../bin/run.js', import.meta.url)),
    nodeBin: process.execPath,
    stateDir: stateDir(),
    runtimeDir: runtimeDir(),
    trustEpochFile: trustEpochFile(),
  });
}
