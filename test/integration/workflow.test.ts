// The GitHub workflow 'devenv generate github-action' writes installs this devenv: the
// repository and commit it was installed from, built the way README's Quick start does (npm's
// registry 'devenv' is an unrelated package). On the host the whole install step runs (npm ci
// from the registry, build, npm link); the sid root has no npm, so there its git half runs.
import {afterAll, beforeAll, expect, test} from '@jest/globals';
import {spawnSync} from 'node:child_process';
import {cpSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {makeSandbox, REPO, type Sandbox} from '../helpers/env.js';

let sb: Sandbox;
beforeAll(() => {
  sb = makeSandbox('devenv-workflow-');
});
afterAll(() => sb.cleanup());

test("the workflow's install step yields this devenv: its repository at its commit, built as README says", () => {
  // A devenv installed as README's Quick start does: a clone (of a bare copy of this repository,
  // standing in for the public one), built. It names where it came from in the workflow.
  const gitEnv = {...sb.env, GIT_CONFIG_GLOBAL: join(sb.dir, 'gitconfig')};
  writeFileSync(gitEnv.GIT_CONFIG_GLOBAL, '[safe]\n\tdirectory = *\n[user]\n\tname = t\n\temail = t@example.org\n');
  const sh = (cmd: string, cwd = sb.dir, timeout = 60_000) => {
    const r = spawnSync('bash', ['-euo', 'pipefail', '-c', cmd], {cwd, env: gitEnv, encoding: 'utf8', timeout});
    if (r.status !== 0) throw new Error(`${cmd}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const head = sh(`git -C ${JSON.stringify(REPO)} rev-parse HEAD`).trim();
  const src = join(sb.dir, 'devenv-src.git');
  const inst = join(sb.dir, 'devenv-inst');
  sh(`git clone -q --bare ${JSON.stringify(REPO)} ${src} && git clone -q ${src} ${inst} && ln -s ${JSON.stringify(join(REPO, 'node_modules'))} ${inst}/node_modules && cp -a ${JSON.stringify(join(REPO, 'dist'))} ${inst}/dist`);
  const p = join(sb.dir, 'ci-project');
  mkdirSync(p);
  writeFileSync(join(p, 'devenv.toml'), 'name = "ci"\n\n[tasks.test]\nexec = "true"\n');
  const gen = spawnSync(process.execPath, [join(inst, 'bin', 'run.js'), 'generate', 'github-action'], {cwd: p, env: {...gitEnv, PWD: p}, encoding: 'utf8'});
  expect(gen.status).toBe(0);
  expect(gen.stderr).toContain(`installs devenv from ${src}, a local path CI cannot reach`);
  const workflow = readFileSync(join(p, '.github', 'workflows', 'devenv.yml'), 'utf8');
  expect(workflow).not.toMatch(/npm install --global devenv|npm i -g devenv/);
  // The step's script, as the runner's bash would get it.
  const block = /- name: Install devenv\n {8}run: \|\n((?: {10}.*\n)+)/.exec(workflow)?.[1];
  expect(block).toBeDefined();
  const script = block!.replace(/^ {10}/gm, '');
  expect(script).toContain(`git clone --quiet ${src} "$RUNNER_TEMP/devenv"`);
  expect(script).toContain(`checkout --quiet ${head}`);
  // README's own install line, verbatim.
  const readmeInstall = /```sh\n(npm ci && npm run build && npm link)/.exec(readFileSync(join(REPO, 'README.md'), 'utf8'))?.[1];
  expect(readmeInstall).toBeDefined();
  expect(script.replace(' --no-audit --no-fund', '')).toContain(readmeInstall!.trim());
  const runner = join(sb.dir, 'runner-temp');
  mkdirSync(runner);
  const prefix = join(sb.dir, 'npm-prefix');
  const hasNpm = spawnSync('sh', ['-c', 'command -v npm'], {env: gitEnv}).status === 0;
  if (hasNpm) {
    // The whole step: clone, checkout, npm ci (from the registry), build, npm link into a prefix.
    // Another prefix for npm link, and the machine's npm settings (its CA, its registry) kept.
    const globalconfig = sh('npm config get globalconfig').trim();
    const r = spawnSync('bash', ['-e', '-c', script], {cwd: p, env: {...gitEnv, RUNNER_TEMP: runner, NPM_CONFIG_PREFIX: prefix, NPM_CONFIG_GLOBALCONFIG: globalconfig, npm_config_update_notifier: 'false'}, encoding: 'utf8', timeout: 600_000});
    if (r.status !== 0) throw new Error(r.stdout + r.stderr);
    // The devenv it put on PATH is that checkout's, and it writes the very same workflow.
    expect(realpathSync(join(prefix, 'bin', 'devenv')).startsWith(realpathSync(join(runner, 'devenv')) + '/')).toBe(true);
    const p2 = join(sb.dir, 'ci-project-2');
    cpSync(p, p2, {recursive: true});
    rmSync(join(p2, '.github'), {recursive: true});
    const again = spawnSync(join(prefix, 'bin', 'devenv'), ['generate', 'github-action'], {cwd: p2, env: {...gitEnv, PWD: p2}, encoding: 'utf8'});
    expect(again.status).toBe(0);
    expect(readFileSync(join(p2, '.github', 'workflows', 'devenv.yml'), 'utf8')).toBe(workflow);
  } else {
    // The sid root has no npm (only node is bound in): the git half of the step, for real.
    const gitPart = script.split('\n').filter((l) => l.startsWith('git ')).join('\n');
    sh(gitPart.replace(/\$RUNNER_TEMP/g, runner), p);
  }
  expect(sh(`git -C ${join(runner, 'devenv')} rev-parse HEAD`).trim()).toBe(head);
}, 660_000);
