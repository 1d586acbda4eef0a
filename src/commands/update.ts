import {DevenvCommand} from '../cli/base.js';
import {updateProject} from '../usecases/refresh.js';
import {describeReload} from './reload.js';

export default class Update extends DevenvCommand {
  static summary = "Update flake.lock (nix flake update), then re-evaluate";
  static examples = ['<%= config.bin %> update'];
  static enableJsonFlag = true;

  async run() {
    await this.parse(Update);
    const res = await updateProject(this.project());
    this.log(res.note ?? 'devenv: flake.lock updated');
    this.log(describeReload(res));
    return res;
  }
}
