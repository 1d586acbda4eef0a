// `devenv generate`: regenerate flake.nix from devenv.toml, keeping trust (devenv's own write).
import {DevenvError, UsageError} from '../errors.js';
import {openProject} from '../project/project.js';
import {syncFlake} from '../project/sync.js';
import {keepTrustAcross} from '../trust/trust.js';

export async function generateFlake(cwd: string, opts: {force?: boolean} = {}) {
  const {root} = openProject(cwd);
  const result = await keepTrustAcross(root, () => syncFlake(root, {force: opts.force}));
  if (result === 'user-owned') throw new DevenvError('flake.nix was edited by hand; not overwriting it', {hint: 'pass --force to regenerate it from devenv.toml'});
  if (result === 'no-manifest') throw new DevenvError(`${root} has no devenv.toml to generate from`);
  return {root, result};
}

/** Where the workflow gets devenv: a git URL and the commit this devenv was built from. */
export interface DevenvSource {
  url: string;
  commit?: string;
}

// Written into the workflow's shell step: nothing a shell or YAML would read as syntax.
const SAFE_URL = /^[A-Za-z0-9/][A-Za-z0-9@:/._~+%=-]*$/;

/**
 * The repository this devenv was installed from, as README's Quick start installs it (a git
 * checkout, npm ci, build, npm link): its origin and commit. `--source url[#commit]` names it
 * instead (a fork, a mirror). Never the npm registry's `devenv`, which is another project.
 */
export async function devenvSource(given?: string): Promise<DevenvSource> {
  const check = (s: DevenvSource): DevenvSource => {
    if (!SAFE_URL.test(s.url)) throw new UsageError(`'${s.url}' is not a git URL devenv can write into a workflow`, 'give an https://, ssh:// or git@host: URL without spaces or quotes');
    if (s.commit !== undefined && !/^[0-9a-f]{7,40}$|^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(s.commit)) throw new UsageError(`'${s.commit}' is not a commit, tag or branch name`);
    return s;
  };
  if (given) {
    const [url, commit] = given.split('#');
    return check({url, commit: commit || undefined});
  }
  const {run} = await import('../util/run.js');
  const {fileURLToPath} = await import('node:url');
  const home = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
  // safe.directory: devenv installed by another user (root's npm link) is still readable.
  const git = async (...args: string[]) => (await run('git', ['-c', `safe.directory=${home}`, '-c', 'safe.directory=*', '-C', home, ...args])).stdout.trim();
  const url = await git('remote', 'get-url', 'origin');
  const commit = await git('rev-parse', 'HEAD');
  if (url && /^[0-9a-f]{40}$/.test(commit ?? '')) return check({url, commit});
  throw new DevenvError(`cannot tell which repository this devenv was installed from (${home} is not a git checkout with an origin)`, {
    hint: "install devenv from its git repository as README's Quick start does, or name it: devenv generate github-action --source <git URL>[#<commit>]",
  });
}

/** The workflow `devenv generate github-action` writes: install Nix, restore the Nix cache, `devenv test`. */
export function githubWorkflow(source: DevenvSource = {url: 'https://example.invalid/devenv.git'}): string {
  const at = source.commit ? ` at ${source.commit}` : '';
  return `# Written by devenv (devenv generate github-action): runs the project's [tasks.test]
# against throwaway services, the same way 'devenv test' does on your machine.
name: devenv test

on:
  push:
  pull_request:

jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: cachix/install-nix-action@v27
        with:
          extra_nix_config: |
            experimental-features = nix-command flakes
      # Restores /nix/store paths built by earlier runs (keyed by flake.lock).
      - uses: nix-community/cache-nix-action@v5
        with:
          primary-key: nix-\${{ runner.os }}-\${{ hashFiles('flake.lock', 'devenv.toml') }}
          restore-prefixes-first-match: nix-\${{ runner.os }}-
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      # This devenv, from its repository as its README installs it (the npm registry's
      # 'devenv' is an unrelated package).
      - name: Install devenv
        run: |
          git clone --quiet ${source.url} "$RUNNER_TEMP/devenv"${source.commit ? `
          git -C "$RUNNER_TEMP/devenv" checkout --quiet ${source.commit}` : ''}
          cd "$RUNNER_TEMP/devenv" && npm ci --no-audit --no-fund && npm run build && npm link
      - name: devenv test
        run: |
          devenv allow
          devenv test
`;
}

/** Write .github/workflows/devenv.yml (refusing to overwrite a different one without force). */
export async function generateGithubAction(cwd: string, opts: {force?: boolean; source?: string} = {}): Promise<{root: string; file: string; result: 'written' | 'unchanged'; source: DevenvSource}> {
  const {mkdirSync} = await import('node:fs');
  const {join} = await import('node:path');
  const {readFileOrNull, writeFileAtomic} = await import('../util/fs.js');
  const {root} = openProject(cwd);
  const file = join(root, '.github', 'workflows', 'devenv.yml');
  const source = await devenvSource(opts.source);
  const body = githubWorkflow(source);
  const have = readFileOrNull(file);
  if (have === body) return {root, file, result: 'unchanged', source};
  if (have !== null && !opts.force) throw new DevenvError(`${file} exists and differs from what devenv would write`, {hint: 'pass --force to overwrite it'});
  mkdirSync(join(root, '.github', 'workflows'), {recursive: true});
  writeFileAtomic(file, body, 0o644);
  return {root, file, result: 'written', source};
}
