// The per-project port registry: stable, never shared, and skipping ports in use when it chooses.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {createHash} from 'node:crypto';
import {mkdtempSync, rmSync} from 'node:fs';
import {createServer, type Server} from 'node:net';
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
const firstChoice = (root: string) => 20000 + (createHash('sha256').update(`${root}\0postgres`).digest().readUInt32BE(0) % 20000);

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
      expect(got).toBeLessThan(40000);
    } finally {
      srv.close();
    }
  });
});
