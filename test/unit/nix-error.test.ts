// The one table of nix failures devenv can name, fed nix 2.8's real messages.
import {expect, test} from '@jest/globals';
import {briefNixError, diagnoseNixError, summarizeNixError} from '../../src/nix/nix-error.js';
import {NixFailedError} from '../../src/errors.js';

const UNTRACKED = "warning: Git tree '/tmp/p' is dirty\nerror: getting status of '/nix/store/0ccnxa25whszw7mgbgyzdm4nqc0zwnm8-source/flake.nix': No such file or directory\n";
// Nix 2.34's own words for the same fault.
const UNTRACKED_NEW = 'warning: Git tree \'/tmp/p\' is dirty\nerror: Path \'flake.nix\' in the repository "/tmp/p" is not tracked by Git.\n\n       To make it visible to Nix, run:\n';
const UNTRACKED_SUB = "error: path '/nix/store/0ccnxa25whszw7mgbgyzdm4nqc0zwnm8-source/api/shell.nix' does not exist\n";
const REGISTRY =
  "warning: error: unable to download 'https://github.com/NixOS/flake-registry/raw/master/flake-registry.json': Couldn't resolve host name (6); retrying in 682 ms\nerror: unable to download 'https://github.com/NixOS/flake-registry/raw/master/flake-registry.json': Couldn't resolve host name (6)\n(use '--show-trace' to show detailed location information)\n";
const NO_FLAKES = "error: experimental Nix feature 'flakes' is disabled; use '--extra-experimental-features flakes' to override\n";
const NO_DAEMON = "error: cannot connect to socket at '/nix/var/nix/daemon-socket/socket': Connection refused\n";

test('each failure devenv can name gets its words and what to do', () => {
  expect(diagnoseNixError(UNTRACKED_NEW)).toMatchObject({code: 'nix_untracked_file', message: 'flake.nix is not tracked by git, so the flake cannot see it'});
  expect(diagnoseNixError(UNTRACKED)).toEqual({code: 'nix_untracked_file', message: 'flake.nix is not tracked by git, so the flake cannot see it', hint: expect.stringMatching(/^git add flake\.nix, or 'git add --intent-to-add flake\.nix'/)});
  expect(diagnoseNixError(UNTRACKED_SUB)?.hint).toMatch(/^git add api\/shell\.nix \(from the top of the repository\)/);
  expect(diagnoseNixError(REGISTRY)).toMatchObject({code: 'nix_no_nixpkgs_input', hint: expect.stringContaining('inputs.nixpkgs.url')});
  expect(diagnoseNixError(NO_FLAKES)).toMatchObject({code: 'nix_no_flakes', hint: expect.stringContaining('Nix 2.4')});
  expect(diagnoseNixError(NO_DAEMON)).toMatchObject({code: 'nix_no_daemon', message: "nix cannot reach the nix daemon (/nix/var/nix/daemon-socket/socket)"});
  expect(diagnoseNixError("error: attribute 'nope' missing")).toBeUndefined();
});

test("a named failure leads with devenv's words, keeps nix's line, and reads back the same", () => {
  const e = new NixFailedError('nix print-dev-env', UNTRACKED, {diagnosis: diagnoseNixError(UNTRACKED)});
  expect(e.message).toBe("nix print-dev-env failed: flake.nix is not tracked by git, so the flake cannot see it\nerror: getting status of '/nix/store/0ccnxa25whszw7mgbgyzdm4nqc0zwnm8-source/flake.nix': No such file or directory");
  expect(e.code).toBe('nix_untracked_file');
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
