// The one loader of a project's manifest: its included files, devenv.toml and devenv.local.toml
// (manifestFiles), each parsed and validated, merged in order with where each entry came from.
//
// THE MERGE RULE (README "Monorepo" says the same): files merge in order, a later file winning
// (included files first, then devenv.toml, then devenv.local.toml). Tables ([env], [tasks.x],
// [processes.x], [services.x], [languages.x], [nixpkgs.config], ...) merge key by key, so a later
// file changes only the keys it sets. `packages` and `[dotenv] files` are unioned in order;
// `[shell] hook`s run in order. Values that pick the one build of something cannot be
// overridden: two files giving different `nixpkgs.url` or a different version of a language or
// service is an error naming both places. `name`, `include` and `[project]` are each file's own.
import {ManifestError} from '../errors.js';
import {locateKey} from './locate.js';
import {type ManifestFile, manifestFiles, manifestFingerprint} from './files.js';
import type {Manifest} from './model.js';
import {parseManifest, validateMerged} from './parse.js';

export interface Source {
  file: string;
  line: number;
}

export interface LoadedManifest {
  manifest: Manifest;
  /** The files merged, in order (names relative to the project root). */
  files: ManifestFile[];
  /** Per entry (dotted key path: `env.FOO`, `services.postgres.port`, `packages.jq`): where its value comes from. */
  sources: Record<string, Source>;
  /** Memo key material: changes whenever any merged file does. */
  fingerprint: string;
}

/** Keys that are each file's own, never inherited from an included file. */
const OWN = new Set(['name', 'include', 'project', '$schema']);
/** Lists that accumulate across files. */
const UNION = new Set(['packages', 'dotenv.files']);
/** Values two files must agree on. */
const SINGLE = new Set(['nixpkgs.url', 'languages.python.version', 'languages.node.version', 'services.postgres.version']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

function mergeInto(into: Obj, from: Obj, path: string[], file: ManifestFile, sources: Record<string, Source>): void {
  for (const [k, v] of Object.entries(from)) {
    const p = [...path, k];
    const key = p.join('.');
    const line = (): number => locateKey(file.text, p)?.line ?? 1;
    if (UNION.has(key) && Array.isArray(v)) {
      const list = (into[k] as unknown[] | undefined) ?? [];
      for (const x of v) {
        if (!list.includes(x)) list.push(x);
        if (key === 'packages') sources[`packages.${x}`] ??= {file: file.name, line: line()};
      }
      into[k] = list;
      if (key !== 'packages') sources[key] = {file: file.name, line: line()};
      continue;
    }
    if (key === 'shell.hook' && typeof v === 'string' && typeof into[k] === 'string') {
      into[k] = `${into[k]}\n${v}`;
      sources[key] = {file: file.name, line: line()};
      continue;
    }
    if (SINGLE.has(key) && into[k] !== undefined && into[k] !== v) {
      const was = sources[key];
      throw new ManifestError(`${key} is ${JSON.stringify(v)} here but ${JSON.stringify(into[k])} in ${was.file}:${was.line}; merged manifests must agree on it`, {
        location: `${file.name}:${line()}`,
        keyPath: key,
        hint: `set ${key} in one of the two files only (or to the same value); nothing was changed`,
      });
    }
    if (isObj(v) && isObj(into[k])) {
      mergeInto(into[k] as Obj, v, p, file, sources);
      continue;
    }
    into[k] = isObj(v) ? structuredClone(v) : v;
    if (isObj(v)) recordLeaves(v, p, file, sources);
    else sources[key] = {file: file.name, line: line()};
  }
}

function recordLeaves(v: Obj, path: string[], file: ManifestFile, sources: Record<string, Source>): void {
  for (const [k, x] of Object.entries(v)) {
    const p = [...path, k];
    if (isObj(x) && Object.keys(x).length) recordLeaves(x, p, file, sources);
    else sources[p.join('.')] = {file: file.name, line: locateKey(file.text, p)?.line ?? 1};
  }
}

/** Merge parsed files in order (exported for unit tests). */
export function mergeManifests(parsed: {file: ManifestFile; manifest: Manifest}[]): {manifest: Manifest; sources: Record<string, Source>} {
  const out: Obj = {};
  const sources: Record<string, Source> = {};
  const last = parsed.length ? parsed[parsed.length - 1] : undefined;
  // The project's own file: devenv.toml (devenv.local.toml follows it and may not hold `include`).
  const own = parsed.find((p) => p.file.name === 'devenv.toml') ?? last;
  for (const {file, manifest} of parsed) {
    const body: Obj = {};
    for (const [k, v] of Object.entries(manifest)) if (!OWN.has(k) || file === own?.file) body[k] = v;
    mergeInto(out, body, [], file, sources);
  }
  return {manifest: out as Manifest, sources};
}

/** The merged manifest of the project at `root` (its real path); null without a devenv.toml. */
export function loadManifest(root: string): LoadedManifest | null {
  const files = manifestFiles(root);
  if (!files.length) return null;
  if (files.length === 1) {
    const manifest = parseManifest(files[0].text, files[0].name);
    return {...mergeManifests([{file: files[0], manifest}]), manifest, files, fingerprint: manifestFingerprint(files)};
  }
  const parsed = files.map((file) => ({file, manifest: parseManifest(file.text, file.name, {partial: true})}));
  const merged = mergeManifests(parsed);
  validateMerged(merged.manifest, (path) => {
    // The last file that set anything of the entry (services.postgres, processes.web, ...).
    for (let n = path.length; n > 0; n--) {
      const prefix = path.slice(0, n).join('.');
      const hit = Object.entries(merged.sources).reverse().find(([k]) => k === prefix || k.startsWith(prefix + '.'));
      if (hit) return `${hit[1].file}:${hit[1].line}`;
    }
    return files[files.length - 1].name;
  });
  return {...merged, files, fingerprint: manifestFingerprint(files)};
}
