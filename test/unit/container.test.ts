// The image's pure parts: how store paths become layers, the start order, the entrypoint's quoting.
import {describe, expect, test} from '@jest/globals';
import {spawnSync} from 'node:child_process';
import {groupLayers, MAX_LAYERS} from '../../src/container/image.js';
import {entrypointScript, imagePorts, sq, startOrder} from '../../src/container/entrypoint.js';
import type {Manifest} from '../../src/manifest/model.js';

describe('layers', () => {
  test('one layer per store path up to the cap; past it the largest keep theirs and the rest share the last', () => {
    const few = Array.from({length: 5}, (_, i) => ({path: `/nix/store/${i}-p`, narSize: i}));
    expect(groupLayers(few)).toEqual(few.map((p) => [p.path]));
    const many = Array.from({length: 150}, (_, i) => ({path: `/nix/store/${String(i).padStart(3, '0')}-p`, narSize: i * 10}));
    const g = groupLayers(many);
    expect(g).toHaveLength(MAX_LAYERS);
    expect(g.slice(0, -1).every((l) => l.length === 1)).toBe(true);
    // The 99 largest (sizes 510..1490) alone; the 51 smallest together.
    expect(g.slice(0, -1).flat()).toEqual(many.slice(51).map((p) => p.path));
    expect(g.at(-1)).toEqual(many.slice(0, 51).map((p) => p.path));
  });
});

describe('entrypoint', () => {
  const m: Manifest = {
    name: 'shop',
    services: {postgres: {databases: ['shop']}},
    tasks: {migrate: {exec: 'echo migrate', after: ['postgres']}, unused: {exec: 'false'}},
    processes: {web: {exec: 'python3 web.py', port: 'auto', after: ['migrate']}, worker: {exec: 'w', after: ['web']}, api: {exec: 'a', port: 'auto'}},
  };

  test('starts services, then the tasks and processes that name them, in dependency order; unnamed tasks never run', () => {
    expect(startOrder(m).map((u) => u.name)).toEqual(['api', 'postgres', 'migrate', 'web', 'worker']);
    expect(imagePorts(m)).toEqual({postgres: 5432, api: 8000, web: 8001});
    expect(() => startOrder({processes: {a: {exec: 'x', after: ['b']}, b: {exec: 'y', after: ['a']}}})).toThrow(/cycle/);
  });

  test('values from devenv.toml stay data: quotes, $ and backticks reach the command unexpanded', () => {
    const hostile = "echo '$(touch /tmp/pwned)' \"`id`\" $HOME";
    expect(sq(hostile)).toBe(`'echo '\\''$(touch /tmp/pwned)'\\'' "\`id\`" $HOME'`);
    const script = entrypointScript({manifest: {processes: {x: {exec: hostile, env: {A: "it's $B"}}}}, bash: '/bin/bash', tools: {mkdir: '/bin/mkdir', sleep: '/bin/sleep', chmod: '/bin/chmod'}, user: 'u', workdir: '/app'});
    const r = spawnSync('bash', ['-n'], {input: script, encoding: 'utf8'});
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
