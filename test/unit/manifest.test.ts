import {describe, expect, test} from '@jest/globals';
import {parseManifest} from '../../src/manifest/parse.js';
import {editPackages} from '../../src/manifest/edit.js';
import {renderManifest} from '../../src/manifest/render.js';
import {DEFAULT_NIXPKGS_URL, DEFAULT_POSTGRES, DEFAULT_PYTHON, nixAttributes, summary} from '../../src/manifest/model.js';
import {CHANNEL, channelFor, releaseOf, VERSION_KEYS} from '../../src/manifest/channel.js';
import {schema, schemaNode, versionEnum} from '../../src/manifest/parse.js';
import {composeTemplates, listTemplates} from '../../src/project/templates.js';
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
    expect(e.message).toBe('devenv.toml:4:1: services.postgres.version 12 is not in nixos-26.05, which has 14, 15, 16, 17, 18');
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

describe('add and remove edit the document, not a re-serialisation', () => {
  // Everything a user may have written around and inside the list.
  const FULL = `# devenv.toml for the API   (top comment)
name   =   "api"   # odd spacing kept

packages = [   # tools we need
    "git",        # version control
  # "cmake", # re-enable for the C build
    'jq'   ,   # literal string, odd spacing

    # a blank line above and this note stay
    "python311Packages.numpy" # last one, no trailing comma
]   # after the list

[languages.python]
version = "3.11"   # keep

[env]
NOTE = "packages = [\\"not\\", \\"this\\"]  # not a comment"
`;

  test('add then remove of the same names gives back the file byte for byte', () => {
    const added = editPackages(FULL, 'add', ['hello', 'openssl']);
    expect(parseManifest(added.text).packages).toEqual(['git', 'jq', 'python311Packages.numpy', 'hello', 'openssl']);
    // Every line of the original is still there, in order; only the new elements are new.
    expect(added.text).toBe(FULL.replace('"python311Packages.numpy" # last one', '"python311Packages.numpy", # last one').replace('# last one, no trailing comma\n', '# last one, no trailing comma\n    "hello",\n    "openssl",\n'));
    const back = editPackages(added.text, 'remove', ['hello', 'openssl']);
    expect(back.text).toBe(FULL.replace('"python311Packages.numpy" # last one', '"python311Packages.numpy", # last one'));
  });

  test('remove takes an element with its own comment and leaves every other comment', () => {
    const r = editPackages(FULL, 'remove', ['jq', 'git']);
    expect(parseManifest(r.text).packages).toEqual(['python311Packages.numpy']);
    expect(r.text).toBe(FULL.replace("    \"git\",        # version control\n", '').replace("    'jq'   ,   # literal string, odd spacing\n", ''));
    expect(r.text).toContain('# "cmake", # re-enable for the C build');
    expect(r.text).toContain('# a blank line above and this note stay');
    expect(r.text).toContain(']   # after the list');
  });

  test('single-line lists stay single-line, trailing commas and inline comments kept', () => {
    const one = 'packages = [ "git" , "jq", ]  # tools\n[env]\nA = "b" # c\n';
    expect(editPackages(one, 'add', ['hello']).text).toBe('packages = [ "git" , "jq", "hello", ]  # tools\n[env]\nA = "b" # c\n');
    expect(editPackages(one, 'remove', ['git']).text).toBe('packages = [ "jq", ]  # tools\n[env]\nA = "b" # c\n');
    expect(editPackages(one, 'remove', ['jq']).text).toBe('packages = [ "git" , ]  # tools\n[env]\nA = "b" # c\n');
    expect(editPackages('packages = [] # none yet\n', 'add', ['git', 'jq']).text).toBe('packages = ["git", "jq"] # none yet\n');
    expect(editPackages('packages = ["a", "b", "c"]\n', 'remove', ['b']).text).toBe('packages = ["a", "c"]\n');
    expect(editPackages('packages = ["a", "b", "c"]\n', 'remove', ['c', 'a']).text).toBe('packages = ["b"]\n');
  });

  test('an empty multi-line list with only comments gets the new element inside, comments kept', () => {
    const empty = 'packages = [\n  # "cmake",\n]\n';
    expect(editPackages(empty, 'add', ['git']).text).toBe('packages = [\n  # "cmake",\n  "git",\n]\n');
    const closing = 'packages = [\n  "git"]\n';
    const r = editPackages(closing, 'add', ['jq']);
    expect(parseManifest(r.text).packages).toEqual(['git', 'jq']);
    expect(r.text).toBe('packages = [\n  "git",\n  "jq",\n]\n');
  });

  test('a package a section brings in is named with that section', () => {
    const py = 'packages = ["git"]\n\n[languages.python]\nversion = "3.11"\n';
    expect(editPackages(py, 'remove', ['python311'])).toEqual({text: py, changed: [], skipped: ['python311'], providedBy: {python311: '[languages.python]'}});
  });
});

