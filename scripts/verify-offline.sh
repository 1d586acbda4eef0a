#!/usr/bin/env bash
# After the suite: every store path of the offline package set (each package the fixture
# offers that the tests built, its closure, and the imported Debian root) must still be as nix
# made it. Servers, pythons and package managers ran from these paths, some as root, who can
# write there; a modified path fails `nix-store --verify-path` (and a teammate's substitution).
# Writes a jest-shaped result (one test) to $1, for run-tests.sh's closing line.
set -uo pipefail
OUT="$1"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
F="$REPO/test/fixtures/nixpkgs-offline"
NIX=(nix --extra-experimental-features 'nix-command flakes')
result() { # passed failed message
  node -e 'require("fs").writeFileSync(process.argv[1], JSON.stringify({numPassedTests: +process.argv[2], numFailedTests: +process.argv[3], numPendingTests: 0, numFailedTestSuites: +process.argv[3], numRuntimeErrorTestSuites: 0, numTotalTests: 1}))' "$OUT" "$1" "$2"
  printf 'verify-offline: %s\n' "$3"
}
outs="$("${NIX[@]}" eval --json "path:$F#legacyPackages.x86_64-linux" --apply 'ps: builtins.filter (p: p != null) (map (n: let v = builtins.tryEval (let x = ps.${n}; in if (x.type or null) == "derivation" then x.outPath else null); in if v.success then v.value else null) (builtins.attrNames ps))' 2>&1)" \
  || { result 0 1 "cannot list the offline packages: $outs"; exit 0; }
mapfile -t built < <(node -e 'for (const p of new Set(JSON.parse(process.argv[1]))) if (require("fs").existsSync(p)) console.log(p)' "$outs")
root="$(readlink -f /nix/var/nix/gcroots/devenv-offline/debian-bookworm-root 2>/dev/null || true)"
[ -n "$root" ] && [ -e "$root" ] && built+=("$root")
[ "${#built[@]}" -gt 0 ] || { result 0 1 "no offline package is in the store"; exit 0; }
mapfile -t closure < <(nix-store -qR "${built[@]}" | sort -u)
if err="$(nix-store --verify-path "${closure[@]}" 2>&1)" && [ -z "$err" ]; then
  result 1 0 "${#closure[@]} store paths of the offline package set (${#built[@]} packages) unmodified"
else
  result 0 1 "modified offline store paths: $err"
fi
