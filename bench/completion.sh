#!/usr/bin/env bash
# Cost of one TAB (the most expensive case: `devenv remove <TAB>`, which reads the project's
# packages with cat + sed) against starting node (`node -e 0`), side by side, N times each.
# Usage: bash bench/completion.sh [N]
set -euo pipefail
N=${1:-200}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node "$here/bin/run.js" autocomplete bash > "$tmp/complete.bash"
printf 'name = "b"\npackages = ["jq", "ripgrep", "git"]\n\n[services.postgres]\nversion = 15\n' > "$tmp/devenv.toml"
cd "$tmp"
tab_ms=$(bash -c '
  source ./complete.bash
  start=$(date +%s%N)
  for ((i = 0; i < '"$N"'; i++)); do COMP_WORDS=(devenv remove ""); COMP_CWORD=2; _devenv; done
  echo $(( ($(date +%s%N) - start) / '"$N"' / 1000 ))
')
node_ms=$(bash -c '
  start=$(date +%s%N)
  for ((i = 0; i < '"$N"'; i++)); do node -e 0; done
  echo $(( ($(date +%s%N) - start) / '"$N"' / 1000 ))
')
echo "TAB (devenv remove <TAB>): ${tab_ms} us; node -e 0: ${node_ms} us; ratio $(awk "BEGIN { printf \"%.3f\", $tab_ms / $node_ms }")x (limit 1.5x)"
