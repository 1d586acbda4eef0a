import {DevenvCommand} from '../cli/base.js';
import {foregroundIo, noteWriter} from '../cli/units.js';
import {testAt} from '../usecases/services.js';

export default class Test extends DevenvCommand {
  static summary = "Run the project's tests ([tasks.test]) against throwaway services";
  static description =
    "Starts every service and process in a temporary state dir on fresh ports (your own running servers are not touched), runs [tasks.test] and what it needs, stops and removes everything, and exits with the test task's exit code. For CI: 'devenv generate github-action' writes a workflow that runs it.";
  static examples = ['<%= config.bin %> test'];
  static enableJsonFlag = true;

  async run() {
    await this.parse(Test);
    const note = noteWriter(this.jsonEnabled());
    const res = await testAt(this.cwd(), foregroundIo(this.jsonEnabled()));
    if (res.exitCode !== 0) {
      note(`test failed (exit code ${res.exitCode})\n  hint: the output of [tasks.test] is above; 'devenv run test' runs it against your own running servers, 'devenv logs' shows theirs`);
      if (this.jsonEnabled()) this.logJson({ok: false, ...res});
      return this.exit(res.exitCode);
    }
    return res;
  }
}
