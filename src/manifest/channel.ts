// The nixpkgs channel new projects pin, and exactly the language and service versions it
// offers. schema/devenv.schema.json and manifest validation derive from this one table
// (test/unit/manifest.test.ts fails when the schema file drifts from it).
//
// Read from NixOS/nixpkgs release-26.05 (supported to 2026-12-31): its release notes, aliases.nix,
// the PRs that removed or marked packages before the branch-off, and pkgs/servers/sql/postgresql:
// - Python: python310 was dropped before 26.05 (nixpkgs#490538); python311..python314 are
//   released interpreters; python315 is the 3.15 pre-release (added at 3.15.0a1).
// - Node.js: nodejs_22, nodejs_24 (the default `nodejs`), nodejs_26 (`nodejs_latest`);
//   nodejs_25 was removed (EOL 2026-06-01); nodejs_20 is still defined but marked insecure
//   (EOL 2026-04-30, nixpkgs#511784), so it refuses to evaluate: not offered.
// - PostgreSQL: postgresql_14..postgresql_18 (postgresql_13 removed 2025-11-17;
//   postgresql_19 came to master after the branch-off). postgresql_14 leaves in 26.11.
// When 26.11 is tagged: re-read these lists and bump CHANNEL (new projects pin it); an existing
// project moves by changing [nixpkgs] url, and `devenv update` follows its branch meanwhile.

export interface VersionEntry {
  /** What devenv.toml says: "3.11", "24", 15. */
  version: string;
  /** The nixpkgs attribute it maps to. */
  attr: string;
  /** A pre-release interpreter (offered by the channel, not for production). */
  prerelease?: boolean;
}

export interface Channel {
  /** Branch name as in the flake URL. */
  name: string;
  /** lib.trivial.release of that branch. */
  release: string;
  url: string;
  supportedUntil: string;
  python: VersionEntry[];
  node: VersionEntry[];
  postgres: VersionEntry[];
}

export const CHANNEL: Channel = {
  name: 'nixos-26.05',
  release: '26.05',
  url: 'github:NixOS/nixpkgs/nixos-26.05',
  supportedUntil: '2026-12-31',
  python: [
    {version: '3.11', attr: 'python311'},
    {version: '3.12', attr: 'python312'},
    {version: '3.13', attr: 'python313'},
    {version: '3.14', attr: 'python314'},
    {version: '3.15', attr: 'python315', prerelease: true},
  ],
  node: [
    {version: '22', attr: 'nodejs_22'},
    {version: '24', attr: 'nodejs_24'},
    {version: '26', attr: 'nodejs_26'},
  ],
  postgres: [
    {version: '14', attr: 'postgresql_14'},
    {version: '15', attr: 'postgresql_15'},
    {version: '16', attr: 'postgresql_16'},
    {version: '17', attr: 'postgresql_17'},
    {version: '18', attr: 'postgresql_18'},
  ],
};

/** Attributes used when devenv.toml names no version: nixpkgs' own defaults. */
export const DEFAULT_ATTRS = {node: 'nodejs'} as const;

export type VersionedKind = 'python' | 'node' | 'postgres';

/** The key path of each versioned setting in devenv.toml. */
export const VERSION_KEYS: Record<VersionedKind, string[]> = {
  python: ['languages', 'python', 'version'],
  node: ['languages', 'node', 'version'],
  postgres: ['services', 'postgres', 'version'],
};

/** Every nixpkgs attribute the table maps to (the offline package set must define each). */
export const channelAttributes = (c: Channel = CHANNEL): string[] => [...c.python, ...c.node, ...c.postgres].map((e) => e.attr);

/**
 * The release ("26.05") a nixpkgs flake URL pins, when it names a release branch
 * (nixos-26.05, nixos-26.05-small, nixpkgs-26.05-darwin, release-26.05), else undefined
 * (unstable, a commit, a local path).
 */
export function releaseOf(url: string): string | undefined {
  return /(?:^|[/=:])(?:nixos|nixpkgs|release)-(\d\d\.\d\d)(?:-small|-darwin)?(?:$|[/?&#])/.exec(url)?.[1];
}

/** The table applies when the project pins the table's release (or nothing: the default). */
export function channelFor(url: string | undefined): Channel | undefined {
  if (url === undefined) return CHANNEL;
  return releaseOf(url) === CHANNEL.release ? CHANNEL : undefined;
}

/** The nixpkgs attribute for a version; versions outside the table (another channel) follow nixpkgs' naming. */
export function attrFor(kind: VersionedKind, version: string | number): string {
  const v = String(version);
  const hit = CHANNEL[kind].find((e) => e.version === v);
  if (hit) return hit.attr;
  if (kind === 'python') return `python${v.replace('.', '')}`;
  if (kind === 'node') return `nodejs_${v}`;
  return `postgresql_${v}`;
}
