// The one table of nix failures devenv can name, fed nix 2.8's real messages.
import {expect, test} from '@jest/globals';
import {briefNixError, diagnoseNixError, summarizeNixError} from '../../src/nix/nix-error.js';
import {NixFailedError} from '../../src/errors.js';

// Nix reads a copy of the inputs only: a file the flake reads that is not one is missing there.
const UNDECLARED = "error: getting status of '/nix/store/0ccnxa25whszw7mgbgyzdm4nqc0zwnm8-source/tools/motd.txt': No such file or directory\n";
const UNDECLARED_SUB = "error: path '/nix/store/0ccnxa25whszw7mgbgyzdm4nqc0zwnm8-source/vendor/lib/extra.nix' does not exist\n";
const REGISTRY =
  "warning: error: unable to download 'https://github.com/NixOS/flake-registry/raw/master/flake-registry.json': Couldn't resolve host name (6); retrying in 682 ms\nerror: unable to download 'https://github.com/NixOS/flake-registry/raw/master/flake-registry.json': Couldn't resolve host name (6)\n(use '--show-trace' to show detailed location information)\n";
const NO_FLAKES = "error: experimental Nix feature 'flakes' is disabled; use '--extra-experimental-features flakes' to override\n";
const NO_DAEMON = "error: cannot connect to socket at '/nix/var/nix/daemon-socket/socket': Connection refused\n";

test('each failure devenv can name gets its words and what to do', () => {
  expect(diagnoseNixError(UNDECLARED)).toEqual({
    code: 'nix_undeclared_input',
    message: 'the flake reads tools/motd.txt, which is not one of the environment\'s inputs; add to devenv.toml: [project] inputs = ["tools/motd.txt"]',
    hint: expect.stringMatching(/^add \[project\] inputs = \["tools\/motd\.txt"\] to devenv\.toml/),
    replacesNixLine: true,
  });
  // What is declared already stays in the line to add.
  expect(diagnoseNixError(UNDECLARED_SUB, {declared: ['scripts/*.sh']})?.message).toMatch(/\[project\] inputs = \["scripts\/\*\.sh", "vendor\/lib\/extra\.nix"\]$/);
  // A file that is not there at all, or one that looks like a secret: said so, no line to add.
  expect(diagnoseNixError(UNDECLARED, {exists: () => false})?.message).toBe('the flake reads tools/motd.txt, which does not exist in the project');
  expect(diagnoseNixError(UNDECLARED.replace('tools/motd.txt', 'prod.env'), {dotenvLike: (n) => n.endsWith('.env')})?.message).toMatch(/prod\.env, which looks like a dotenv file: devenv never gives those to nix/);
  expect(diagnoseNixError(REGISTRY)).toMatchObject({code: 'nix_no_nixpkgs_input', hint: expect.stringContaining('inputs.nixpkgs.url')});
  expect(diagnoseNixError(NO_FLAKES)).toMatchObject({code: 'nix_no_flakes', hint: expect.stringContaining('Nix 2.4')});
  expect(diagnoseNixError(NO_DAEMON)).toMatchObject({code: 'nix_no_daemon', message: "nix cannot reach the nix daemon (/nix/var/nix/daemon-socket/socket)"});
  expect(diagnoseNixError("error: attribute 'nope' missing")).toBeUndefined();
});

test("a named failure leads with devenv's words in one line (nix's store path left out), and reads back the same", () => {
  const e = new NixFailedError('nix print-dev-env', UNDECLARED, {diagnosis: diagnoseNixError(UNDECLARED)});
  expect(e.message).toBe('nix print-dev-env failed: the flake reads tools/motd.txt, which is not one of the environment\'s inputs; add to devenv.toml: [project] inputs = ["tools/motd.txt"]');
  expect(e.code).toBe('nix_undeclared_input');
  expect(e.exitCode).toBe(4);
  // status and the cached-failure path re-read the stored message through the same table.
  expect(diagnoseNixError(e.message)?.hint).toBe(e.hint);
  const plain = new NixFailedError('nix print-dev-env', "error: attribute 'nope' missing\n");
  expect([plain.code, plain.hint]).toEqual(['nix_failed', "fix the error above, then run 'devenv reload'"]);
});

// Newer Nix (2.2x, 2.34) opens with a bare "error:" and stack frames; the cause comes later.
const MISSING_NEW = `nix print-dev-env failed:
error:
       … while calling the 'derivationStrict' builtin
         at «nix-internal»/derivation-internal.nix:37:12:
           36|
           37|   strict = derivationStrict drvAttrs;
             |            ^
           38|

       … while evaluating derivation 'devenv-shell'

       (stack trace truncated; use '--show-trace' to show the full, detailed trace)

       error: attribute 'pythn311' missing
       at /nix/store/0ccnxa25whszw7mgbgyzdm4nqc0zwnm8-source/flake.nix:9:35:
            8|       devShells.x86_64-linux.default = pkgs.mkShell {
            9|         packages = [ pkgs.pythn311 ];
             |                                   ^
       Did you mean python311?
`;
const MISSING_OLD = `nix print-dev-env failed:
error: attribute 'pythn311' missing

       at /nix/store/0ccnxa25whszw7mgbgyzdm4nqc0zwnm8-source/flake.nix:9:35:

            8|       devShells.x86_64-linux.default = pkgs.mkShell {
            9|         packages = [ pkgs.pythn311 ];
             |                                   ^
       Did you mean python311?
`;

test('the cause of an evaluation error, in the layout of old and new Nix, without stack frames or code', () => {
  for (const text of [MISSING_NEW, MISSING_OLD]) {
    expect(summarizeNixError(text)).toBe("error: attribute 'pythn311' missing (flake.nix:9:35)");
    expect(briefNixError(text)).toEqual(['nix print-dev-env failed:', "error: attribute 'pythn311' missing (flake.nix:9:35)", 'Did you mean python311?']);
  }
  // Nothing but frames: never an empty "error:" as the summary.
  expect(summarizeNixError("error:\n       … while evaluating 'x'\n       something odd\n")).toBe('something odd');
});
