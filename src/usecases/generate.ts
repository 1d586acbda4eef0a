// `devenv generate`: regenerate flake.nix from devenv.toml, keeping trust (devenv's own write).
import {DevenvError} from '../errors.js';
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

/** The workflow `devenv generate github-action` writes: install Nix, restore the Nix cache, `devenv test`. */
export function githubWorkflow(): string {
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
      - name: Install devenv
        run: npm install --global devenv
      - name: devenv test
        run: |
          devenv allow
          devenv test
`;
}

/** Write .github/workflows/devenv.yml (refusing to overwrite a different one without force). */
export async function generateGithubAction(cwd: string, opts: {force?: boolean} = {}): Promise<{root: string; file: string; result: 'written' | 'unchanged'}> {
  const {mkdirSync} = await import('node:fs');
  const {join} = await import('node:path');
  const {readFileOrNull, writeFileAtomic} = await import('../util/fs.js');
  const {root} = openProject(cwd);
  const file = join(root, '.github', 'workflows', 'devenv.yml');
  const body = githubWorkflow();
  const have = readFileOrNull(file);
  if (have === body) return {root, file, result: 'unchanged'};
  if (have !== null && !opts.force) throw new DevenvError(`${file} exists and differs from what devenv would write`, {hint: 'pass --force to overwrite it'});
  mkdirSync(join(root, '.github', 'workflows'), {recursive: true});
  writeFileAtomic(file, body, 0o644);
  return {root, file, result: 'written'};
}
