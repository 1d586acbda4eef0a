#!/usr/bin/env bash
# Cost of one TAB against starting node (`node -e 0`), side by side, N times each. Measured:
# `devenv remove <TAB>` (the project's packages: cat + sed over devenv.toml) and `devenv logs
# <TAB>` (its services, processes and tasks: cat + awk), the two costliest kinds of TAB.
# Usage: bash bench/completion.sh [N]
set -euo pipefail
N=${1:-200}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node "$here/bin/run.js" autocomplete bash > "$tmp/complete.bash"
printf '%s\n' 'name = "b"' 'packages = ["jq", "ripgrep", "git"]' '' '[services.postgres]' 'version = 15' \
  '[processes.web]' 'exec = "python -m http.server"' '[tasks.migrate]' 'exec = "true"' '[tasks.seed]' 'exec = "true"' > "$tmp/devenv.toml"
cd "$tmp"
tab_us() {
  bash -c '
    source ./complete.bash
    start=$(date +%s%N)
    for ((i = 0; i < '"$N"'; i++)); do COMP_WORDS=(devenv '"$1"' ""); COMP_CWORD=2; _devenv; done
    echo $(( ($(date +%s%N) - start) / '"$N"' / 1000 ))
  '
}
remove_us=$(tab_us remove)
node_us=$(bash -c '
  start=$(date +%s%N)
  for ((i = 0; i < '"$N"'; i++)); do node -e 0; done
  echo $(( ($(date +%s%N) - start) / '"$N"' / 1000 ))
')
logs_us=$(tab_us logs)
ratio() { awk "BEGIN { printf \"%.3f\", $1 / $node_us }"; }
echo "node -e 0: ${node_us} us; TAB devenv remove <TAB>: ${remove_us} us, ratio $(ratio "$remove_us")x; devenv logs <TAB>: ${logs_us} us, ratio $(ratio "$logs_us")x (limit 1.5x)"
