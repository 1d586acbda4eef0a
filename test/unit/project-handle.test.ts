// The Project handle: what is read of a project is read once per handle, and never stale for a
// long-lived process; the instance (dev or `devenv test`'s) is the handle's, not a global.
import {afterAll, beforeAll, expect, test} from '@jest/globals';
import {mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {manifestOf} from '../../src/project/manifest.js';
import {inputsOf, readInputs} from '../../src/project/inputs.js';
import {openProject, withInstance} from '../../src/project/project.js';
import {ManifestError} from '../../src/errors.js';

const base = realpathSync(mkdtempSync(join(tmpdir(), 'devenv-handle-')));
const root = join(base, 'shop');
beforeAll(() => {
  process.env.XDG_STATE_HOME = join(base, 'state');
  process.env.XDG_CACHE_HOME = join(base, 'cache');
  mkdirSync(join(root, 'api'), {recursive: true});
  writeFileSync(join(root, 'devenv.toml'), 'name = "shop"\npackages = ["jq"]\n');
});
afterAll(() => rmSync(base, {recursive: true, force: true}));

test('the manifest is parsed once per content: the same value until a file changes, then the new one', () => {
  const p = openProject(join(root, 'api'));
  const first = manifestOf(p)!;
  expect(first.manifest.packages).toEqual(['jq']);
  expect(manifestOf(p)).toBe(first); // parsed once
  // A long-lived process (watch, mcp, a keeper) keeps its handle: an edit must reach it.
  writeFileSync(join(root, 'devenv.toml'), 'name = "shop"\npackages = ["jq", "ripgrep"]\n');
  const second = manifestOf(p)!;
  expect(second).not.toBe(first);
  expect(second.manifest.packages).toEqual(['jq', 'ripgrep']);
  // And a local override merged in counts as a change too.
  writeFileSync(join(root, 'devenv.local.toml'), '[env]\nWHO = "me"\n');
  expect(manifestOf(p)!.manifest.env).toEqual({WHO: 'me'});
  rmSync(join(root, 'devenv.local.toml'));
  // A broken edit is an error, not the last good parse.
  writeFileSync(join(root, 'devenv.toml'), 'packages = [\n');
  expect(() => manifestOf(p)).toThrow(ManifestError);
  writeFileSync(join(root, 'devenv.toml'), 'name = "shop"\npackages = ["jq"]\n');
  expect(manifestOf(p)!.manifest.packages).toEqual(['jq']);
});

test('the inputs are read once per handle; readInputs reads again (and a new handle starts afresh)', () => {
  const p = openProject(root);
  const a = inputsOf(p);
  expect(inputsOf(p)).toBe(a);
  writeFileSync(join(root, 'extra.nix'), '{ }\n');
  expect(inputsOf(p).digest).toBe(a.digest); // the command's one read
  const fresh = readInputs(p);
  expect(fresh.digest).not.toBe(a.digest);
  expect(inputsOf(p)).toBe(fresh);
  expect(inputsOf(openProject(root)).digest).toBe(fresh.digest);
});

test("a test instance is a handle of its own: its layout differs, the developer's is untouched", () => {
  const dev = openProject(root);
  const t = withInstance(dev, {tag: 'test-1a2b', stateBase: join(base, 'tmp-state')});
  expect(dev.instance.tag).toBe('');
  expect(t.instance.tag).toBe('test-1a2b');
  expect(t.root).toBe(dev.root);
  expect(t.stateDir).toBe(dev.stateDir);
  expect(dev.layout.serviceState).toBe(join(root, '.devenv', 'state'));
  expect(t.layout.serviceState).toBe(join(base, 'tmp-state'));
  expect(dev.layout.portKey).toBe(dev.real);
  expect(t.layout.portKey).toBe(`${dev.real}#test-1a2b`);
  expect(t.layout.socketDir('postgres')).not.toBe(dev.layout.socketDir('postgres'));
  expect(dev.layout.socketDir('postgres')).toMatch(/\/pg-[0-9a-f]{12}$/);
  expect(dev.layout.runDir).toBe(join(dev.stateDir, 'processes'));
  expect(t.layout.runDir).toBe(join(dev.stateDir, 'processes-test-1a2b'));
  expect(t.layout.own('project-env.json')).toBe('project-env-test-1a2b.json');
  // Opening again does not pick up the other handle's instance (no module-global).
  expect(openProject(root).instance.tag).toBe('');
});
