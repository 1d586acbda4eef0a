// Presets in templates/*.toml are data: a description, the presets they include, a partial manifest.
import {readdirSync, readFileSync} from 'node:fs';
import {basename, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import TOML from '@iarna/toml';
import {DevenvError} from '../errors.js';
import type {Manifest} from '../manifest/model.js';

export const templatesDir = (): string => fileURLToPath(new URL('../../templates/', import.meta.url));

export interface Template {
  name: string;
  description: string;
  includes: string[];
  manifest: Manifest;
}

function load(name: string): Template {
  const data = TOML.parse(readFileSync(join(templatesDir(), `${name}.toml`), 'utf8')) as Record<string, unknown>;
  return {
    name,
    description: String(data.description ?? ''),
    includes: (data.includes as string[]) ?? [],
    manifest: JSON.parse(JSON.stringify(data.manifest ?? {})),
  };
}

export function listTemplates(): Template[] {
  return readdirSync(templatesDir())
    .filter((f) => f.endsWith('.toml'))
    .map((f) => load(basename(f, '.toml')))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function merge(a: unknown, b: unknown): unknown {
  if (Array.isArray(a) && Array.isArray(b)) return [...new Set([...a, ...b])];
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const out: Record<string, unknown> = {...(a as Record<string, unknown>)};
    for (const [k, v] of Object.entries(b as Record<string, unknown>)) out[k] = k in out ? merge(out[k], v) : v;
    return out;
  }
  return b === undefined ? a : b;
}

/** Compose presets (and what they include) into one manifest; `{{name}}` becomes the project name. */
export function composeTemplates(names: string[], projectName: string): {manifest: Manifest; description: string} {
  const known = listTemplates();
  const byName = new Map(known.map((t) => [t.name, t]));
  const seen = new Set<string>();
  let manifest: Manifest = {};
  const visit = (n: string) => {
    const t = byName.get(n);
    if (!t) {
      throw new DevenvError(`unknown template '${n}'`, {hint: `known templates: ${known.map((k) => k.name).join(', ')} (see 'devenv templates')`, code: 'unknown_template'});
    }
    if (seen.has(n)) return;
    seen.add(n);
    for (const inc of t.includes) visit(inc);
    manifest = merge(manifest, t.manifest) as Manifest;
  };
  for (const n of names) visit(n);
  const text = JSON.stringify(manifest).replaceAll('{{name}}', projectName);
  const description = names.map((n) => byName.get(n)!.description).join(' + ');
  return {manifest: {name: projectName, ...JSON.parse(text)}, description};
}
