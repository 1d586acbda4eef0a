// Servers and processes of a checkout that no longer exists (a worktree removed with
// `git worktree remove --force` while they ran): no devenv command can reach them from their
// own directory any more. `up` records each checkout (its real path and its repository's git
// dir) in the user's state dir; `ps` in any checkout of the repository reports what still runs
// for a removed one, and `gc` stops it and frees its ports.
import {existsSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import {projectStateDir, stateDir} from '../paths.js';
import {readJson, writeFileAtomic} from '../util/fs.js';
import {projectUnits, type ServiceStatus, type StopResult} from './index.js';
import {registeredPorts} from './ports.js';

interface CheckoutRecord {
  root: string;
  /** The repository's common git dir: which checkouts belong together. */
  commonDir?: string;
}

/** At `up`: remember this checkout and its repository (written only when that changed). */
export function recordCheckout(real: string, commonDir: string | undefined): void {
  const file = join(projectStateDir(real), 'checkout.json');
  const rec = readJson<CheckoutRecord>(file);
  if (rec?.root === real && rec.commonDir === commonDir) return;
  try {
    writeFileAtomic(file, JSON.stringify({root: real, commonDir} satisfies CheckoutRecord) + '\n', 0o600);
  } catch {} // a read-only state dir costs only this report
}

/** Every checkout devenv knows of whose directory is gone. */
function vanished(): CheckoutRecord[] {
  const out = new Map<string, CheckoutRecord>();
  let ids: string[] = [];
  try {
    ids = readdirSync(join(stateDir(), 'projects'));
  } catch {}
  for (const id of ids) {
    const rec = readJson<CheckoutRecord>(join(stateDir(), 'projects', id, 'checkout.json'));
    if (rec?.root && !existsSync(rec.root)) out.set(rec.root, rec);
  }
  for (const e of registeredPorts()) {
    const root = e.root.split('#')[0];
    if (!e.root.includes('#') && !out.has(root) && !existsSync(root)) out.set(root, {root});
  }
  return [...out.values()];
}

const RUNNING = new Set(['running', 'starting', 'stopping', 'backoff', 'deleted']);

export interface RemovedCheckout {
  root: string;
  commonDir?: string;
  /** What still runs there. */
  running: ServiceStatus[];
}

/** Removed checkouts (of the repository `commonDir` when given) that still run something. */
export async function removedCheckouts(commonDir?: string): Promise<RemovedCheckout[]> {
  const out: RemovedCheckout[] = [];
  for (const rec of vanished()) {
    if (commonDir && rec.commonDir !== commonDir) continue;
    const {services} = await projectUnits(rec.root, {running: true});
    const running = (await Promise.all(services.map((s) => s.status()))).filter((st) => RUNNING.has(st.state));
    if (running.length) out.push({root: rec.root, commonDir: rec.commonDir, running});
  }
  return out;
}

/** Stop everything a removed checkout still runs (dependants first). */
export async function stopRemoved(root: string): Promise<{stopped: StopResult[]; errors: string[]}> {
  const {services} = await projectUnits(root, {running: true});
  const stopped: StopResult[] = [];
  const errors: string[] = [];
  for (const s of [...services].reverse()) {
    try {
      const r = await s.stop('devenv gc (its checkout was removed)');
      if (r.stopped) stopped.push(r);
    } catch (e) {
      errors.push(`${s.name}: ${(e as Error).message}`);
    }
  }
  return {stopped, errors};
}
