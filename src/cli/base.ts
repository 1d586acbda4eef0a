// Shared command behaviour. Errors are not printed here: bin/run.js hands everything oclif
// throws (parse errors too, which never reach a command) to src/cli/present.ts.
import {Command} from '@oclif/core';
import {currentDir, openProject, type Project} from '../usecases/cwd.js';

export abstract class DevenvCommand extends Command {
  protected async catch(err: Error): Promise<unknown> {
    throw err;
  }

  /** The real cwd, spelled as the user's $PWD when that names the same directory (see currentDir). */
  protected cwd(): string {
    return currentDir();
  }

  /**
   * The project around `dir` (default: the cwd), opened once here and passed to the use case;
   * NotAProjectError outside every project.
   */
  protected project(dir?: string): Project {
    return openProject(dir ?? this.cwd());
  }
}
