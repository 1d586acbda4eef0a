// Entry for the hot commands that bin/run.js sends here without loading oclif:
// `exec`, and the hook's internal calls (`__hook`, `__refresh`). Node built-ins only at import.
import {formatError, DevenvError} from './errors.js';
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
      const {hookMiss} = await import('./usecases/hook-miss.js');
      process.stdout.write((await hookMiss(rest[0], rest[1])) + '\n');
      return 0;
    }
    if (cmd === '__setup') {
      const {backgroundSetup} = await import('./usecases/setup.js');
      await backgroundSetup(rest[0]);
      return 0;
    }
    if (cmd === '__refresh') {
      const {refresh} = await import('./usecases/refresh.js');
      await refresh(rest[0], {exclusive: true});
      return 0;
    }
    return 2;
  } catch (e) {
    process.stderr.write(formatError(e) + '\n');
    return e instanceof DevenvError ? e.exitCode : 1;
  }
}
