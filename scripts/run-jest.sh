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

# "Another local user" for the tests (setup-machine.sh made it): an agent running as it, on a
# socket in a dir only it and the test user's group can enter (test/helpers/other-user.ts).
OTHER_USER="${DEVENV_OTHER_USER:-devenv-other}"
AGENT_DIR="$(mktemp -d /tmp/devenv-other-agent-XXXXXX)"
AGENT_PID=""
stop_agent() {
  [ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null || true
  rm -rf "$AGENT_DIR"
}
trap stop_agent EXIT
if getent passwd "$OTHER_USER" >/dev/null; then
  cp "$WORKDIR/scripts/other-user-agent.mjs" "$AGENT_DIR/agent.mjs"
  chmod 0644 "$AGENT_DIR/agent.mjs"
  # setgid dir of the test user's group: the agent's socket gets that group (mode 0660).
  chown "$OTHER_USER:$(id -gn "$TEST_USER")" "$AGENT_DIR"
  chmod 2770 "$AGENT_DIR"
  # setpriv execs (no fork): $! is the agent itself.
  setpriv --reuid="$OTHER_USER" --regid="$OTHER_USER" --clear-groups --inh-caps=-all \
    env -i PATH="$NODE_DIR:/usr/bin:/bin" "$NODE_BIN" "$AGENT_DIR/agent.mjs" "$AGENT_DIR/agent.sock" \
    </dev/null >"$AGENT_DIR/agent.log" 2>&1 &
  AGENT_PID=$!
  for _ in $(seq 1 100); do
    [ -S "$AGENT_DIR/agent.sock" ] && break
    sleep 0.05
  done
  if [ -S "$AGENT_DIR/agent.sock" ]; then
    TEST_ENV+=(DEVENV_OTHER_AGENT="$AGENT_DIR/agent.sock")
  else
    echo "run-jest: the other-user agent did not start: $(cat "$AGENT_DIR/agent.log")" >&2
  fi
fi

cd "$WORKDIR"
set +e
runuser -u "$TEST_USER" -- env -i "${TEST_ENV[@]}" \
  node --experimental-vm-modules node_modules/jest/bin/jest.js \
  --cacheDirectory "$CACHE_DIR" --json --outputFile "$RESULTS" "$@" </dev/null
exit $?
