import {Flags} from '@oclif/core';
import {DevenvCommand} from '../cli/base.js';
import {gc, gcCheckouts} from '../usecases/gc.js';

export default class Gc extends DevenvCommand {
  static summary = 'Drop cached environments (and their GC roots) not used for a while';
  static description = 'Store paths are freed by the next nix-collect-garbage once their roots are gone. Also reclaims the ports, passwords and service state devenv kept for checkouts (clones, worktrees) that no longer exist.';
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
    const co = await gcCheckouts(res.dryRun);
    for (const r of res.dryRun ? co.running : co.stopped) this.log(`devenv: ${res.dryRun ? 'would stop' : 'stopped'} what the removed checkout ${r.root} still ran: ${r.names.join(', ')}`);
    for (const e of co.errors) this.warn(`could not stop ${e}`);
    if (co.checkouts.length || co.ports.length) this.log(`devenv: ${res.dryRun ? 'would reclaim' : 'reclaimed'} ${co.ports.length} port(s) and the state of ${co.checkouts.length} vanished checkout(s)${co.checkouts.length ? `: ${co.checkouts.join(', ')}` : ''}`);
    return {...res, checkouts: co.checkouts, ports: co.ports, stopped: co.stopped};
  }
}
