// Questions about a project's pinned nixpkgs (the flake ref its lock or override names):
// does an attribute exist, what is beside it, and `nix search`. Nothing here evaluates the
// project's own flake, so no shellHook or project code runs.
import {nixString} from '../flake/nix-string.js';
import {currentSystem, runNix} from '../nix/nix.js';

/** The attribute set that holds packages: legacyPackages.<system> of the flake at `ref`. */
const pkgsExpr = (ref: string): string => `(builtins.getFlake ${nixString(ref)}).legacyPackages.${currentSystem()}`;

export interface AttrCheck {
  exists: boolean;
  /** The longest prefix of the path that exists (its names are in `siblings`). */
  parent: string[];
  siblings: string[];
}

/** Whether `path` (python311Packages.numpy -> ["python311Packages", "numpy"]) exists in the flake's packages. */
export async function checkAttr(ref: string, path: string[]): Promise<AttrCheck> {
  const list = `[ ${path.map(nixString).join(' ')} ]`;
  // Walk down lazily: names at the deepest level that exists, never evaluating a package.
  const expr = `let
    pkgs = ${pkgsExpr(ref)};
    walk = set: done: rest:
      if rest == [] then { exists = true; parent = done; siblings = []; }
      else if builtins.isAttrs set && builtins.hasAttr (builtins.head rest) set
        then walk set.\${builtins.head rest} (done ++ [ (builtins.head rest) ]) (builtins.tail rest)
      else { exists = false; parent = done; siblings = if builtins.isAttrs set then builtins.attrNames set else []; };
  in walk pkgs [ ] ${list}`;
  const r = await runNix(['eval', '--impure', '--json', '--expr', expr], {what: 'nix eval (package names)'});
  return JSON.parse(r.stdout) as AttrCheck;
}

export interface SearchHit {
  attr: string;
  pname: string;
  version: string;
  description: string;
}

/** `nix search` in the flake's packages; every word must match (nix's own rule). */
export async function searchPackages(ref: string, terms: string[]): Promise<SearchHit[]> {
  const r = await runNix(['search', '--json', `${ref}#legacyPackages.${currentSystem()}`, ...terms], {what: 'nix search'});
  const raw = JSON.parse(r.stdout || '{}') as Record<string, {pname?: string; version?: string; description?: string}>;
  const prefix = `legacyPackages.${currentSystem()}.`;
  return Object.entries(raw)
    .map(([k, v]) => ({attr: k.startsWith(prefix) ? k.slice(prefix.length) : k, pname: v.pname ?? '', version: v.version ?? '', description: v.description ?? ''}))
    .sort((a, b) => a.attr.localeCompare(b.attr));
}

/** Up to `n` names closest to `name` (edit distance, prefix and substring matches first). */
export function closeNames(name: string, candidates: string[], n = 5): string[] {
  const lower = name.toLowerCase();
  const dist = (a: string, b: string): number => {
    const prev = Array.from({length: b.length + 1}, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let diag = prev[0];
      prev[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const t = prev[j];
        prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
        diag = t;
      }
    }
    return prev[b.length];
  };
  const scored = candidates.map((c) => {
    const cl = c.toLowerCase();
    const d = dist(lower, cl);
    const bonus = cl.startsWith(lower) || lower.startsWith(cl) ? -2 : cl.includes(lower) ? -1 : 0;
    return {c, s: d + bonus};
  });
  const limit = Math.max(2, Math.ceil(name.length / 2));
  return scored.filter((x) => x.s <= limit).sort((a, b) => a.s - b.s || a.c.localeCompare(b.c)).slice(0, n).map((x) => x.c);
}