test('rendered manifests validate and round-trip', () => {
  const m = {name: 'app', packages: ['git'], languages: {python: {version: '3.11'}}, services: {postgres: {version: 15, databases: ['app']}}, env: {Q: 'a"b\\c\n${x}'}, shell: {hook: 'echo "hi"'}};
  expect(parseManifest(renderManifest(m, 'test'))).toEqual({...m, nixpkgs: {url: 'github:NixOS/nixpkgs/nixos-26.05'}});
  const withConfig = {...m, nixpkgs: {url: CHANNEL.url, config: {allowUnfree: true, permittedInsecurePackages: ['nodejs-20.20.2']}}};
  expect(parseManifest(renderManifest(withConfig, 'test'))).toEqual(withConfig);
});

describe('the channel table', () => {
  test('new projects pin the current stable channel', () => {
    expect(DEFAULT_NIXPKGS_URL).toBe('github:NixOS/nixpkgs/nixos-26.05');
    expect(CHANNEL).toMatchObject({name: 'nixos-26.05', release: '26.05', url: DEFAULT_NIXPKGS_URL});
  });

  test('lists what nixos-26.05 has, with the attribute each version maps to', () => {
    expect(CHANNEL.python.map((e) => [e.version, e.attr])).toEqual([['3.11', 'python311'], ['3.12', 'python312'], ['3.13', 'python313'], ['3.14', 'python314'], ['3.15', 'python315']]);
    expect(CHANNEL.node.map((e) => [e.version, e.attr])).toEqual([['22', 'nodejs_22'], ['24', 'nodejs_24'], ['26', 'nodejs_26']]);
    expect(CHANNEL.postgres.map((e) => [e.version, e.attr])).toEqual([['14', 'postgresql_14'], ['15', 'postgresql_15'], ['16', 'postgresql_16'], ['17', 'postgresql_17'], ['18', 'postgresql_18']]);
    const m = parseManifest('[languages.python]\nversion = "3.14"\n[languages.node]\nversion = "24"\n[services.postgres]\nversion = 18\n');
    expect(nixAttributes(m)).toEqual(['python314', 'nodejs_24', 'postgresql_18']);
  });

  test('the schema file offers exactly the table\'s versions (editors see what validation accepts)', () => {
    for (const kind of ['python', 'node', 'postgres'] as const) {
      expect(schemaNode(schema, VERSION_KEYS[kind]).enum).toEqual(versionEnum(CHANNEL, kind));
      expect(String(schemaNode(schema, VERSION_KEYS[kind]).description)).toContain(CHANNEL.name);
    }
  });

  test('a version the channel lacks is an error naming the channel, its versions and the line', () => {
    const py = err('name = "app"\n[languages.python]\nversion = "3.10"\n');
    expect(py.message).toBe('devenv.toml:3:1: languages.python.version "3.10" is not in nixos-26.05, which has 3.11, 3.12, 3.13, 3.14, 3.15 (pre-release)');
    expect(py.hint).toMatch(/pin a nixpkgs branch that has it in \[nixpkgs\] url; nothing was changed/);
    expect(err('[languages.node]\nversion = "20"\n').message).toBe('devenv.toml:2:1: languages.node.version "20" is not in nixos-26.05, which has 22, 24, 26');
    expect(err('[nixpkgs]\nurl = "github:NixOS/nixpkgs/nixos-26.05"\n[services.postgres]\nversion = 13\n').message).toBe('devenv.toml:4:1: services.postgres.version 13 is not in nixos-26.05, which has 14, 15, 16, 17, 18');
  });

  test('the table follows the channel the project pins, in any of its URL spellings', () => {
    for (const url of ['github:NixOS/nixpkgs/nixos-26.05', 'github:nixos/nixpkgs/nixos-26.05-small', 'github:NixOS/nixpkgs?ref=nixpkgs-26.05-darwin', 'https://channels.nixos.org/nixos-26.05/nixexprs.tar.xz']) {
      expect(channelFor(url)).toBe(CHANNEL);
    }
    expect(releaseOf('github:NixOS/nixpkgs/nixos-24.05')).toBe('24.05');
    for (const url of ['github:NixOS/nixpkgs/nixos-24.05', 'github:NixOS/nixpkgs/nixos-unstable', 'path:/src/nixpkgs', 'github:NixOS/nixpkgs/0123456789abcdef0123456789abcdef01234567']) {
      expect(channelFor(url)).toBeUndefined();
    }
  });

  test('a project pinning another channel gets a shape check only (nix knows that channel)', () => {
    const m = parseManifest('[nixpkgs]\nurl = "github:NixOS/nixpkgs/nixos-24.05"\n[languages.python]\nversion = "3.10"\n[languages.node]\nversion = "18"\n[services.postgres]\nversion = 13\n');
    expect(nixAttributes(m)).toEqual(['python310', 'nodejs_18', 'postgresql_13']);
    expect(err('[nixpkgs]\nurl = "path:/x"\n[languages.python]\nversion = "3.x"\n').message).toMatch(/^devenv\.toml:4:1: languages\.python\.version: '3\.x' is not allowed here/);
  });

  test('[nixpkgs.config] takes allowUnfree and permittedInsecurePackages, and nothing unknown', () => {
    const m = parseManifest('[nixpkgs.config]\nallowUnfree = true\npermittedInsecurePackages = ["nodejs-20.20.2"]\n');
    expect(m.nixpkgs?.config).toEqual({allowUnfree: true, permittedInsecurePackages: ['nodejs-20.20.2']});
    expect(err('[nixpkgs.config]\nallowUnfree = "yes"\n').message).toBe('devenv.toml:2:1: nixpkgs.config.allowUnfree must be a boolean');
    expect(err('[nixpkgs.config]\nallowUnfre = true\n').message).toMatch(/^devenv\.toml:2:1: unknown key 'nixpkgs\.config\.allowUnfre' \(known keys here: allowUnfree,/);
    expect(err('[nixpkgs.config]\npermittedInsecurePackages = ["a\\" ]; x = [\\"b"]\n').message).toMatch(/nixpkgs\.config\.permittedInsecurePackages\.0: 'a" \]; x = \["b' is not allowed here/);
  });

  test('templates keep Python 3.11 and PostgreSQL 15, which the channel has, and every template validates', () => {
    expect(CHANNEL.python.map((e) => e.version)).toContain(DEFAULT_PYTHON);
    expect(CHANNEL.postgres.map((e) => e.version)).toContain(String(DEFAULT_POSTGRES));
    expect(nixAttributes(composeTemplates(['python-postgres'], 'app').manifest)).toEqual(['python311', 'postgresql_15']);
    for (const t of listTemplates()) {
      const m = parseManifest(renderManifest(composeTemplates([t.name], 'app').manifest));
      expect(m.nixpkgs?.url).toBe(CHANNEL.url);
    }
  });
});

describe('[shell] aliases and functions', () => {
  const err = (text: string): Error => {
    try {
      parseManifest(text);
    } catch (e) {
      return e as Error;
    }
    throw new Error('parsed');
  };

  test('accepted: names with - and ., bash bodies, fish bodies for named functions', () => {
    const m = parseManifest('[shell]\naliases = {t = "devenv run test", "gs-short" = "git status -s"}\n[shell.functions]\ngreet = "echo hi $1"\n"my.fn" = "true"\n[shell.functions.fish]\ngreet = "echo hi $argv[1]"\n');
    expect(m.shell).toEqual({aliases: {t: 'devenv run test', 'gs-short': 'git status -s'}, functions: {greet: 'echo hi $1', 'my.fn': 'true', fish: {greet: 'echo hi $argv[1]'}}});
  });

  test('names that would break the shell or the hook are refused with file:line', () => {
    expect(err('name = "x"\n\n[shell]\naliases = {cd = "ls"}\n').message).toMatch(/^devenv\.toml:4:1: shell\.aliases\.cd: cannot be a project alias: a keyword, builtin or special function/);
    expect(err('[shell.functions]\nok = "true"\neval = "true"\n').message).toMatch(/^devenv\.toml:3:1: shell\.functions\.eval: cannot be a project function/);
    expect(err('[shell.aliases]\n_devenv_hook = "true"\n').message).toMatch(/^devenv\.toml:2:1: shell\.aliases\._devenv_hook: .*reserved for devenv's own hook/);
    expect(err('[shell.functions]\n__devenv_unload = "true"\n').message).toMatch(/reserved for devenv's own hook/);
    for (const n of ['printf', 'source', 'builtin', 'set', 'string', 'functions', 'precmd', 'fish_prompt', 'TRAPINT', 'devenv', '[['])
      expect(err(`[shell.functions]\n${JSON.stringify(n)} = "true"\n`)).toBeInstanceOf(ManifestError);
    expect(err('[shell.functions]\n"a b" = "true"\n').message).toMatch(/shell\.functions\.a b: cannot be a project function: names are letters/);
    expect(err('[shell.functions]\n"-x" = "true"\n')).toBeInstanceOf(ManifestError);
  });

  test('a fish body needs its function in [shell.functions]', () => {
    expect(err('[shell.functions]\ngreet = "echo"\n[shell.functions.fish]\nother = "echo"\n').message).toMatch(/^devenv\.toml:4:1: shell\.functions\.fish\.other: there is no other in \[shell\.functions\]/);
  });
});
