import {Args} from '@oclif/core';
import {DevenvCommand} from '../../cli/base.js';
import {containerRun} from '../../usecases/container.js';

export default class ContainerRun extends DevenvCommand {
  static summary = 'Build the image if needed and run it with podman (or docker) in the foreground';
  static description =
    "Ports of services, processes and [container] ports are published on 127.0.0.1; service data lives in the volume NAME-data (mounted at /var/lib/devenv). Arguments after -- go to the engine's run. DEVENV_CONTAINER_ENGINE picks the engine.";
  static examples = ['<%= config.bin %> container run', '<%= config.bin %> container run shell', '<%= config.bin %> container run -- --network host'];
  static strict = false;
  static args = {kind: Args.string({options: ['processes', 'shell'], default: 'processes', description: 'what the image runs', ignoreStdin: true})};

  async run() {
    const {args, argv} = await this.parse(ContainerRun);
    const extra = (argv as string[]).slice(argv[0] === args.kind ? 1 : 0);
    const code = await containerRun(this.cwd(), args.kind as 'processes' | 'shell', extra, {progress: (l) => process.stderr.write(`devenv: ${l}\n`)});
    return this.exit(code);
  }
}
