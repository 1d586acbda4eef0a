import {Flags} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {gc} from '../usecases/gc.js';

export default class Gc extends DevenvCommand {
  static summary = 'Drop cached environments (and their GC roots) not used for a while';
  static description = 'Store paths are freed by the next nix-collect-garbage once their roots are gone.';
  static examples = ['<%= config.bin %> gc', '<%= config.bin %> gc --older-than 7d --dry-run'];
  static enableJsonFlag = true;
  static flags = {
    'older-than': Flags.string({description: 'age like 30d, 12h, 2w', default: '30d'}),
    'dry-run': Flags.boolean({description: 'only say what would be removed'}),
  };

  async run() {
    const {flags} = await this.parse(Gc);
    const res = gc(flags['older-than'], flags['dry-run']);
    const verb = res.dryRun ? 'would remove' : 'removed';
    this.log(`devenv: ${verb} ${res.removed.length} cached environment(s) (${(res.bytes / 1024).toFixed(0)} KiB of cache and their GC roots); kept ${res.kept}`);
    return res;
  }
}
