// The per-project port registry: stable, never shared, and skipping ports in use when it chooses.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {createHash} from 'node:crypto';
import {mkdtempSync, rmSync} from 'node:fs';
import {connect, createServer, type Server, type Socket} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {findPort, listeningPorts, portOwner, projectPort} from '../../src/services/ports.js';

let dir: string;
const saved = process.env.XDG_STATE_HOME;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'devenv-ports-'));
  process.env.XDG_STATE_HOME = dir;
});
afterAll(() => {
  process.env.XDG_STATE_HOME = saved;
  rmSync(dir, {recursive: true, force: true});
});

/** The registry's first choice for a root (its hash), to provoke the in-use case. */
const firstChoice = (root: string) => 20000 + (createHash('sha256').update(`${root}\0postgres`).digest().readUInt32BE(0) % 12768);

describe('projectPort', () => {
  test('stable per project, distinct between projects, recorded with its owner', () => {
    const a = projectPort('/p/a', 'postgres');
    expect(projectPort('/p/a', 'postgres')).toBe(a);
    const b = projectPort('/p/b', 'postgres');
    expect(b).not.toBe(a);
    expect(findPort('/p/a', 'postgres')).toBe(a);
    expect(portOwner(b)).toBe('/p/b');
    expect(findPort('/p/never', 'postgres')).toBeUndefined();
  });

  test('a port something listens on when the project first asks is skipped', async () => {
    const root = '/p/busy';
    const want = firstChoice(root);
    const srv: Server = createServer();
    const bound = await new Promise<boolean>((r) => {
      srv.once('error', () => r(false));
      srv.listen(want, '127.0.0.1', () => r(true));
    });
    try {
      expect(bound || listeningPorts().has(want)).toBe(true);
      expect(listeningPorts().has(want)).toBe(true);
      const got = projectPort(root, 'postgres');
      expect(got).not.toBe(want);
      expect(got).toBeGreaterThanOrEqual(20000);
      // Below the kernel's ephemeral range: an outgoing connection's port is never a project's.
      expect(got).toBeLessThan(32768);
    } finally {
      srv.close();
    }
  });

  test('a port that is the local end of a connection (not listening, so a LISTEN check misses it) is skipped', async () => {
    const root = '/p/outgoing';
    const want = firstChoice(root);
    const srv: Server = createServer((c) => c.on('error', () => {}));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as {port: number}).port;
    const client: Socket = await new Promise((resolve, reject) => {
      const c = connect({host: '127.0.0.1', port, localAddress: '127.0.0.1', localPort: want}, () => resolve(c));
      c.once('error', reject);
    });
    try {
      expect(listeningPorts().has(want)).toBe(false);
      expect(projectPort(root, 'postgres')).not.toBe(want);
    } finally {
      client.destroy();
      srv.close();
    }
  });
});
