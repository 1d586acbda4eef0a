import {Args, Flags} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {resolve} from 'node:path';
import {initProject} from '../usecases/init.js';

export default class Init extends DevenvCommand {
  static summary = 'Create devenv.toml and flake.nix from templates';
  static description = 'Templates compose: `devenv init python postgres` is the same as `devenv init python-postgres`. Existing files are never overwritten without --force. The new project is allowed, since you created it.';
  static examples = ['<%= config.bin %> init python-postgres', '<%= config.bin %> init python postgres --dir ./api', '<%= config.bin %> init --force minimal'];
  static strict = false;
  static enableJsonFlag = true;
  static args = {template: Args.string({ignoreStdin: true, description: 'template(s) to compose (see `devenv templates`); default: minimal'})};
  static flags = {
    force: Flags.boolean({description: 'overwrite existing devenv.toml and flake.nix'}),
    dir: Flags.string({description: 'project directory', default: '.'}),
    name: Flags.string({description: 'project name (default: the directory name)'}),
  };

  async run() {
    const {argv, flags} = await this.parse(Init);
    const res = initProject({dir: resolve(this.cwd(), flags.dir), templates: argv as string[], force: flags.force, name: flags.name});
    this.log(`devenv: created ${res.written.map((f) => f.slice(res.root.length + 1)).join(', ')} in ${res.root} (${res.templates.join(' + ')})`);
    if (res.gitTracked) this.log('devenv: marked them with git add --intent-to-add (git status shows them)');
    this.log("next: 'devenv exec -- <cmd>', or cd in with the shell hook ('devenv hook --help')");
    return res;
  }
}
