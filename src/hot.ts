// Entry for the hot commands that bin/run.js sends here without loading oclif:
// `exec`, and the hook's internal calls (`__hook`, `__refresh`). Node built-ins only at import.
import {presentError} from './cli/present.js';
import {currentDir} from './usecases/cwd.js';

export async function runHot(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === 'exec') {
      const args = rest[0] === '--' ? rest.slice(1) : rest;
      const {execInEnv} = await import('./usecases/exec.js');
      return await execInEnv({cwd: currentDir(), argv: args});
    }
    if (cmd === '__hook') {
      const {blockedAfterError, hookMiss} = await import('./usecases/hook-miss.js');
      try {
        process.stdout.write((await hookMiss(rest[0], rest[1])) + '\n');
      } catch (e) {
        if (!rest[1]) throw e;
        presentError(e);
        // Said once: the shell evaluates the block code and waits for an edit before asking again.
        process.stdout.write(blockedAfterError(rest[0], rest[1]) + '\n');
      }
      return 0;
    }
    if (cmd === '__refresh') {
      const {refresh} = await import('./usecases/refresh.js');
      await refresh(rest[0], {exclusive: true});
      return 0;
    }
    return 2;
  } catch (e) {
    return presentError(e);
  }
}
