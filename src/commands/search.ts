import {Args} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {searchProject} from '../usecases/search.js';

export default class Search extends DevenvCommand {
  static summary = "Search the project's pinned nixpkgs for packages";
  static description = 'Runs nix search on the nixpkgs devenv uses for this project (flake.lock, or DEVENV_NIXPKGS); results are cached per pinned nixpkgs.';
  static examples = ['<%= config.bin %> search ripgrep', '<%= config.bin %> search python numpy --json'];
  static strict = false;
  static enableJsonFlag = true;
  static args = {term: Args.string({ignoreStdin: true, required: true, description: 'words (regular expressions) that must all match'})};

  async run() {
    const {argv} = await this.parse(Search);
    const res = await searchProject(this.project(), argv as string[]);
    if (!res.results.length) this.logToStderr(`devenv: nothing matches in ${res.nixpkgs}`);
    for (const r of res.results) this.log(`${r.attr}${r.version ? ` (${r.version})` : ''}${r.description ? `  ${r.description}` : ''}`);
    return res;
  }
}
