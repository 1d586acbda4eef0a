#!/usr/bin/env bash
# Run jest as the unprivileged test user against the nix-daemon, in a clean environment.
#   scripts/run-jest.sh WORKDIR RESULTS_JSON [jest args...]
# Used by run-tests.sh on the host and by sid-run.sh inside the Debian sid root. Run as root,
# after setup-machine.sh and the build. Exit code: jest's.
set -euo pipefail

WORKDIR="$1" RESULTS="$2"
shift 2
TEST_USER="${DEVENV_TEST_USER:-devenv-test}"
TEST_HOME="/home/$TEST_USER"

NODE_BIN="$(command -v node)" || { echo "run-jest: node not found" >&2; exit 1; }
NODE_DIR="$(dirname "$(readlink -f "$NODE_BIN")")"
runuser -u "$TEST_USER" -- test -x "$NODE_BIN" </dev/null || { echo "run-jest: $TEST_USER cannot run $NODE_BIN" >&2; exit 1; }

CACHE_DIR="/tmp/devenv-jest-cache-$TEST_USER"
mkdir -p "$CACHE_DIR"
chown -R "$TEST_USER:" "$CACHE_DIR"

# Only what the tests need, plus pass-through of CI, TERM and DEVENV_* variables.
TEST_ENV=(
  HOME="$TEST_HOME"
  USER="$TEST_USER"
  LOGNAME="$TEST_USER"
  SHELL=/bin/bash
  PATH="$NODE_DIR:/usr/local/bin:/usr/bin:/bin"
  LANG="${LANG:-C.UTF-8}"
  TMPDIR=/tmp
  NIX_REMOTE=daemon
  "NIX_CONFIG=substituters =
experimental-features = nix-command flakes"
  # The repository is owned by root; let git (also when run by nix) read it.
  GIT_CONFIG_COUNT=1
  GIT_CONFIG_KEY_0=safe.directory
  GIT_CONFIG_VALUE_0='*'
)
[ -n "${CI:-}" ] && TEST_ENV+=(CI="$CI")
[ -n "${TERM:-}" ] && TEST_ENV+=(TERM="$TERM")
while IFS='=' read -r name _; do
  TEST_ENV+=("$name=${!name}")
done < <(env | grep -E '^DEVENV_[A-Za-z0-9_]*=' || true)

cd "$WORKDIR"
exec runuser -u "$TEST_USER" -- env -i "${TEST_ENV[@]}" \
  node --experimental-vm-modules node_modules/jest/bin/jest.js \
  --cacheDirectory "$CACHE_DIR" --json --outputFile "$RESULTS" "$@" </dev/null
