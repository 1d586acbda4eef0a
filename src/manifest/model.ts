// The validated shape of devenv.toml (see schema/devenv.schema.json).
import {attrFor, CHANNEL, DEFAULT_ATTRS} from './channel.js';

export interface PostgresConfig {
  enable?: boolean;
  version?: number;
  databases?: string[];
  port?: number;
  settings?: Record<string, string | number | boolean>;
}

/** `[nixpkgs.config]`: passed to `import nixpkgs { config = ...; }`. */
export interface NixpkgsConfig {
  allowUnfree?: boolean;
  allowBroken?: boolean;
  allowUnsupportedSystem?: boolean;
  permittedInsecurePackages?: string[];
}

export interface Manifest {
  name?: string;
  packages?: string[];
  nixpkgs?: {url?: string; config?: NixpkgsConfig};
  languages?: {
    python?: {version?: string};
    node?: {version?: string};
    rust?: Record<string, never>;
    go?: Record<string, never>;
  };
  services?: {postgres?: PostgresConfig};
  env?: Record<string, string>;
  shell?: {hook?: string};
}

export const DEFAULT_NIXPKGS_URL = CHANNEL.url;
export const DEFAULT_PYTHON = '3.11';
export const DEFAULT_POSTGRES = 15;

export function postgresEnabled(m: Manifest): boolean {
  const pg = m.services?.postgres;
  return !!pg && pg.enable !== false;
}

/** nixpkgs attributes the manifest asks for, in a stable order: languages, services, then packages. */
export function nixAttributes(m: Manifest): string[] {
  const out: string[] = [];
  const py = m.languages?.python;
  if (py) out.push(attrFor('python', py.version ?? DEFAULT_PYTHON));
  const node = m.languages?.node;
  if (node) out.push(node.version ? attrFor('node', node.version) : DEFAULT_ATTRS.node);
  if (m.languages?.rust) out.push('rustc', 'cargo');
  if (m.languages?.go) out.push('go');
  if (postgresEnabled(m)) out.push(attrFor('postgres', m.services!.postgres!.version ?? DEFAULT_POSTGRES));
  for (const p of m.packages ?? []) if (!out.includes(p)) out.push(p);
  return out;
}

/** Human summary used in messages: "python3 3.11, postgresql 15". */
export function summary(m: Manifest): string {
  const parts: string[] = [];
  if (m.languages?.python) parts.push(`python3 ${m.languages.python.version ?? DEFAULT_PYTHON}`);
  if (m.languages?.node) parts.push(`node${m.languages.node.version ? ' ' + m.languages.node.version : ''}`);
  if (m.languages?.rust) parts.push('rust');
  if (m.languages?.go) parts.push('go');
  if (postgresEnabled(m)) parts.push(`postgresql ${m.services!.postgres!.version ?? DEFAULT_POSTGRES}`);
  return parts.join(', ');
}
