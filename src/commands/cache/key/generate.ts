import {Flags} from '@oclif/core';
import {DevenvCommand} from '../../../cli/base.js';
import {cacheKeyGenerate} from '../../../usecases/cache.js';

export default class CacheKeyGenerate extends DevenvCommand {
  static summary = 'Make a signing key pair for your binary cache and print the public key';
  static description = 'The secret key stays in ~/.config/devenv/cache-keys (mode 0600); put the public key into [cache] trusted-public-keys.';
  static examples = ['<%= config.bin %> cache key generate', '<%= config.bin %> cache key generate --name cache.example.org-1'];
  static enableJsonFlag = true;
  static flags = {
    name: Flags.string({description: 'key name (default: <hostname>-1)'}),
  };

  async run() {
    const {flags} = await this.parse(CacheKeyGenerate);
    const k = cacheKeyGenerate(flags.name);
    if (!this.jsonEnabled()) {
      this.log(k.publicKey);
      process.stderr.write(`devenv: secret key in ${k.secretFile} (0600); add the public key above to [cache] trusted-public-keys\n`);
    }
    return {name: k.name, publicKey: k.publicKey, secretFile: k.secretFile};
  }
}
