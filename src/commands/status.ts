import {DevenvCommand} from '../cli/base.js';
import {projectStatus} from '../usecases/status.js';
import {statusLines} from '../cli/views.js';

export default class Status extends DevenvCommand {
  static summary = "Show the project's root, trust, cache freshness, last evaluation, services and watcher";
  static examples = ['<%= config.bin %> status', '<%= config.bin %> status --json'];
  static enableJsonFlag = true;

  async run() {
    await this.parse(Status);
    const s = await projectStatus(this.cwd());
    for (const l of statusLines(s)) this.log(l);
    return s;
  }
}
