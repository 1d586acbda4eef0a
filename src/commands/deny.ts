import {existsSync} from 'node:fs';
import {resolve} from 'node:path';
import {Args} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {denyProject, forgetDeleted} from '../usecases/deny.js';

export default class Deny extends DevenvCommand {
  static aliases = ['trust:deny'];
  static summary = 'Stop trusting a project; shells inside it unload at their next prompt';
  static examples = ['<%= config.bin %> deny', '<%= config.bin %> deny ~/src/app'];
  static enableJsonFlag = true;
  static args = {dir: Args.string({ignoreStdin: true, description: 'project directory (default: the current one)'})};

  async run() {
    const {args} = await this.parse(Deny);
    const res = args.dir && !existsSync(resolve(args.dir)) ? forgetDeleted(args.dir) : denyProject(this.project(args.dir));
    this.log(res.missing ? `devenv: forgot ${res.root} (the directory is gone)` : `devenv: denied ${res.root}`);
    return res;
  }
}
