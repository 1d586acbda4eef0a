// Monorepo members: `[project] members = ["api", "web/*"]` in a root devenv.toml names the
// sub-projects `devenv up`, `down`, `ps`, `logs` and `run` at the root act on too, their units
// named `member:unit`. A unit's `after` may name another member's unit (`after = ["api:srv"]`);
// a process that does gets that unit's port as <MEMBER>_<UNIT>_PORT (API_SRV_PORT), started
// from the root or from the member alike (ports are fixed per project, so no run is needed).
import {readdirSync, statSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {ManifestError} from '../errors.js';
import {manifestFilesLenient} from '../manifest/files.js';
import {globRegex} from '../project/inputs.js';
import {readFileOrNull, realPath} from '../util/fs.js';
import {portVar, processPort, SERVICES} from './registry.js';

export interface Member {
  /** As units are prefixed: the member's directory relative to the root project. */
  name: string;
  root: string;
}

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** Directories under `base` matching a relative glob, one path segment at a time. */
function expand(base: string, pattern: string): string[] {
  let found = [''];
  for (const seg of pattern.split('/').filter((s) => s && s !== '.')) {
    const next: string[] = [];
    for (const rel of found) {
      if (!/[*?[]/.test(seg)) {
        if (isDir(join(base, rel, seg))) next.push(rel ? `${rel}/${seg}` : seg);
        continue;
      }
      const re = globRegex(seg);
      let names: string[] = [];
      try {
        names = readdirSync(join(base, rel), {withFileTypes: true}).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
      } catch {}
      for (const n of names) if (re.test(n)) next.push(rel ? `${rel}/${n}` : n);
    }
    found = next;
  }
  return found.filter(Boolean);
}

/** The members of the project at `root`: [project] members, globs expanded, each a directory with a devenv.toml. */
export async function projectMembers(root: string): Promise<Member[]> {
  // Loading validates the whole manifest (ajv: ~0.1 s, most of a ps): only for one that may name members.
  if (!manifestFilesLenient(realPath(root)).some((f) => /members["']?\s*=/.test(f.text))) return [];
  const {loadManifest} = await import('../manifest/load.js');
  const loaded = loadManifest(realPath(root));
  const patterns = loaded?.manifest.project?.members ?? [];
  const out: Member[] = [];
  for (const pat of patterns) {
    const dirs = expand(root, pat).filter((d) => readFileOrNull(join(root, d, 'devenv.toml')) !== null);
    if (!dirs.length && !/[*?[]/.test(pat)) {
      throw new ManifestError(`project.members names '${pat}', which is no directory with a devenv.toml`, {location: 'devenv.toml', keyPath: 'project.members', hint: 'create it (devenv init there) or remove it from members'});
    }
    for (const d of dirs) if (!out.some((m) => m.name === d)) out.push({name: d, root: join(root, d)});
  }
  return out;
}

/** The nearest project at or above `root` that lists members: what `member:unit` is relative to. */
function monorepoRoot(root: string): string | undefined {
  for (let d = root; ; d = dirname(d)) {
    const t = readFileOrNull(join(d, 'devenv.toml'));
    if (t !== null && /^\s*members\s*=/m.test(t)) return d;
    if (dirname(d) === d) return undefined;
  }
}

/** Where `member` of the monorepo holding `root` is. */
export function memberRoot(root: string, member: string): string {
  const top = monorepoRoot(root);
  const dir = top && join(top, member);
  if (!dir || readFileOrNull(join(dir, 'devenv.toml')) === null) {
    throw new ManifestError(`after names '${member}:…', but '${member}' is no member of ${top ? `the project at ${top}` : 'any project above this one'} ([project] members)`, {location: join(root, 'devenv.toml'), hint: 'add it to [project] members of the root devenv.toml, or fix the name'});
  }
  return dir;
}

/** <MEMBER>_<UNIT>_PORT for each `member:unit` reference with a port. */
export async function memberPortEnv(root: string, refs: string[]): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const ref of refs) {
    const i = ref.lastIndexOf(':');
    const member = ref.slice(0, i);
    const unit = ref.slice(i + 1);
    const dir = memberRoot(root, member);
    const {loadManifest} = await import('../manifest/load.js');
    const m = loadManifest(realPath(dir))?.manifest;
    if (!m) continue;
    let port: number | undefined;
    const proc = m.processes?.[unit];
    if (proc) port = processPort(dir, unit, proc);
    const svc = SERVICES.find((d) => d.name === unit && d.enabled(m));
    if (svc) port = ((await svc.layout(dir, m)) as {port?: number}).port;
    if (port) env[portVar(`${member}_${unit}`)] = String(port);
  }
  return env;
}
