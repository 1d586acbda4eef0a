// Shared command behaviour: DevenvError -> message with hint on stderr and its exit code.
import {Command} from '@oclif/core';
import {DevenvError, formatError} from '../errors.js';
import {currentDir} from '../usecases/cwd.js';

export abstract class DevenvCommand extends Command {
  protected async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (err instanceof DevenvError) {
      if (this.jsonEnabled()) this.logJson({ok: false, ...err.toJSON()});
      else process.stderr.write(formatError(err) + '\n');
      return this.exit(err.exitCode);
    }
    return super.catch(err);
  }

  /** The real cwd, spelled as the user's $PWD when that names the same directory (see currentDir). */
  protected cwd(): string {
    return currentDir();
  }
}
