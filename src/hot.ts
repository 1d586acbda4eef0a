// Entry for the hot commands that bin/run.js sends here without loading oclif:
// `exec`, the hook's internal calls (`__hook`, `__refresh`) and the plain spellings of ps,
// status, down, logs and up -d (cli/light.ts). Node built-ins only at import.
import {presentError} from './cli/present.js';
import {MARK} from './shells/protocol.js';
import {currentDir} from './usecases/cwd.js';

const LIGHT = ['ps', 'status', 'down', 'logs', 'up'];

/** The exit code; undefined for a spelling of ps/status/down/logs/up left to oclif (cli/light.ts). */
export async function runHot(argv: string[]): Promise<number | undefined> {
  const [cmd, ...rest] = argv;
  try {
    if (LIGHT.includes(cmd)) {
      const {runLight} = await import('./cli/light.js');
      return await runLight(argv);
    }
    if (cmd === 'exec') {
      const args = rest[0] === '--' ? rest.slice(1) : rest;
      const {execInEnv} = await import('./usecases/exec.js');
      return await execInEnv({cwd: currentDir(), argv: args});
    }
    if (cmd === 'hook') {
      const {hookText} = await import('./activation/hook-text.js');
      process.stdout.write(hookText(rest[0]));
      return 0;
    }
    if (cmd === '__hook') {
      // Ctrl-C while nix evaluates: say so once (the shell's function is cut short with us) and
      // print no code; nix.ts stops its children, then we are done. Not cached: `cd .` retries.
      let interrupted = false;
      process.on('SIGINT', () => {
        if (!interrupted) process.stderr.write(`\n${MARK.interrupted}\n`);
        interrupted = true;
        process.exitCode = 130; // hookMiss: the interruption has been reported
        setTimeout(() => process.exit(130), 1500);
      });
      const {blockedAfterError, hookMiss} = await import('./usecases/hook-miss.js');
      try {
        const code = await hookMiss(rest[0], rest[1]);
        if (interrupted) return 130;
        process.stdout.write(code + '\n');
      } catch (e) {
        if (interrupted) return 130;
        if (!rest[1]) throw e;
        presentError(e);
        // Said once: the shell evaluates the block code and waits for an edit before asking again.
        process.stdout.write(blockedAfterError(rest[0], rest[1]) + '\n');
      }
      return 0;
    }
    if (cmd === '__setup') {
      const {backgroundSetup} = await import('./usecases/setup.js');
      await backgroundSetup(rest[0]);
      return 0;
    }
    if (cmd === '__autostart') {
      const {autoStart} = await import('./usecases/autostart.js');
      await autoStart(rest[0]);
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
