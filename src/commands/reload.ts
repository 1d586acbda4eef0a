import {Flags} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {reloadProject} from '../usecases/refresh.js';

export default class Reload extends DevenvCommand {
  static summary = 'Re-evaluate the project now, ignoring the cache';
  static examples = ['<%= config.bin %> reload', '<%= config.bin %> reload --strict'];
  static enableJsonFlag = true;
  static flags = {strict: Flags.boolean({description: 'fail instead of keeping the last good environment'})};

  async run() {
    const {flags} = await this.parse(Reload);
    const res = await reloadProject(this.cwd(), {strict: flags.strict});
    this.log(res.source === 'fallback' ? 'devenv: evaluation failed; still using the last good environment' : `devenv: evaluated ${res.root} in ${(res.durationMs / 1000).toFixed(1)}s`);
    return res;
  }
}
