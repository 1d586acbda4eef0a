#!/usr/bin/env bash
# npm ci (when node_modules is missing or older than package-lock.json), then build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "build: npm ci"
  npm ci --no-audit --no-fund </dev/null
fi
echo "build: npm run build"
npm run build --silent </dev/null
