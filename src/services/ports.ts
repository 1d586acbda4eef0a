// A stable TCP port per project: chosen once, recorded in the user's state dir, never
// handed to two projects (devenv.sh#3208 is what happens otherwise).
import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {stateDir} from '../paths.js';
import {readJson, tryLock, writeFileAtomic} from '../util/fs.js';

const RANGE_START = 20000;
const RANGE_SIZE = 20000;
const registryFile = (): string => join(stateDir(), 'ports.json');

type Registry = Record<string, string>; // "port:service" key -> root

function readRegistry(): Registry {
  return readJson<Registry>(registryFile()) ?? {};
}

function lockSync(file: string): () => void {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const release = tryLock(file);
    if (release) return release;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${file}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

/** The port recorded for (root, service), allocating one on first use. */
export function projectPort(root: string, service: string): number {
  const existing = findPort(root, service);
  if (existing) return existing;
  const release = lockSync(registryFile() + '.lock');
  try {
    const reg = readRegistry();
    for (const [k, r] of Object.entries(reg)) if (r === root && k.endsWith(`:${service}`)) return Number(k.split(':')[0]);
    const used = new Set(Object.keys(reg).map((k) => Number(k.split(':')[0])));
    const h = createHash('sha256').update(`${root}\0${service}`).digest().readUInt32BE(0);
    let port = RANGE_START + (h % RANGE_SIZE);
    const listening = listeningPorts();
    while (used.has(port) || listening.has(port)) port = RANGE_START + ((port - RANGE_START + 1) % RANGE_SIZE);
    reg[`${port}:${service}`] = root;
    writeFileAtomic(registryFile(), JSON.stringify(reg, null, 1) + '\n');
    return port;
  } finally {
    release();
  }
}

/** TCP ports something listens on right now (Linux /proc; empty elsewhere), so a new project avoids them. */
export function listeningPorts(): Set<number> {
  const out = new Set<number>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A') out.add(Number.parseInt(cols[1].split(':')[1], 16)); // 0A = LISTEN
    }
  }
  return out;
}

export function findPort(root: string, service: string): number | undefined {
  for (const [k, r] of Object.entries(readRegistry())) if (r === root && k.endsWith(`:${service}`)) return Number(k.split(':')[0]);
  return undefined;
}

/** Who else holds a port in the registry (for error messages). */
export function portOwner(port: number): string | undefined {
  for (const [k, r] of Object.entries(readRegistry())) if (Number(k.split(':')[0]) === port) return r;
  return undefined;
}

/** What to do about a port another program holds: the same words in `up` and `doctor`. */
export function portTakenHint(port: number): string {
  return `stop the program using port ${port} (ss -ltnp 'sport = :${port}' shows it), or set another one: port = <1024-65535> under [services.postgres] in devenv.toml`;
}
