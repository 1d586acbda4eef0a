// `devenv init`: write devenv.toml, flake.nix and a .gitignore line from composed templates.
import {spawnSync} from 'node:child_process';
import {mkdirSync} from 'node:fs';
import {basename, join, resolve} from 'node:path';
import {FileExistsError, UsageError} from '../errors.js';
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

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/**
 * A valid project name (it is also the default database name) from any directory name:
 * accents dropped (ü -> u), other characters -> '-', leading punctuation removed ("_x", ".x" -> "x").
 */
export function projectNameFor(dir: string): string {
  const n = basename(resolve(dir))
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 63)
    .replace(/[^A-Za-z0-9]+$/, '');
  return NAME.test(n) ? n : 'project';
}

export function initProject(opts: InitOptions): InitResult {
  const root = resolve(opts.dir);
  const templates = opts.templates.length ? opts.templates.flatMap((t) => t.split(/[+,]/)).filter(Boolean) : ['minimal'];
  if (opts.name !== undefined && !NAME.test(opts.name)) {
    throw new UsageError(`'${opts.name}' cannot be a project name (it is also the default database name)`, 'pass --name with up to 63 letters, digits, ., _ or -, starting with a letter or digit');
  }
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
  // devenv's state, and what language setup makes (a venv, node_modules): never committed.
  const ignores = ['.devenv', ...(manifest.languages?.python?.venv ? ['.venv'] : []), ...(manifest.languages?.node ? ['node_modules'] : [])];
  // Secrets: .env and the configured dotenv files (nix never reads them; git must not either).
  // devenv.local.toml: each developer's own overrides (ports, env), merged last, never shared.
  const secrets = [...new Set(['.env', 'devenv.local.toml', ...(manifest.dotenv?.files ?? [])])];
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const missing = [
    ...ignores.filter((d) => !new RegExp(`^/?${esc(d)}/?$`, 'm').test(current ?? '')).map((d) => `${d}/`),
    ...secrets.filter((f) => !new RegExp(`^/?${esc(f)}$`, 'm').test(current ?? '')).map((f) => `/${f}`),
  ];
  if (missing.length) {
    writeFileAtomic(gitignore, `${current ?? ''}${current && !current.endsWith('\n') ? '\n' : ''}${missing.map((d) => `${d}\n`).join('')}`, 0o644);
    written.push(gitignore);
  }
  // Nix reads the inputs whether git tracks them or not; marking ours shows them in `git status`.
  let gitTracked = false;
  const inGit = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], {cwd: root, encoding: 'utf8'});
  if (inGit.status === 0 && inGit.stdout.trim() === 'true') {
    gitTracked = spawnSync('git', ['add', '--intent-to-add', '--', ...written], {cwd: root}).status === 0;
  }
  // The user just wrote this project with devenv: it is theirs to run.
  allow(root);
  return {root, written, gitTracked, templates};
}
