import {Flags} from '@oclif/core';
import {DevenvCommand} from '../../cli/base.js';
import {cachePush} from '../../usecases/cache.js';

export default class CachePush extends DevenvCommand {
  static summary = "Copy the environment's closure and the flake's sources to a binary cache, signed with your key";
  static description = `Uses nix copy (file://, http(s)://, s3://, ssh://, ssh-ng://). Binary caches are signed with your key from 'devenv cache key generate'.
S3 credentials come from the standard AWS variables, read by nix alone.`;
  static examples = ['<%= config.bin %> cache push --to file:///mnt/share/nix-cache', '<%= config.bin %> cache push   # to [cache] push'];
  static enableJsonFlag = true;
  static flags = {
    to: Flags.string({description: 'store URL (default: [cache] push in devenv.toml)'}),
    key: Flags.string({description: 'signing key name (default: your only key)'}),
  };

  async run() {
    const {flags} = await this.parse(CachePush);
    const r = await cachePush(this.project(), {to: flags.to, key: flags.key});
    const line = (what: string, c: {total: number; copied: number; already: number}) => `  ${what}: ${c.copied} path(s) copied, ${c.already} already there (${c.total} in all)`;
    this.log(`devenv: pushed to ${r.to}${r.signedBy ? `, signed by ${r.signedBy}` : ' (unsigned: the store must trust you)'}`);
    this.log(line('environment', r.environment));
    this.log(line('flake sources', r.inputs));
    return r;
  }
}
