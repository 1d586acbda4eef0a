#!/usr/bin/env bash
# Run devenv's test suite the way CI does:
#   1. scripts/setup-machine.sh (packages, test user, nix-daemon);
#   2. npm ci (when node_modules is missing or older than package-lock.json)
#      and npm run build, as root;
#   3. jest as the unprivileged user `devenv-test` against the nix-daemon
#      (NIX_REMOTE=daemon), forwarding this script's arguments to jest:
#        scripts/run-tests.sh test/unit
#   4. a closing line "N passed, N failed[, N skipped]" from jest's JSON.
# If the test user cannot read the repository (e.g. it sits under /root), the
# repository is copied to /tmp/devenv-ci-XXXXXX (owned by the test user) and
# the tests run there.  Set DEVENV_KEEP_CI_COPY=1 to keep that copy.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TEST_USER="${DEVENV_TEST_USER:-devenv-test}"
TEST_HOME="/home/$TEST_USER"

say() { printf 'run-tests: %s\n' "$*"; }
die() { printf 'run-tests: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (it sets up the machine and switches to $TEST_USER)"

bash "$REPO/scripts/setup-machine.sh"

cd "$REPO"
bash "$REPO/scripts/build.sh"

NODE_BIN="$(command -v node)" || die "node not found"
NODE_DIR="$(dirname "$(readlink -f "$NODE_BIN")")"

as_test_user() {
  runuser -u "$TEST_USER" -- "$@"
}

# --- where to run: in place if the test user can read the repo ------------------
WORKDIR="$REPO"
COPY=""
if ! as_test_user test -r "$REPO/package.json" -a -x "$REPO" -a -r "$REPO/node_modules/jest/bin/jest.js" </dev/null 2>/dev/null; then
  COPY="$(mktemp -d /tmp/devenv-ci-XXXXXX)"
  say "$TEST_USER cannot read $REPO; copying it to $COPY"
  cp -a "$REPO/." "$COPY/"
  chown -R "$TEST_USER:" "$COPY"
  chmod 0755 "$COPY"
  WORKDIR="$COPY"
fi
as_test_user test -x "$NODE_BIN" </dev/null || die "$TEST_USER cannot run $NODE_BIN"

# --- per-run scratch owned by the test user ------------------------------------------
OUT_DIR="$(mktemp -d /tmp/devenv-jest-out-XXXXXX)"
CACHE_DIR="/tmp/devenv-jest-cache-$TEST_USER"
mkdir -p "$CACHE_DIR"
chown -R "$TEST_USER:" "$OUT_DIR" "$CACHE_DIR"
RESULTS="$OUT_DIR/results.json"

cleanup() {
  rm -rf "$OUT_DIR"
  if [ -n "$COPY" ] && [ -z "${DEVENV_KEEP_CI_COPY:-}" ]; then rm -rf "$COPY"; fi
}
trap cleanup EXIT

# A clean environment for the test user: only what the tests need, plus
# pass-through of CI, TERM and DEVENV_* variables.
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

say "jest as $TEST_USER in $WORKDIR${*:+ (args: $*)}"
set +e
(cd "$WORKDIR" && runuser -u "$TEST_USER" -- env -i "${TEST_ENV[@]}" \
  node --experimental-vm-modules node_modules/jest/bin/jest.js \
    --cacheDirectory "$CACHE_DIR" --json --outputFile "$RESULTS" "$@" </dev/null)
JEST_RC=$?
set -e

if [ ! -s "$RESULTS" ]; then
  die "jest produced no JSON results (exit code $JEST_RC)"
fi

SUMMARY="$(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  let line = `${r.numPassedTests} passed, ${r.numFailedTests} failed`;
  if (r.numPendingTests > 0) line += `, ${r.numPendingTests} skipped`;
  console.log(line);
  process.exit(r.numFailedTests > 0 || r.numFailedTestSuites > 0 || r.numRuntimeErrorTestSuites > 0 ? 1 : 0);
' "$RESULTS")" && SUMMARY_RC=0 || SUMMARY_RC=$?

echo
echo "$SUMMARY"
if [ "$JEST_RC" -ne 0 ] || [ "$SUMMARY_RC" -ne 0 ]; then
  exit 1
fi
