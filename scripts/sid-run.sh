#!/usr/bin/env bash
# Run the test suite inside the Debian sid root (scripts/sid-root.sh), against the root's own
# Nix 2.34, nix-daemon, store and shells:
#   scripts/sid-run.sh ROOT WORKDIR RESULTS_JSON [jest args...]
# WORKDIR is the built repository (node_modules, dist), bind-mounted at the same path; the
# host's node is bind-mounted as /usr/local/bin/node. The root gets private mount and pid
# namespaces: fresh /proc, a private devpts (tmux), its own /tmp, and its /nix is its own, so
# the host's store (and its database schema) is never touched. Every process started inside,
# the nix-daemon included, ends with the run (the pid namespace dies with its first process).
# Exit code: jest's (or 1 if the root could not be set up).
set -euo pipefail

if [ "${1:-}" = --inside ]; then
  # --- inside the root, as pid 1 of the namespace ----------------------------------
  shift
  WORKDIR="$1" RESULTS="$2" TEST_UID="$3" TEST_GID="$4"
  shift 4
  TEST_USER="${DEVENV_TEST_USER:-devenv-test}"
  export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  # Same uid/gid as on the host, so files of the bind-mounted repository keep their owner.
  if ! getent group "$TEST_USER" >/dev/null; then groupadd -g "$TEST_GID" "$TEST_USER"; fi
  [ "$(getent group "$TEST_USER" | cut -d: -f3)" = "$TEST_GID" ] || groupmod -g "$TEST_GID" "$TEST_USER"
  if ! getent passwd "$TEST_USER" >/dev/null; then
    useradd --uid "$TEST_UID" --gid "$TEST_GID" --create-home --shell /bin/bash "$TEST_USER"
  fi
  [ "$(id -u "$TEST_USER")" = "$TEST_UID" ] || usermod -u "$TEST_UID" "$TEST_USER"
  DEVENV_SETUP_PACKAGES=0 bash "$WORKDIR/scripts/setup-machine.sh" >&2
  # Nix's defaults, sandbox included: a build that could see the root's /usr would prove the
  # sandbox off (or silently fallen back), and every result after it meaningless.
  [ "$(nix --extra-experimental-features nix-command config show sandbox)" = true ] ||
    { echo "sid-run: ERROR: the sandbox is off in the root's nix.conf" >&2; exit 1; }
  probe="$(mktemp -d)"
  cat >"$probe/probe.nix" <<EOF
derivation {
  name = "devenv-sandbox-probe"; system = builtins.currentSystem; builder = "/bin/sh"; nonce = "$probe $RANDOM";
  args = [ "-c" "if [ -e /usr ] || [ -e /home ] || [ -e /var ]; then echo 'sees the root: not sandboxed'; exit 1; fi; echo > \$out" ];
}
EOF
  chmod -R a+rX "$probe"
  runuser -u "$TEST_USER" -- env -i PATH="$PATH" HOME=/tmp NIX_REMOTE=daemon nix-build --no-out-link "$probe/probe.nix" >/dev/null 2>"$probe/log" ||
    { cat "$probe/log" >&2; echo "sid-run: ERROR: builds in the root are not sandboxed" >&2; exit 1; }
  rm -rf "$probe"
  printf 'sid-run: sandboxed builds; %s\n' "$(nix --version); $(bash --version | head -1); $(zsh --version); $(fish --version); direnv $(direnv version)" >&2
  set +e
  # For debugging: DEVENV_SID_EXEC='command' runs that (as root, daemon up) instead of jest.
  if [ -n "${DEVENV_SID_EXEC:-}" ]; then bash -c "$DEVENV_SID_EXEC"; exit $?; fi
  bash "$WORKDIR/scripts/run-jest.sh" "$WORKDIR" "$RESULTS" "$@"
  exit $?
fi

