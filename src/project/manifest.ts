// A project's merged manifest, parsed once per handle through manifest/load.ts (the one
// loader). The memo is keyed on the files' text (read each time, cheap), so a long-lived process
// (watch, mcp, up's keeper) never serves a stale parse. Not on the hot path (it loads the TOML
// parser and the schema): the hot path imports it dynamically, on a miss.
import {type ManifestFile, manifestFiles, manifestFilesLenient, manifestFingerprint} from '../manifest/files.js';
import {type LoadedManifest, loadManifestFiles} from '../manifest/load.js';
import type {Manifest} from '../manifest/model.js';
import type {Project} from './project.js';

type Memo = {fingerprint: string; loaded: LoadedManifest | null};

/** The manifest files (never throws: a bad include is reported when the manifest is loaded). */
export const manifestFilesOf = (p: Project): ManifestFile[] => manifestFilesLenient(p.real);

/** The project's merged manifest, parsed once per content; null without a devenv.toml. Throws ManifestError. */
export function manifestOf(p: Project): LoadedManifest | null {
  const files = manifestFiles(p.real);
  const fingerprint = files.length ? manifestFingerprint(files) : '';
  const m = p.memo.manifest as Memo | undefined;
  if (m && m.fingerprint === fingerprint) return m.loaded;
  const loaded = loadManifestFiles(files);
  p.memo.manifest = {fingerprint, loaded} satisfies Memo;
  return loaded;
}

/** The manifest, `{}` for a flake-only project. */
export const manifestOrEmpty = (p: Project): Manifest => manifestOf(p)?.manifest ?? {};
