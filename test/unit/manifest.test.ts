import {describe, expect, test} from '@jest/globals';
import {parseManifest} from '../../src/manifest/parse.js';
import {editPackages} from '../../src/manifest/edit.js';
import {renderManifest} from '../../src/manifest/render.js';
import {nixAttributes, summary} from '../../src/manifest/model.js';
import {ManifestError} from '../../src/errors.js';

const err = (text: string): ManifestError => {
  try {
    parseManifest(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    return e as ManifestError;
  }
  throw new Error('expected a ManifestError');
};

describe('devenv.toml parsing and validation', () => {
  test('a full manifest parses', () => {
    const m = parseManifest(`name = "app"\npackages = ["git", "python311Packages.numpy"]\n[languages.python]\nversion = "3.11"\n[services.postgres]\nversion = 15\ndatabases = ["app"]\n[env]\nFOO = "bar"\n[shell]\nhook = "echo hi"\n`);
    expect(nixAttributes(m)).toEqual(['python311', 'postgresql_15', 'git', 'python311Packages.numpy']);
    expect(summary(m)).toBe('python3 3.11, postgresql 15');
  });

  test('syntax errors name file, line and column', () => {
    const e = err('name = "app"\npackages = [\n  "git"\n  "jq"\n]\n');
    expect(e.message).toMatch(/^devenv\.toml:4:\d+: syntax error/);
    expect(e.hint).toMatch(/nothing was changed/);
  });

  test('an unterminated string points at its line', () => {
    expect(err('name = "app\n').message).toMatch(/^devenv\.toml:1:\d+: /);
  });

  test('schema errors name the key path and its line', () => {
    const e = err('name = "app"\n\n[services.postgres]\nversion = 12\n');
    expect(e.message).toBe('devenv.toml:4:1: services.postgres.version must be one of 13, 14, 15, 16, 17');
    expect(e.keyPath).toBe('services.postgres.version');
  });

  test('unknown keys are named with the known ones', () => {
    expect(err('[services.postgres]\nversoin = 15\n').message).toMatch(/devenv\.toml:2:1: unknown key 'services\.postgres\.versoin' \(known keys here: enable, version/);
  });

  test('wrong types are explained', () => {
    expect(err('packages = "git"\n').message).toBe('devenv.toml:1:1: packages must be a list');
    expect(err('[services.postgres]\nport = "5432"\n').message).toBe('devenv.toml:2:1: services.postgres.port must be a whole number');
  });

  test('package names that could inject Nix are refused', () => {
    expect(err('packages = ["git; builtins.throw \\"x\\""]\n').message).toMatch(/is not a nixpkgs attribute name/);
    expect(err('packages = ["${x}"]\n').message).toMatch(/is not a nixpkgs attribute name/);
  });

  test('env names must be shell identifiers and not reserved', () => {
    expect(err('[env]\n"1BAD" = "x"\n').message).toMatch(/^devenv\.toml:2:1: env\.1BAD cannot be set: environment variable names are letters/);
    expect(err('[env]\nPATH = "x"\n').message).toMatch(/env\.PATH cannot be set: devenv builds PATH from `packages`/);
    expect(err('[env]\nshellHook = "x"\n').message).toMatch(/env\.shellHook cannot be set: an attribute of the nix derivation/);
  });

  test('control characters other than tab, newline and CR are refused with the reason', () => {
    expect(err('[env]\nX = "a\\u001bb"\n').message).toBe('devenv.toml:2:1: env.X holds a control character (only tab, newline and carriage return are allowed: nix cannot pass the others through)');
    expect(parseManifest('[env]\nX = "a\\tb\\nc"\n').env).toEqual({X: 'a\tb\nc'});
  });

  test('nixpkgs url must be a flake reference without quotes or interpolation', () => {
    expect(err('[nixpkgs]\nurl = "github:a/b\\" + x"\n').message).toMatch(/nixpkgs\.url/);
  });
});

describe('editing packages keeps the rest of the file', () => {
  const text = '# my project\nname = "app" # inline\npackages = ["git"] # tools\n\n[languages.python]\n# comment kept\nversion = "3.11"\n';

  test('add appends and keeps comments', () => {
    const r = editPackages(text, 'add', ['jq', 'python311Packages.numpy']);
    expect(r.changed).toEqual(['jq', 'python311Packages.numpy']);
    expect(r.text).toBe(text.replace('packages = ["git"]', 'packages = ["git", "jq", "python311Packages.numpy"]'));
  });

  test('adding twice or removing a missing package says so and changes nothing', () => {
    expect(editPackages(text, 'add', ['git'])).toEqual({text, changed: [], skipped: ['git']});
    expect(editPackages(text, 'remove', ['nope'])).toEqual({text, changed: [], skipped: ['nope']});
  });

  test('remove from a multi-line list keeps it multi-line', () => {
    const multi = 'packages = [\n  "git",\n  "jq", # json\n]\n[env]\nA = "b"\n';
    const r = editPackages(multi, 'remove', ['jq']);
    expect(r.text).toBe('packages = [\n  "git",\n]\n[env]\nA = "b"\n');
  });

  test('a file without a packages list gets one before the first table', () => {
    const r = editPackages('name = "x"\n[env]\nA = "b"\n', 'add', ['git']);
    expect(parseManifest(r.text).packages).toEqual(['git']);
    expect(r.text).toBe('name = "x"\npackages = ["git"]\n\n[env]\nA = "b"\n');
  });

  test('an invalid package name is refused before anything is written', () => {
    expect(() => editPackages(text, 'add', ['bad name'])).toThrow(/not a nixpkgs attribute name/);
  });

  test('an invalid file is refused', () => {
    expect(() => editPackages('packages = [', 'add', ['git'])).toThrow(ManifestError);
  });
});

test('rendered manifests validate and round-trip', () => {
  const m = {name: 'app', packages: ['git'], languages: {python: {version: '3.11'}}, services: {postgres: {version: 15, databases: ['app']}}, env: {Q: 'a"b\\c\n${x}'}, shell: {hook: 'echo "hi"'}};
  expect(parseManifest(renderManifest(m, 'test'))).toEqual({...m, nixpkgs: {url: 'github:NixOS/nixpkgs/nixos-24.05'}});
});
