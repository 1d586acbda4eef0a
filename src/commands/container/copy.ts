import {Args} from '@oclif/core';
import {DevenvCommand} from '../../cli/base.js';
import {UsageError} from '../../errors.js';
import {containerCopy} from '../../usecases/container.js';

export default class ContainerCopy extends DevenvCommand {
  static summary = 'Build the image if needed and copy it to an archive, a registry or the local engine';
  static description =
    'oci-archive:FILE is written by devenv itself (reproducible, like the image). engine: loads it into podman (or docker) as localhost/NAME:TAG. Anything else (docker-archive:FILE, docker://REGISTRY/NAME:TAG, oci:DIR, ...) goes through skopeo, with its own auth (skopeo login / your engine login) and configuration; arguments after -- are options of its copy (e.g. --dest-tls-verify=false for a plain-HTTP registry).';
  static examples = [
    '<%= config.bin %> container copy oci-archive:app.tar',
    '<%= config.bin %> container copy shell engine:',
    '<%= config.bin %> container copy docker://registry.example.com/app:1.0',
    '<%= config.bin %> container copy docker://127.0.0.1:5000/app:1.0 -- --dest-tls-verify=false',
  ];
  static enableJsonFlag = true;
  static strict = false;
  static args = {
    kind: Args.string({description: 'processes (default) or shell, then the destination', ignoreStdin: true}),
    dest: Args.string({description: 'oci-archive:FILE, engine:, docker-archive:FILE, docker://...', ignoreStdin: true}),
  };

  async run() {
    const {argv} = await this.parse(ContainerCopy);
    // What follows -- goes to skopeo copy (oclif drops the -- itself and keeps the order).
    const dd = this.argv.indexOf('--');
    const skopeoArgs = dd >= 0 ? this.argv.slice(dd + 1) : [];
    const words = (argv as string[]).slice(0, (argv as string[]).length - skopeoArgs.length);
    const kind = words.length === 2 ? words[0] : 'processes';
    const dest = words.length === 2 ? words[1] : words[0];
    if (!dest || words.length > 2 || !['processes', 'shell'].includes(kind)) throw new UsageError('usage: devenv container copy [processes|shell] <dest> [-- skopeo copy options]', 'e.g. devenv container copy oci-archive:app.tar');
    const json = this.jsonEnabled();
    const r = await containerCopy(this.project(), this.cwd(), kind as 'processes' | 'shell', dest, {progress: json ? undefined : (l) => process.stderr.write(`devenv: ${l}\n`), skopeoArgs});
    this.log(`devenv: copied ${r.image.ref} (${r.image.digest}) to ${r.dest}`);
    return {ref: r.image.ref, digest: r.image.digest, dest: r.dest};
  }
}