ROOT="$1" WORKDIR="$2" RESULTS="$3"
shift 3
die() { printf 'sid-run: ERROR: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root"
[ -f "$ROOT/.devenv-sid-root-complete" ] || die "$ROOT is not a complete sid root (scripts/sid-root.sh)"
TEST_USER="${DEVENV_TEST_USER:-devenv-test}"
NODE_BIN="$(readlink -f "$(command -v node)")" || die "node not found"
OUT_DIR="$(dirname "$RESULTS")"

# One run at a time per root: the root's /tmp and store are shared state.
exec 9>"$ROOT.lock"
flock 9
# Start from an empty /tmp (nothing is mounted on it outside a run's namespace).
rm -rf "$ROOT/tmp"
mkdir -m 1777 "$ROOT/tmp"

# Paths bind-mounted at the same place inside: the repository, the results dir, read-only the
# offline package set's staged Debian tree (scripts/offline-root.sh staged it on the host; the
# root's setup adds it to the root's own store), and whatever DEVENV_SID_BINDS lists
# (colon-separated, read-only).
BINDS=("$WORKDIR" "$OUT_DIR")
RO_BINDS=()
OFFLINE_CACHE="${DEVENV_OFFLINE_CACHE:-/var/cache/devenv-offline}"
[ -d "$OFFLINE_CACHE" ] && RO_BINDS+=("$OFFLINE_CACHE")
IFS=: read -r -a extra <<<"${DEVENV_SID_BINDS:-}"
for p in "${extra[@]}"; do [ -n "$p" ] && RO_BINDS+=("$p"); done
# The machine's CA setup (npm and https in the root reach the registry through it, as on the host).
for p in /etc/ssl/certs/ca-certificates.crt /usr/local/share/ca-certificates /etc/npmrc; do
  [ -e "$p" ] && RO_BINDS+=("$p")
done

# A clean environment inside, as on the host: CI, TERM and DEVENV_* pass through.
ENV=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM="${TERM:-dumb}")
[ -n "${CI:-}" ] && ENV+=(CI="$CI")
while IFS='=' read -r name _; do
  ENV+=("$name=${!name}")
done < <(env | grep -E '^DEVENV_[A-Za-z0-9_]*=' || true)

exec unshare --mount --pid --fork --kill-child --propagation private env -i "${ENV[@]}" bash -euo pipefail -c '
  R=$1 node=$2 nbinds=$3; shift 3
  binds=("${@:1:$nbinds}"); shift "$nbinds"
  nro=$1; shift
  robinds=("${@:1:$nro}"); shift "$nro"
  mount --bind "$R" "$R"
  mount -t proc proc "$R/proc"
  mount --rbind /dev "$R/dev"
  # podman (container.test.ts) reads the cgroup hierarchy in /sys/fs/cgroup, and fails without it.
  mount --rbind /sys "$R/sys"
  # A private devpts instance: tmux needs ptys, and the host'"'"'s are none of its business.
  mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$R/dev/pts"
  mount --bind "$R/dev/pts/ptmx" "$R/dev/ptmx"
  mount -t tmpfs -o mode=1777 shm "$R/dev/shm"
  touch "$R/usr/local/bin/node"
  mount --bind "$node" "$R/usr/local/bin/node"
  for p in "${binds[@]}"; do mkdir -p "$R$p"; mount --bind "$p" "$R$p"; done
  for p in "${robinds[@]}"; do
    if [ -d "$p" ]; then mkdir -p "$R$p"; else mkdir -p "$(dirname "$R$p")"; [ -e "$R$p" ] || touch "$R$p"; fi
    mount --bind "$p" "$R$p"; mount -o remount,bind,ro "$R$p"
  done
  cd "$R"
  mkdir -p .oldroot
  pivot_root . .oldroot
  cd /
  umount -l /.oldroot
  exec "$@"
' _ "$ROOT" "$NODE_BIN" "${#BINDS[@]}" "${BINDS[@]}" "${#RO_BINDS[@]}" "${RO_BINDS[@]}" \
  bash "$WORKDIR/scripts/sid-run.sh" --inside "$WORKDIR" "$RESULTS" "$(id -u "$TEST_USER")" "$(id -g "$TEST_USER")" "$@"
