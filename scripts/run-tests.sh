#!/usr/bin/env bash
# Run devenv's test suite the way CI does:
#   1. scripts/setup-machine.sh (packages, test user, nix-daemon);
#   2. npm ci (when node_modules is missing or older than package-lock.json)
#      and npm run build, as root;
#   3. jest as the unprivileged user `devenv-test` against the nix-daemon
#      (NIX_REMOTE=daemon, scripts/run-jest.sh), forwarding this script's arguments
#      to jest:  scripts/run-tests.sh test/unit
#   4. without arguments, the same suite again inside a Debian sid root with current
#      Nix, bash, zsh, fish and direnv (scripts/sid-root.sh, scripts/sid-run.sh);
#      DEVENV_SUITES="host", "sid" or "host sid" chooses explicitly;
#   5. without arguments, scripts/verify-offline.sh: the offline package set's store paths
#      unmodified after the host suite (nix-store --verify-path), counted as one test;
#   6. one closing line "N passed, N failed[, N skipped]" for all of it, from jest's
#      JSON; the exit code is non-zero when any suite failed.
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

# --- which suites --------------------------------------------------------------------
# The whole suite (no arguments) runs on the host and again inside a Debian sid root (current
# Nix, bash, zsh, fish, direnv: scripts/sid-root.sh). With arguments (a subset), only the host
# runs, unless DEVENV_SUITES says otherwise ("host", "sid" or "host sid").
SUITES="${DEVENV_SUITES:-}"
if [ -z "$SUITES" ]; then
  if [ "$#" -eq 0 ]; then SUITES="host sid"; else SUITES="host"; fi
fi

# --- per-run scratch owned by the test user ------------------------------------------
OUT_DIR="$(mktemp -d /tmp/devenv-jest-out-XXXXXX)"
chown "$TEST_USER:" "$OUT_DIR"

cleanup() {
  rm -rf "$OUT_DIR"
  if [ -n "$COPY" ] && [ -z "${DEVENV_KEEP_CI_COPY:-}" ]; then rm -rf "$COPY"; fi
}
trap cleanup EXIT

RESULTS=()
RC=0
for suite in $SUITES; do
  case "$suite" in
    host)
      say "host suite: jest as $TEST_USER in $WORKDIR${*:+ (args: $*)}"
      bash "$REPO/scripts/run-jest.sh" "$WORKDIR" "$OUT_DIR/host.json" "$@" || RC=1
      RESULTS+=("host=$OUT_DIR/host.json")
      ;;
    sid)
      ROOT="$(bash "$REPO/scripts/sid-root.sh")" || die "could not make the Debian sid root"
      # The whole suite runs there: the same files as on the host.
      SID_ARGS=("$@")
      say "sid suite: jest as $TEST_USER inside $ROOT (args: ${SID_ARGS[*]})"
      bash "$REPO/scripts/sid-run.sh" "$ROOT" "$WORKDIR" "$OUT_DIR/sid.json" "${SID_ARGS[@]}" || RC=1
      RESULTS+=("sid=$OUT_DIR/sid.json")
      ;;
    *) die "unknown suite '$suite' in DEVENV_SUITES (host, sid)" ;;
  esac
done

# After the whole host suite: the offline package set's store paths are as nix made them
# (servers and pythons ran from them, some as root). One more test in the closing line.
if [ "$#" -eq 0 ] && [[ " $SUITES " == *" host "* ]]; then
  bash "$REPO/scripts/verify-offline.sh" "$OUT_DIR/offline.json" || true
  RESULTS+=("offline-store=$OUT_DIR/offline.json")
fi

# One closing line for all suites; each suite's own counts just above it.
node -e '
  const fs = require("fs");
  const total = {passed: 0, failed: 0, skipped: 0};
  let bad = false;
  const lines = [];
  for (const arg of process.argv.slice(1)) {
    const [name, file] = arg.split(/=(.*)/s);
    let r;
    try { r = JSON.parse(fs.readFileSync(file, "utf8")); } catch {
      lines.push(`run-tests: ${name} suite produced no results`);
      total.failed += 1; bad = true; continue;
    }
    const failedSuites = r.numFailedTestSuites + r.numRuntimeErrorTestSuites;
    lines.push(`run-tests: ${name} suite: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped` +
      (failedSuites ? ` (${failedSuites} test files failed)` : ""));
    total.passed += r.numPassedTests; total.failed += r.numFailedTests; total.skipped += r.numPendingTests;
    if (r.numFailedTests > 0 || failedSuites > 0 || r.numTotalTests === 0) bad = true;
  }
  let line = `${total.passed} passed, ${total.failed} failed`;
  if (total.skipped > 0) line += `, ${total.skipped} skipped`;
  console.log("\n" + lines.join("\n") + "\n" + line);
  process.exit(bad ? 1 : 0);
' "${RESULTS[@]}" || RC=1
exit "$RC"
