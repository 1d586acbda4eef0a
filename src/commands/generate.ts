import {Args, Flags} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {generateEnvrc, generateVscode} from '../usecases/editors.js';
import {generateFlake, generateGithubAction} from '../usecases/generate.js';
import {generateDevcontainer} from '../usecases/container.js';

export default class Generate extends DevenvCommand {
  static summary = 'Regenerate flake.nix from devenv.toml, or write editor files (envrc, vscode) or a CI workflow';
  static description =
    'flake: devenv does this by itself while flake.nix is unedited; --force overwrites a flake.nix you edited by hand.\n' +
    'envrc: a .envrc for direnv-based editor plugins that loads `devenv export` (only while devenv trusts the project).\n' +
    'vscode: merges the venv interpreter and the environment PATH into .vscode/settings.json.\n' +
    "github-action: writes .github/workflows/devenv.yml: install Nix, restore the cache, install this devenv from the repository (and commit) it was installed from, run 'devenv test'.\n" +
    "devcontainer: writes .devcontainer/devcontainer.json for the project's shell image (loaded by 'devenv container copy shell engine:' before the container starts).";
  static examples = [
    '<%= config.bin %> generate',
    '<%= config.bin %> generate --force',
    '<%= config.bin %> generate envrc',
    '<%= config.bin %> generate vscode',
    '<%= config.bin %> generate github-action',
    '<%= config.bin %> generate devcontainer',
  ];
  static enableJsonFlag = true;
  static args = {target: Args.string({ignoreStdin: true, options: ['flake', 'envrc', 'vscode', 'github-action', 'devcontainer'], default: 'flake', description: 'what to write'})};
  static flags = {
    force: Flags.boolean({description: 'overwrite a hand-edited flake.nix (or a .envrc or workflow devenv did not write)'}),
    source: Flags.string({description: 'github-action: the git URL[#commit] the workflow installs devenv from (default: the repository and commit this devenv was installed from)'}),
  };

  async run() {
    const {args, flags} = await this.parse(Generate);
    if (args.target === 'envrc') {
      const r = await generateEnvrc(this.cwd(), {force: flags.force});
      this.log(r.result === 'written' ? `devenv: wrote ${r.file}; run 'direnv allow' once for it (devenv's trust still decides what loads)` : `devenv: ${r.file} is up to date`);
      return r;
    }
    if (args.target === 'vscode') {
      const r = await generateVscode(this.cwd());
      this.log(`devenv: set ${r.keys.join(', ')} in ${r.file}`);
      return r;
    }
    if (args.target === 'devcontainer') {
      const r = await generateDevcontainer(this.cwd(), {force: flags.force});
      this.log(r.result === 'written' ? `devenv: wrote ${r.file}` : `devenv: ${r.file} is up to date`);
      return r;
    }
    if (args.target === 'github-action') {
      const r = await generateGithubAction(this.cwd(), {force: flags.force, source: flags.source});
      this.log(r.result === 'written' ? `devenv: wrote ${r.file}` : `devenv: ${r.file} is up to date`);
      if (!/^[a-z+]+:\/\/|^[^/:]+@[^/:]+:/.test(r.source.url)) this.logToStderr(`devenv: the workflow installs devenv from ${r.source.url}, a local path CI cannot reach; name a repository it can with --source <git URL>`);
      return r;
    }
    const {root, result} = await generateFlake(this.cwd(), {force: flags.force});
    this.log(result === 'written' ? 'devenv: flake.nix regenerated' : 'devenv: flake.nix is up to date');
    return {root, result};
  }
}
