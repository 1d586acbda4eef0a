import {Args} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {downLine} from '../cli/views.js';
import {ServiceError} from '../errors.js';
import {downAt, type StopResult} from '../usecases/services.js';

export default class Down extends DevenvCommand {
  static aliases = ['services:down'];
  static summary = "Stop the project's services and processes";
  static description = 'In reverse dependency order. A clean shutdown of each, then whatever is left of its process group is killed: nothing of the project keeps running. Needs no Nix evaluation. Servers of other projects and checkouts are never touched.';
  static examples = ['<%= config.bin %> down', '<%= config.bin %> down postgres', '<%= config.bin %> down --json'];
  static strict = false;
  static enableJsonFlag = true;
  static args = {name: Args.string({description: 'services or processes to stop (default: all)', ignoreStdin: true})};

  async run() {
    const {argv} = await this.parse(Down);
    const show = (r: StopResult) => this.jsonEnabled() || this.log(downLine(r));
    const {root, services, errors} = await downAt(this.cwd(), argv as string[], show);
    if (errors.length) throw new ServiceError(`could not stop everything:\n    ${errors.join('\n    ')}`, "see 'devenv ps'");
    return {root, services};
  }
}
