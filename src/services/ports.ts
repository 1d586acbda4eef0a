// A stable TCP port per project: chosen once, recorded in the user's state dir, never
// handed to two projects (devenv.sh#3208 is what happens otherwise).
import {createHash} from 'node:crypto';
import {readdirSync, readFileSync, readlinkSync} from 'node:fs';
import {join} from 'node:path';
import {stateDir} from '../paths.js';
import {readJson, tryLock, writeFileAtomic} from '../util/fs.js';

// 20000-32767: below Linux's default ephemeral range (32768-60999), so the local port of some
// outgoing connection (which a LISTEN check does not see) never holds a project's port.
const RANGE_START = 20000;
const RANGE_SIZE = 12768;
const registryFile = (): string => join(stateDir(), 'ports.json');

type Registry = Record<string, string>; // "port:service" key -> root

function readRegistry(): Registry {
  return readJson<Registry>(registryFile()) ?? {};
}

export function lockSync(file: string): () => void {
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
    // Any local port in use (listening, or the end of a connection) is skipped.
    const taken = new Set(tcpSockets().map((s) => s.port));
    while (used.has(port) || taken.has(port)) port = RANGE_START + ((port - RANGE_START + 1) % RANGE_SIZE);
    reg[`${port}:${service}`] = root;
    writeFileAtomic(registryFile(), JSON.stringify(reg, null, 1) + '\n');
    return port;
  } finally {
    release();
  }
}

/** TCP sockets (Linux /proc/net/tcp{,6}; none elsewhere): local port, socket inode, LISTEN or not. */
function tcpSockets(): {port: number; inode: string; listening: boolean}[] {
  const out: {port: number; inode: string; listening: boolean}[] = [];
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // cols[1] = local address:port in hex, cols[3] = state (0A = LISTEN), cols[9] = inode
      if (cols.length > 9) out.push({port: Number.parseInt(cols[1].split(':')[1] ?? '', 16), inode: cols[9], listening: cols[3] === '0A'});
    }
  }
  return out;
}

/** TCP ports something listens on right now. */
export function listeningPorts(): Set<number> {
  return new Set(tcpSockets().filter((s) => s.listening).map((s) => s.port));
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

/** Forget every port of a key (a finished `devenv test` instance). */
export function releasePorts(pred: (root: string) => boolean): string[] {
  const release = lockSync(registryFile() + '.lock');
  try {
    const reg = readRegistry();
    const dropped: string[] = [];
    for (const [k, r] of Object.entries(reg)) {
      if (pred(r)) {
        delete reg[k];
        dropped.push(k);
      }
    }
    if (dropped.length) writeFileAtomic(registryFile(), JSON.stringify(reg, null, 1) + '\n');
    return dropped;
  } finally {
    release();
  }
}

/** Every (port, service, root) in the registry. */
export function registeredPorts(): {port: number; service: string; root: string}[] {
  return Object.entries(readRegistry()).map(([k, root]) => {
    const i = k.indexOf(':');
    return {port: Number(k.slice(0, i)), service: k.slice(i + 1), root};
  });
}

/**
 * The pid listening on a TCP port, when it can be known: Linux /proc, and only for processes
 * whose fds we may read (our own). undefined elsewhere.
 */
export function portTaker(port: number): {pid: number; command?: string} | undefined {
  const inodes = new Set(tcpSockets().filter((s) => s.listening && s.port === port).map((s) => s.inode));
  if (!inodes.size) return undefined;
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return undefined;
  }
  for (const p of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${p}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${p}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1])) {
        let command: string | undefined;
        try {
          command = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
        } catch {}
        return {pid: Number(p), command};
      }
    }
  }
  return undefined;
}

/** A port nobody listens on and no project holds, near `from`: what to offer instead of a taken one. */
export async function offerPort(from: number): Promise<number | undefined> {
  const {portFree} = await import('./process.js');
  const used = new Set(registeredPorts().map((e) => e.port));
  for (let i = 1; i < 200; i++) {
    const p = RANGE_START + ((from - RANGE_START + i + RANGE_SIZE) % RANGE_SIZE);
    if (used.has(p)) continue;
    if ((await portFree(p)).free) return p;
  }
  return undefined;
}

/** "port 5432 on 127.0.0.1 is in use by pid 123 (nc -l 5432)" plus the hint offering another. */
export async function portTakenError(port: number, service: string, section: string, root: string): Promise<{message: string; hint: string}> {
  const taker = portTaker(port);
  const other = portOwner(port);
  const who = taker ? ` by pid ${taker.pid}${taker.command ? ` (${taker.command.slice(0, 80)})` : ''}` : ' by another program';
  const assigned = other && other !== root ? `; devenv assigned it to ${other}` : '';
  const offer = await offerPort(port);
  return {
    message: `${service}: port ${port} on 127.0.0.1 is already in use${who}${assigned}`,
    hint: `stop ${taker ? `pid ${taker.pid}` : `the program using port ${port}`}${offer ? `, or use port ${offer} (free now): port = ${offer} under [${section}] in devenv.toml` : `, or set port = <1024-65535> under [${section}] in devenv.toml`}`,
  };
}

/** What to do about a port another program holds: the same words in `up` and `doctor`. */
export function portTakenHint(port: number): string {
  return `stop the program using port ${port} (ss -ltnp 'sport = :${port}' shows it), or set another one: port = <1024-65535> under [services.postgres] in devenv.toml`;
}
