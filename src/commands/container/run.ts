import {Args} from '@oclif/core';
import {DevenvCommand} from '../../cli/base.js';
import {containerRun} from '../../usecases/container.js';

export default class ContainerRun extends DevenvCommand {
  static summary = 'Build the image if needed and run it with podman (or docker) in the foreground';
  static description =
    "Ports of services, processes and [container] ports are published on 127.0.0.1; service data lives in the volume NAME-data (mounted at /var/lib/devenv). Arguments after -- go to the engine's run. DEVENV_CONTAINER_ENGINE picks the engine.";
  static examples = ['<%= config.bin %> container run', '<%= config.bin %> container run shell', '<%= config.bin %> container run -- --network host'];
  static strict = false;
  // Not declared as an oclif arg: what follows -- goes to the engine and must not fill it.
  static args = {kind: Args.string({description: 'processes (default) or shell; then -- and arguments for the engine', ignoreStdin: true})};

  async run() {
    const {argv} = await this.parse(ContainerRun);
    const words = argv as string[];
    const kind = words[0] === 'processes' || words[0] === 'shell' ? words[0] : 'processes';
    const extra = words.slice(words[0] === kind ? 1 : 0);
    const code = await containerRun(this.cwd(), kind, extra, {progress: (l) => process.stderr.write(`devenv: ${l}\n`)});
    return this.exit(code);
  }
}
