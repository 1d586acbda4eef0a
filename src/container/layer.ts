// Deterministic tar layers: entries sorted by name, owner and times fixed, hard links written as
// plain files, so the same files give the same bytes (and digest) on every machine. node-tar
// writes the bytes: pure JS, so no difference between GNU tar, bsdtar and busybox flags.
import {createHash} from 'node:crypto';
import {createReadStream, createWriteStream, lstatSync, readdirSync, readlinkSync, renameSync, rmSync} from 'node:fs';
import {join} from 'node:path';

/** Every entry's mtime: the epoch plus one second (some tools treat 0 as "unset"). */
export const FIXED_MTIME = new Date(1000);

export interface LayerEntry {
  /** Path inside the image, relative, no leading slash: `nix/store/...-x/bin/y`, `etc/passwd`. */
  path: string;
  type: 'dir' | 'file' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  /** A file's content: a path to read or the bytes themselves. */
  source?: string;
  data?: Buffer;
  size?: number;
  linkpath?: string;
}

/** The entries of a tree on disk (a store path), owned by root, sorted, without following symlinks. */
export function treeEntries(abs: string, inImage: string): LayerEntry[] {
  const out: LayerEntry[] = [];
  const walk = (a: string, rel: string): void => {
    const st = lstatSync(a);
    const mode = st.mode & 0o7777;
    if (st.isSymbolicLink()) out.push({path: rel, type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkpath: readlinkSync(a)});
    else if (st.isDirectory()) {
      out.push({path: rel, type: 'dir', mode, uid: 0, gid: 0});
      for (const name of readdirSync(a).sort()) walk(join(a, name), `${rel}/${name}`);
    } else if (st.isFile()) out.push({path: rel, type: 'file', mode, uid: 0, gid: 0, source: a, size: st.size});
    // Sockets, fifos and devices never occur in the store; anything else is skipped.
  };
  walk(abs, inImage);
  return out;
}

/** Parent directories a set of entries needs (`nix`, `nix/store`), root-owned 0755. */
export function parents(paths: string[]): LayerEntry[] {
  const seen = new Set<string>();
  for (const p of paths) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) seen.add(parts.slice(0, i).join('/'));
  }
  return [...seen].sort().map((path) => ({path, type: 'dir' as const, mode: 0o755, uid: 0, gid: 0}));
}

export interface Written {
  digest: string;
  size: number;
}

/**
 * Write `entries` (in the given order) as an uncompressed tar to `file`, returning its sha256.
 * node-tar encodes every header (ustar + pax for long names); the stream is ours, so nothing
 * of the writing machine (uid, atime, inode) can slip in.
 * Uncompressed: the digest is the layer's diff_id as well, and gzip would cost more time than
 * the space it saves on a local copy (a registry push may compress).
 */
export async function writeLayer(entries: LayerEntry[], file: string): Promise<Written> {
  const {Header, Pax} = await import('tar');
  const tmp = `${file}.tmp-${process.pid}`;
  const hash = createHash('sha256');
  let size = 0;
  const out = createWriteStream(tmp, {mode: 0o644});
  const failed = new Promise<never>((_, reject) => out.on('error', reject));
  const write = async (buf: Buffer): Promise<void> => {
    hash.update(buf);
    size += buf.length;
    if (!out.write(buf)) await Promise.race([new Promise<void>((r) => out.once('drain', () => r())), failed]);
  };
  const pad = (n: number): Buffer => Buffer.alloc((512 - (n % 512)) % 512);
  try {
    for (const e of entries) {
      const fileSize = e.type === 'file' ? (e.data ? e.data.length : (e.size ?? 0)) : 0;
      const fields = {
        path: e.type === 'dir' ? `${e.path}/` : e.path,
        mode: e.mode,
        uid: e.uid,
        gid: e.gid,
        size: fileSize,
        mtime: FIXED_MTIME,
        type: e.type === 'dir' ? 'Directory' : e.type === 'symlink' ? 'SymbolicLink' : 'File',
        linkpath: e.linkpath,
      } as const;
      const header = new Header(fields);
      // A path or link over ustar's limits goes in a pax record first (node-tar's encoding).
      if (header.encode()) await write(new Pax({path: fields.path, linkpath: fields.linkpath, mtime: FIXED_MTIME, size: fileSize}).encode());
      await write(header.block!);
      if (e.type !== 'file' || !fileSize) continue;
      if (e.data) await write(e.data);
      else {
        let n = 0;
        for await (const chunk of createReadStream(e.source!)) {
          n += (chunk as Buffer).length;
          await write(chunk as Buffer);
        }
        if (n !== fileSize) throw new Error(`${e.source} changed size while it was read`);
      }
      await write(pad(fileSize));
    }
    await write(Buffer.alloc(1024));
    await Promise.race([new Promise<void>((r) => out.end(r)), failed]);
  } catch (err) {
    out.destroy();
    rmSync(tmp, {force: true});
    throw err;
  }
  renameSync(tmp, file);
  return {digest: `sha256:${hash.digest('hex')}`, size};
}
