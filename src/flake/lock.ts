// Does flake.lock still lock what flake.nix asks for? When an input's URL changed (a new
// [nixpkgs] url), nix would rewrite flake.lock in the middle of an evaluation, behind
// devenv's back, and the project's trust would break. Knowing it beforehand lets devenv
// re-lock first, as its own write. Built-ins only.

export type LockState = 'current' | 'stale' | 'unknown';

/** `inputs.name.url = "..."` and `name.url = "..."` (inside an inputs block) of a flake.nix. */
export function inputUrls(flakeText: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^\s*(?:inputs\.)?([A-Za-z_][A-Za-z0-9_'-]*)\.url\s*=\s*"((?:[^"\\$]|\\.)*)"\s*;/gm;
  for (const m of flakeText.matchAll(re)) out[m[1]] = m[2];
  return out;
}

/** A flake URL as nix records it in a lock's `original`, for the forms devenv can be sure of. */
export function originalOf(url: string): Record<string, string> | undefined {
  const gh = /^(github|gitlab|sourcehut):([^/?#\s]+)\/([^/?#\s]+)(?:\/([^?#\s]+))?$/.exec(url);
  if (gh) {
    const out: Record<string, string> = {type: gh[1], owner: gh[2], repo: gh[3]};
    if (gh[4]) out[/^[0-9a-f]{40}$/.test(gh[4]) ? 'rev' : 'ref'] = gh[4];
    return out;
  }
  const path = /^path:(\/[^?#\s]*)$/.exec(url);
  if (path) return {type: 'path', path: path[1].replace(/\/+$/, '') || '/'};
  return undefined;
}

const sameRecord = (a: Record<string, unknown>, b: Record<string, unknown>): boolean =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/**
 * 'current': every input flake.nix names is locked as written; 'stale': one is locked from
 * another URL (or not at all); 'unknown': a form devenv cannot compare (let nix decide).
 */
export function lockState(flakeText: string, lockText: string): LockState {
  const urls = inputUrls(flakeText);
  let lock: {root?: string; nodes?: Record<string, {inputs?: Record<string, unknown>; original?: Record<string, unknown>}>};
  try {
    lock = JSON.parse(lockText);
  } catch {
    return 'stale';
  }
  const nodes = lock.nodes ?? {};
  const rootInputs = nodes[lock.root ?? 'root']?.inputs ?? {};
  if (Object.keys(urls).length === 0) return 'unknown';
  let unknown = false;
  for (const [name, url] of Object.entries(urls)) {
    const ref = rootInputs[name];
    if (ref === undefined) return 'stale';
    const original = typeof ref === 'string' ? nodes[ref]?.original : undefined;
    const wanted = originalOf(url);
    if (!original || !wanted) {
      unknown = true;
      continue;
    }
    if (!sameRecord(wanted, original)) return 'stale';
  }
  return unknown ? 'unknown' : 'current';
}
