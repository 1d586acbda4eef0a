import {DevenvCommand} from '../cli/base.js';
import {listTemplates} from '../usecases/templates.js';

export default class Templates extends DevenvCommand {
  static summary = 'List the templates `devenv init` can use';
  static examples = ['<%= config.bin %> templates', '<%= config.bin %> templates --json'];
  static enableJsonFlag = true;

  async run() {
    await this.parse(Templates);
    const list = listTemplates().map((t) => ({name: t.name, description: t.description, includes: t.includes}));
    const width = Math.max(...list.map((t) => t.name.length));
    for (const t of list) this.log(`${t.name.padEnd(width)}  ${t.description}`);
    return list;
  }
}
