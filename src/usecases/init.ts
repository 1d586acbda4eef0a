// `devenv init`: write devenv.toml, flake.nix and a .gitignore line from composed templates.
import {spawnSync} from 'node:child_process';
import {mkdirSync} from 'node:fs';
import {basename, join, resolve} from 'node:path';
import {FileExistsError} from '../errors.js';
import {renderFlake} from '../flake/render.js';
import {renderManifest} from '../manifest/render.js';
import {parseManifest} from '../manifest/parse.js';
import {allow} from '../trust/trust.js';
import {exists, readFileOrNull, writeFileAtomic} from '../util/fs.js';
import {composeTemplates} from '../project/templates.js';
import {manifestDigest} from '../project/sync.js';

export interface InitOptions {
  dir: string;
  templates: string[];
  force?: boolean;
  name?: string;
}

export interface InitResult {
  root: string;
  written: string[];
  gitTracked: boolean;
  templates: string[];
}

/** Project names must be usable as database names: keep letters, digits, _ and -. */
export function projectNameFor(dir: string): string {
  const n = basename(resolve(dir)).replace(/[^A-Za-z0-9_-]/g, '_').replace(/^[^A-Za-z_]+/, '');
  return n.slice(0, 60) || 'project';
}

export function initProject(opts: InitOptions): InitResult {
  const root = resolve(opts.dir);
  const templates = opts.templates.length ? opts.templates.flatMap((t) => t.split(/[+,]/)).filter(Boolean) : ['minimal'];
  const {manifest, description} = composeTemplates(templates, opts.name ?? projectNameFor(root));
  const tomlText = renderManifest(manifest, description);
  parseManifest(tomlText); // our own output must validate
  const files = {toml: join(root, 'devenv.toml'), flake: join(root, 'flake.nix')};
  if (!opts.force) for (const f of Object.values(files)) if (exists(f)) throw new FileExistsError(f);
  mkdirSync(root, {recursive: true});

  writeFileAtomic(files.toml, tomlText, 0o644);
  writeFileAtomic(files.flake, renderFlake(manifest, manifestDigest(tomlText)), 0o644);
  const written = [files.toml, files.flake];
  const gitignore = join(root, '.gitignore');
  const current = readFileOrNull(gitignore);
  if (current === null || !/^\/?\.devenv\/?$/m.test(current)) {
    writeFileAtomic(gitignore, `${current ?? ''}${current && !current.endsWith('\n') ? '\n' : ''}.devenv/\n`, 0o644);
    written.push(gitignore);
  }
  // A flake only sees files git knows about: mark ours so the first evaluation works.
  let gitTracked = false;
  const inGit = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], {cwd: root, encoding: 'utf8'});
  if (inGit.status === 0 && inGit.stdout.trim() === 'true') {
    gitTracked = spawnSync('git', ['add', '--intent-to-add', '--', ...written], {cwd: root}).status === 0;
  }
  // The user just wrote this project with devenv: it is theirs to run.
  allow(root);
  return {root, written, gitTracked, templates};
}
