import {Flags} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {reloadProject} from '../usecases/refresh.js';

/** One line for reload and update: what was evaluated, and how long it took. */
export function describeReload(res: {root: string; source: string; elapsedMs: number; trusted: boolean; failed?: {message: string; hint?: string; since: string}}): string {
  const line =
    res.source === 'fallback'
      ? `devenv: evaluating ${res.root} failed; still using the last good environment (from ${res.failed?.since ?? 'before'}):` +
        (res.failed ? `\n  ${res.failed.message.split('\n').join('\n  ')}${res.failed.hint ? `\n  hint: ${res.failed.hint}` : ''}` : '')
      : `devenv: evaluated ${res.root} in ${(res.elapsedMs / 1000).toFixed(1)}s`;
  // An explicit command needs no allow, but it does not allow the project either.
  return res.trusted ? line : `${line}\ndevenv: not allowed, so shells do not load it on cd; 'devenv allow' trusts it`;
}

export default class Reload extends DevenvCommand {
  static summary = 'Re-evaluate the project now, ignoring the cache';
  static examples = ['<%= config.bin %> reload', '<%= config.bin %> reload --strict'];
  static enableJsonFlag = true;
  static flags = {strict: Flags.boolean({description: 'fail instead of keeping the last good environment'})};

  async run() {
    const {flags} = await this.parse(Reload);
    const res = await reloadProject(this.cwd(), {strict: flags.strict});
    this.log(describeReload(res));
    return res;
  }
}
