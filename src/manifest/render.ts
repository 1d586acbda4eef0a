// Write a Manifest as a readable, commented devenv.toml (used by `init`).
import {DEFAULT_NIXPKGS_URL, type Manifest} from './model.js';

const q = (s: string): string => JSON.stringify(s); // TOML basic strings accept JSON escapes
const list = (xs: string[]): string => (xs.length ? `[${xs.map(q).join(', ')}]` : '[]');
const value = (v: unknown): string => (typeof v === 'string' ? q(v) : Array.isArray(v) ? list(v as string[]) : String(v));

export function renderManifest(m: Manifest, description?: string): string {
  const out: string[] = [];
  out.push(`# devenv project${description ? `: ${description}` : ''}.`);
  out.push('# Edit this file; devenv keeps flake.nix in sync. `devenv add <pkg>` / `devenv remove <pkg>` edit it for you.');
  out.push('');
  if (m.name) out.push(`name = ${q(m.name)}`);
  out.push('# nixpkgs attribute names; dotted paths work (python311Packages.numpy)');
  out.push(`packages = ${list(m.packages ?? [])}`);
  out.push('');
  out.push('[nixpkgs]');
  out.push('# `devenv update` takes the newest commit of this branch; for the next release, change the branch');
  out.push(`url = ${q(m.nixpkgs?.url ?? DEFAULT_NIXPKGS_URL)}`);
  const cfg = m.nixpkgs?.config;
  if (cfg && Object.keys(cfg).length) {
    out.push('', '[nixpkgs.config]');
    for (const [k, v] of Object.entries(cfg)) out.push(`${k} = ${value(v)}`);
  } else {
    out.push('# [nixpkgs.config]', '# allowUnfree = true', '# permittedInsecurePackages = ["name-1.2.3"]');
  }
  for (const [lang, cfg] of Object.entries(m.languages ?? {})) {
    out.push('', `[languages.${lang}]`);
    for (const [k, v] of Object.entries(cfg ?? {})) out.push(`${k} = ${value(v)}`);
  }
  const pg = m.services?.postgres;
  if (pg) {
    out.push('', '[services.postgres]', '# `devenv up` starts it; data lives in .devenv/state/postgres, on a port of its own');
    if (pg.enable !== undefined) out.push(`enable = ${pg.enable}`);
    out.push(`version = ${pg.version ?? 15}`);
    out.push(`databases = ${list(pg.databases ?? [])}`);
    if (pg.port !== undefined) out.push(`port = ${pg.port}`);
    else out.push('# port = 54321  # chosen automatically when unset');
    if (pg.settings && Object.keys(pg.settings).length) {
      out.push('', '[services.postgres.settings]');
      for (const [k, v] of Object.entries(pg.settings)) out.push(`${k} = ${value(v)}`);
    }
  }
  out.push('', '[env]', '# Variables set in the project\'s shell');
  for (const [k, v] of Object.entries(m.env ?? {})) out.push(`${k} = ${q(v)}`);
  if (m.shell?.hook) {
    out.push('', '[shell]', '# bash run on entering the project');
    out.push(`hook = ${q(m.shell.hook)}`);
  }
  return out.join('\n') + '\n';
}
