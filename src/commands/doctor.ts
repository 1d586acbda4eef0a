import {DevenvCommand} from '../cli/base.js';
import {formatReport, runDoctor} from '../usecases/doctor.js';
import {findProject} from '../usecases/cwd.js';

export default class Doctor extends DevenvCommand {
  static summary = 'Check nix, the shell hook and the current project, and say what to fix';
  static description = [
    "Checks nix and its version, flake support, the store and daemon, the hook in this shell, direnv managing the same directory, flake files not tracked by git, a stale cache or failed evaluation, a flake.nix that no longer follows devenv.toml, the watcher, and the project's postgres port. Outside a project only the first ones run.",
    'Exit code: 0 when nothing fails (warnings allowed), 1 when a check fails, 3 when nix is missing.',
  ].join('\n\n');
  static examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --json'];
  static enableJsonFlag = true;

  async run(): Promise<void> {
    await this.parse(Doctor);
    const report = await runDoctor(findProject(this.cwd()), this.cwd());
    if (this.jsonEnabled()) this.logJson(report);
    else this.log(formatReport(report));
    // Set, not thrown: the report is already printed (also as JSON) and must not be followed by an error.
    process.exitCode = report.exitCode;
  }
}
