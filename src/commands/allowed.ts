import {DevenvCommand} from '../cli/base.js';
import {listAllowed} from '../usecases/allow.js';

export default class Allowed extends DevenvCommand {
  static aliases = ['trust:list'];
  static summary = 'List allowed projects and trusted prefixes';
  static examples = ['<%= config.bin %> allowed', '<%= config.bin %> allowed --json'];
  static enableJsonFlag = true;

  async run() {
    await this.parse(Allowed);
    const res = listAllowed();
    for (const p of res.projects) this.log(`${p.root}  ${p.current === 'allowed' || p.current === 'prefix' ? 'allowed' : `${p.current} since allowed`} (${p.allowedAt})`);
    for (const p of res.prefixes) this.log(`${p}/*  trusted by prefix`);
    if (!res.projects.length && !res.prefixes.length) this.log('devenv: nothing allowed yet');
    return res;
  }
}
