import {Args} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {projectServicesAt, stopServices} from '../usecases/services.js';

export default class Down extends DevenvCommand {
  static aliases = ['services:down'];
  static summary = "Stop the project's services";
  static description = 'A fast, clean shutdown (open transactions roll back, committed data stays), then whatever is left of the process group is killed. Needs no Nix evaluation. Servers of other projects are never touched.';
  static examples = ['<%= config.bin %> down', '<%= config.bin %> down postgres', '<%= config.bin %> down --json'];
  static strict = false;
  static enableJsonFlag = true;
  static args = {service: Args.string({description: 'service(s) to stop (default: all)', ignoreStdin: true})};

  async run() {
    const {argv} = await this.parse(Down);
    const {root, services} = await projectServicesAt(this.cwd(), argv as string[], {running: true});
    const results = await stopServices(services, (r) => this.log([`${r.name}: ${r.stopped ? `stopped (pid ${r.pid})` : 'not running'}`, ...r.steps.map((x) => `  ${x}`)].join('\n')));
    return {root, services: results};
  }
}
