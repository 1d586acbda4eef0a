import {describe, expect, test} from '@jest/globals';
import {flakeOwnership, renderFlake} from '../../src/flake/render.js';
import {nixAttrName, nixAttrPath, nixString} from '../../src/flake/nix-string.js';
import {inputUrls, lockState, originalOf} from '../../src/flake/lock.js';

describe('Nix string escaping', () => {
  test('escapes backslash, quote and every dollar', () => {
    expect(nixString('a\\b"c${d}$e')).toBe('"a\\\\b\\"c\\${d}\\$e"');
    expect(nixString('line1\nline2\ttab\r')).toBe('"line1\\nline2\\ttab\\r"');
    expect(nixString('')).toBe('""');
  });

  test('attribute names are quoted when not plain identifiers or keywords', () => {
    expect(nixAttrName('pkg-config')).toBe('pkg-config');
    expect(nixAttrName('with')).toBe('"with"');
    expect(nixAttrPath('pkgs', 'python311Packages.numpy')).toBe('pkgs.python311Packages.numpy');
    expect(nixAttrPath('pkgs', 'a.in')).toBe('pkgs.a."in"');
  });
});

describe('generated flake', () => {
  const m = {name: 'app', languages: {python: {version: '3.11'}}, services: {postgres: {version: 15}}, env: {X: 'y'}, shell: {hook: 'echo hi'}};

  test('pins nixpkgs, covers four systems, lists packages, env and hook', () => {
    const f = renderFlake(m);
    expect(f).toContain('inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";');
    for (const s of ['x86_64-linux', 'aarch64-linux', 'x86_64-darwin', 'aarch64-darwin']) expect(f).toContain(`"${s}"`);
    expect(f).toContain('pkgs.python311');
    expect(f).toContain('pkgs.postgresql_15');
    expect(f).toMatch(/ env = \{\n +X = "y";\n +\};/);
    expect(f).toContain('shellHook = "echo hi";');
  });

  test('imports nixpkgs with the [nixpkgs.config] of devenv.toml, escaped', () => {
    const f = renderFlake({...m, nixpkgs: {config: {allowUnfree: true, permittedInsecurePackages: ['nodejs-20.20.2', 'a"${b}']}}});
    expect(f).toContain('let pkgs = import nixpkgs { inherit system; config = configFor system; overlays = [ ]; };');
    expect(f).toMatch(/config = \{\n +allowUnfree = true;\n +permittedInsecurePackages = \[ "nodejs-20\.20\.2" "a\\"\\\$\{b\}" \];\n +\};/);
    expect(renderFlake(m)).toContain('config = { };');
    expect(f).not.toContain('legacyPackages');
  });

  test('keeps darwin and opts x86_64-darwin in where nixpkgs 26.11+ requires it', () => {
    const f = renderFlake(m);
    expect(f).toContain('system == "x86_64-darwin" && builtins.compareVersions (nixpkgs.lib.trivial.release or "0") "26.11" >= 0');
    expect(f).toContain('allowDeprecatedx86_64Darwin = "force";');
  });

  test('env goes through mkShell\'s env (exported under __structuredAttrs too); none, no env attribute', () => {
    const f = renderFlake({...m, env: {A: '1', 'with': '$x'}});
    expect(f).toMatch(/env = \{\n +A = "1";\n +"with" = "\\\$x";\n +\};/);
    expect(renderFlake({name: 'x'})).not.toContain('env =');
  });

  test('knows its own output from a hand-edited or foreign flake', () => {
    const f = renderFlake(m);
    expect(flakeOwnership(f)).toBe('generated');
    expect(flakeOwnership(f.replace('pkgs.python311', 'pkgs.python312'))).toBe('edited');
    expect(flakeOwnership('{ outputs = _: {}; }')).toBe('foreign');
  });
});

describe('flake.lock against flake.nix', () => {
  const lock = (original: Record<string, string>) => JSON.stringify({nodes: {nixpkgs: {locked: {...original, narHash: 'sha256-x', lastModified: 1}, original}, root: {inputs: {nixpkgs: 'nixpkgs'}}}, root: 'root', version: 7});
  const flake = (url: string) => renderFlake({name: 'app', nixpkgs: {url}});

  test('a lock of the URL flake.nix names is current', () => {
    expect(inputUrls(flake('github:NixOS/nixpkgs/nixos-26.05'))).toEqual({nixpkgs: 'github:NixOS/nixpkgs/nixos-26.05'});
    expect(lockState(flake('github:NixOS/nixpkgs/nixos-26.05'), lock({type: 'github', owner: 'NixOS', repo: 'nixpkgs', ref: 'nixos-26.05'}))).toBe('current');
    expect(lockState(flake('path:/src/nixpkgs'), lock({type: 'path', path: '/src/nixpkgs'}))).toBe('current');
    expect(lockState(flake('github:NixOS/nixpkgs/0123456789abcdef0123456789abcdef01234567'), lock({type: 'github', owner: 'NixOS', repo: 'nixpkgs', rev: '0123456789abcdef0123456789abcdef01234567'}))).toBe('current');
  });

  test('a changed [nixpkgs] url makes the lock stale', () => {
    expect(lockState(flake('github:NixOS/nixpkgs/nixos-26.05'), lock({type: 'github', owner: 'NixOS', repo: 'nixpkgs', ref: 'nixos-24.05'}))).toBe('stale');
    expect(lockState(flake('path:/src/other'), lock({type: 'path', path: '/src/nixpkgs'}))).toBe('stale');
    expect(lockState(flake('github:NixOS/nixpkgs/nixos-26.05'), '{"nodes":{"root":{}},"root":"root","version":7}')).toBe('stale');
    expect(lockState(flake('github:NixOS/nixpkgs/nixos-26.05'), 'not json')).toBe('stale');
  });

  test('forms devenv cannot compare are left to nix', () => {
    expect(lockState(flake('git+https://example.org/nixpkgs?ref=main'), lock({type: 'git', url: 'https://example.org/nixpkgs', ref: 'main'}))).toBe('unknown');
    expect(lockState('{ inputs = { nixpkgs = { url = "github:a/b"; }; }; outputs = _: {}; }', lock({type: 'github', owner: 'a', repo: 'b'}))).toBe('unknown');
    expect(originalOf('github:NixOS/nixpkgs?ref=nixos-26.05')).toBeUndefined();
  });
});
