// Which files make up a project's manifest: the files its devenv.toml includes (each after its
// own includes, in the order listed), then devenv.toml, then devenv.local.toml. Later files win
// (see load.ts for the merge). Every reader of the manifest and the project's inputs (trust,
// cache key, the prompt's watch list) use this one list. Built-ins only at import (hot path):
// TOML is required lazily, and only for a file that mentions `include`.
import {lstatSync, readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, isAbsolute, join, relative, resolve} from 'node:path';
import {ManifestError} from '../errors.js';
import {locateKey} from './locate.js';

export const MANIFEST = 'devenv.toml';
/** A developer's own overrides, merged last; git-ignored by `init`, never copied to the store. */
export const LOCAL_MANIFEST = 'devenv.local.toml';

export interface ManifestFile {
  /** Absolute path. */
  path: string;
  /** As messages name it: relative to the project root (`devenv.toml`, `../shared/devenv.toml`). */
  name: string;
  text: string;
  /** The file whose `include` brought it in, and that line, for error messages. */
  via?: {name: string; line: number};
}

/** The git work tree holding `dir`: what `/` means in `include`. */
export function gitTop(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    try {
      lstatSync(join(d, '.git'));
      return d;
    } catch {}
    if (dirname(d) === d) return undefined;
  }
}

const readText = (file: string): string | null => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
};

let toml: {parse(t: string): Record<string, unknown>} | undefined;
const parseToml = (text: string): Record<string, unknown> => (toml ??= createRequire(import.meta.url)('@iarna/toml')).parse(text);

/** The `include` list of a manifest's text (empty when it has none; TOML errors are the schema's to report). */
function includesOf(text: string): string[] {
  if (!/^\s*include\s*=/m.test(text)) return [];
  try {
    const v = parseToml(text).include;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * The manifest files of the project at `root` (its real path), in merge order. Throws a
 * ManifestError naming the file and line for an include that is missing, a symlink, outside the
 * git work tree, or part of a cycle.
 */
export function manifestFiles(root: string): ManifestFile[] {
  const top = gitTop(root);
  const out: ManifestFile[] = [];
  const done = new Set<string>();
  const nameOf = (p: string): string => relative(root, p) || '.';
  const visit = (file: string, text: string, via: ManifestFile['via'], stack: string[]) => {
    const here = dirname(file);
    for (const inc of includesOf(text)) {
      const loc = locateKey(text, ['include']);
      const at = {name: nameOf(file), line: loc?.line ?? 1};
      const where = `${at.name}:${at.line}`;
      const fail = (msg: string, hint: string): never => {
        throw new ManifestError(`include "${inc}" ${msg}`, {location: where, keyPath: 'include', hint: `${hint}; nothing was changed`});
      };
      let target: string;
      if (inc.startsWith('/')) {
        if (!top) fail('starts at the git root, but this project is not in a git repository', 'use a path relative to the file, or run git init at the repository root');
        target = join(top!, inc);
      } else target = resolve(here, inc);
      if (!inc.endsWith('.toml')) target = join(target, MANIFEST);
      const bound = top ?? dirname(root);
      const rel = relative(bound, target);
      if (rel.startsWith('..') || isAbsolute(rel)) fail(`is outside ${top ? 'the git repository' : 'the parent directory'} (${bound})`, 'include only files of the same repository');
      let isLink = false;
      try {
        isLink = lstatSync(target).isSymbolicLink() || lstatSync(dirname(target)).isSymbolicLink();
      } catch {
        fail(`names ${nameOf(target)}, which does not exist`, 'fix the path (relative to this file; "/" is the git root)');
      }
      if (isLink) fail(`names ${nameOf(target)}, a symlink`, 'include the file itself: devenv does not follow symlinks in includes');
      if (target === file || stack.includes(target)) {
        const cycle = [...stack, file, target].slice([...stack, file].indexOf(target)).map(nameOf).join(' -> ');
        fail(`makes a cycle (${cycle})`, 'remove one of the includes');
      }
      if (done.has(target)) continue; // included twice (a diamond): merged once, at its first place
      const t = readText(target);
      if (t === null) fail(`names ${nameOf(target)}, which cannot be read`, 'check the file exists and is readable');
      visit(target, t!, at, [...stack, file]);
    }
    done.add(file);
    out.push({path: file, name: nameOf(file), text, ...(via ? {via} : {})});
  };
  const main = join(root, MANIFEST);
  const text = readText(main);
  if (text === null) return [];
  visit(main, text, undefined, []);
  const local = readText(join(root, LOCAL_MANIFEST));
  if (local !== null) {
    if (includesOf(local).length) {
      throw new ManifestError('include is not allowed in devenv.local.toml', {location: `${LOCAL_MANIFEST}:${locateKey(local, ['include'])?.line ?? 1}`, keyPath: 'include', hint: 'put includes in devenv.toml, which everyone shares; nothing was changed'});
    }
    out.push({path: join(root, LOCAL_MANIFEST), name: LOCAL_MANIFEST, text: local});
  }
  return out;
}

/** Like manifestFiles, but never throws: what there is to hash and watch (a bad include is reported when the manifest is loaded). */
export function manifestFilesLenient(root: string): ManifestFile[] {
  try {
    return manifestFiles(root);
  } catch {
    const out: ManifestFile[] = [];
    for (const n of [MANIFEST, LOCAL_MANIFEST]) {
      const t = readText(join(root, n));
      if (t !== null) out.push({path: join(root, n), name: n, text: t});
    }
    return out;
  }
}

/**
 * What a memo of anything read from the manifest must be keyed on: devenv.toml's text alone
 * when it has no includes and no local file (so digests recorded before includes existed hold),
 * else every file's name and text.
 */
export function manifestFingerprint(files: ManifestFile[]): string {
  if (files.length === 1 && files[0].name === MANIFEST) return files[0].text;
  return files.map((f) => `${f.name}\0${f.text}`).join('\0\0');
}
