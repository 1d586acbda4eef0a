import {Args} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {listTemplates} from '../project/templates.js';
import {argumentKinds, COMPLETION_SHELLS, type CompletionCommand, completionScript} from '../usecases/completion.js';
import {EXPORT_FORMATS} from '../usecases/export.js';

export default class Autocomplete extends DevenvCommand {
  static summary = 'Print a tab-completion script for bash, zsh or fish';
  static description = "Commands, flags, template names, the project's packages for remove, its tasks for run, its services and processes for up and down (and all three for logs), read from devenv.toml. A TAB runs no devenv process.";
  static examples = ['eval "$(<%= config.bin %> autocomplete bash)"   # in ~/.bashrc', 'eval "$(<%= config.bin %> autocomplete zsh)"    # in ~/.zshrc', '<%= config.bin %> autocomplete fish | source   # in config.fish'];
  static args = {shell: Args.string({ignoreStdin: true, required: true, options: [...COMPLETION_SHELLS], description: 'shell'})};

  async run() {
    const {args} = await this.parse(Autocomplete);
    const kinds = argumentKinds(listTemplates().map((t) => t.name), [...EXPORT_FORMATS]);
    const ids = new Set<string>();
    const cmds: CompletionCommand[] = [];
    for (const c of this.config.commands) {
      if (c.hidden) continue;
      for (const id of [c.id, ...(c.aliases ?? [])]) {
        if (ids.has(id)) continue;
        ids.add(id);
        // Otherwise the choices the command itself declares for its first argument (generate's targets).
        const declared = Object.values(c.args ?? {})[0]?.options;
        cmds.push({id, flags: [...Object.keys(c.flags ?? {}).map((f) => `--${f}`), '--help'], args: kinds[c.id] ?? (declared?.length ? [...declared] : undefined)});
      }
    }
    cmds.sort((a, b) => a.id.localeCompare(b.id));
    process.stdout.write(completionScript(args.shell, cmds));
  }
}
