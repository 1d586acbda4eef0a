import {Args} from '@oclif/core';
import {DevenvCommand} from '../../cli/base.js';
import {containerBuild} from '../../usecases/container.js';

export default class ContainerBuild extends DevenvCommand {
  static summary = "Build an OCI image of the project's environment (no container engine needed)";
  static description =
    "processes (default): the entrypoint starts the project's services and processes as 'devenv up' does, in the foreground; SIGTERM stops them. shell: the entrypoint is the environment's bash. One layer per store path of the environment's closure, then one with the project's files in /app; the same inputs give the same image digest. dotenv values never enter the image. The OCI layout is written under ~/.cache/devenv/container; 'devenv container copy' takes it elsewhere.";
  static examples = ['<%= config.bin %> container build', '<%= config.bin %> container build shell', '<%= config.bin %> container build --json'];
  static enableJsonFlag = true;
  static args = {kind: Args.string({options: ['processes', 'shell'], default: 'processes', description: 'what the image runs', ignoreStdin: true})};

  async run() {
    const {args} = await this.parse(ContainerBuild);
    const json = this.jsonEnabled();
    const image = await containerBuild(this.cwd(), args.kind as 'processes' | 'shell', {progress: json ? undefined : (l) => process.stderr.write(`devenv: ${l}\n`)});
    this.log(`devenv: built ${image.ref} (${image.digest}), ${image.layers.length} layers, in ${image.layout}`);
    return image;
  }
}
