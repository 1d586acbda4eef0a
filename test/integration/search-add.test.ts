// `devenv add` checks names against the project's pinned nixpkgs (the offline override here)
// and writes nothing for a missing or invalid one; `devenv search` searches it, cached.
import {afterAll, beforeAll, expect, test} from '@jest/globals';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {initProject, makeSandbox, type Sandbox} from '../helpers/env.js';

let sb: Sandbox;
let p: string;
const files = () => ['devenv.toml', 'flake.nix'].map((f) => readFileSync(join(p, f), 'utf8'));

beforeAll(() => {
  sb = makeSandbox('devenv-search-');
  p = initProject(sb, 'proj', ['minimal']);
});
afterAll(() => sb?.cleanup());

test('add of a missing attribute writes nothing and suggests close names', () => {
  const before = files();
  const r = sb.devenv(['add', 'postgresql_51'], {cwd: p});
  expect(r.status).toBe(1);
  expect(r.stderr).toContain("devenv: 'postgresql_51' is not a package in this project's nixpkgs");
  expect(r.stderr).toMatch(/did you mean [^\n]*postgresql_15/);
  expect(files()).toEqual(before);
  const nested = sb.devenv(['add', 'python311Packages.numpyy'], {cwd: p});
  expect(nested.status).toBe(1);
  expect(nested.stderr).toContain('did you mean python311Packages.numpy?');
  expect(files()).toEqual(before);
});

test('an invalid name blames the argument (usage error), not devenv.toml', () => {
  const before = files();
  const r = sb.devenv(['add', 'a b'], {cwd: p});
  expect(r.status).toBe(2);
  expect(r.stderr).toContain("devenv: 'a b' is not a nixpkgs attribute name");
  expect(r.stderr).not.toContain('devenv.toml:');
  expect(files()).toEqual(before);
});

test('add of an existing attribute writes it', () => {
  const r = sb.devenv(['add', 'redis'], {cwd: p});
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(files()[0]).toMatch(/^packages = \["redis"\]$/m);
});

test('search finds packages in the pinned nixpkgs, cached the second time', () => {
  const first = sb.devenv(['search', 'python', '--json'], {cwd: p});
  expect(first.status).toBe(0);
  const a = JSON.parse(first.stdout);
  expect(a.cached).toBe(false);
  expect(a.results.map((r: {attr: string}) => r.attr)).toContain('python311');
  const b = JSON.parse(sb.devenv(['search', 'python', '--json'], {cwd: p}).stdout);
  expect(b).toEqual({...a, cached: true});
  const text = sb.devenv(['search', 'redis'], {cwd: p});
  expect(text.stdout).toMatch(/^redis /m);
  const none = sb.devenv(['search', 'no-such-thing-at-all'], {cwd: p});
  expect(none.status).toBe(0);
  expect(none.stderr).toContain('devenv: nothing matches');
});
