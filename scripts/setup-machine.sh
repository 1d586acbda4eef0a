#!/usr/bin/env bash
# Prepare this Debian 12 or 13 machine for devenv's test suite.  Idempotent;
# run as root, non-interactively (CI=true, no stdin).  Nix runs with its
# defaults: the build sandbox stays on.
#
#  - installs the Debian packages the tests use (apt-get update only when
#    something is missing); DEVENV_SETUP_PACKAGES=0 skips this (the Debian sid root of
#    scripts/sid-root.sh comes with its own package list);
#  - makes sure the Nix build users (nixbld) and the nix-users group exist;
#  - creates the unprivileged test user `devenv-test` (group nix-users):
#    PostgreSQL refuses to run as root, and real users run multi-user Nix;
#  - creates a second unprivileged user `devenv-other` (no Nix, no home): "another local
#    user" for the tests that check what other users can see or reach (scripts/run-jest.sh
#    runs an agent as it; scripts/other-user-agent.mjs);
#  - starts `nix-daemon` in the background (setsid) unless one is running;
#  - checks that the test user can talk to the daemon;
#  - puts the offline package set's Debian packages into the store
#    (scripts/offline-root.sh) and builds them once, rooted against GC.
set -euo pipefail

TEST_USER="${DEVENV_TEST_USER:-devenv-test}"
TEST_HOME="/home/$TEST_USER"
OTHER_USER="${DEVENV_OTHER_USER:-devenv-other}"
SOCKET=/nix/var/nix/daemon-socket/socket
DAEMON_LOG=/var/log/devenv-nix-daemon.log
PACKAGES=(nix-bin zsh fish direnv tmux hyperfine procps git util-linux strace debootstrap ca-certificates
  systemd python3)  # the last two for the watcher tests: systemd-analyze verify, plistlib
# The teams test runs its own unprivileged sshd on loopback as a remote builder (ssh-ng://).
# Note: where systemd runs, installing openssh-server also enables the system's sshd.
PACKAGES+=(openssh-server)
# container.test.ts: rootless podman (runc, uidmap's newuidmap) for `devenv container run`,
# skopeo and a local registry with htpasswd auth (docker-registry, apache2-utils) for copies.
# docker-registry's own service is not started (no systemd here; the test runs its own).
PACKAGES+=(podman runc uidmap skopeo docker-registry apache2-utils)
# The sh launcher (bin/devenv) is tested under dash and busybox sh as well as bash.
PACKAGES+=(dash busybox)
NIX_FEATURES=(--extra-experimental-features 'nix-command flakes')

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"
export DEBIAN_FRONTEND=noninteractive

# --- Debian packages --------------------------------------------------------
missing=()
[ "${DEVENV_SETUP_PACKAGES:-1}" = 0 ] && PACKAGES=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing: ${missing[*]}"
  apt-get update -qq </dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
elif [ "${#PACKAGES[@]}" -gt 0 ]; then
  say "packages present"
fi

# --- Nix groups and build users -----------------------------------------------
# Build users get uids of their own range (DEVENV_NIXBLD_UID_BASE+1..+10): before a build
# nix kills every process of its build user's uid, so a Debian root running its own
# nix-daemon on this machine must not share uids with the host's build users, or each
# daemon kills the other's builds (seen as "builder failed due to signal 9").
UID_BASE="${DEVENV_NIXBLD_UID_BASE:-30000}"
if ! getent group nixbld >/dev/null; then
  say "creating group nixbld"
  groupadd --system nixbld
fi
for i in $(seq 1 10); do
  uid=$((UID_BASE + i))
  if ! getent passwd "nixbld$i" >/dev/null; then
    say "creating build user nixbld$i (uid $uid)"
    useradd --system --uid "$uid" --no-create-home --home-dir /var/empty --shell /usr/sbin/nologin \
      --gid nixbld --groups nixbld --comment "Nix build user $i" "nixbld$i"
  elif [ -n "${DEVENV_NIXBLD_UID_BASE:-}" ] && [ "$(id -u "nixbld$i")" != "$uid" ]; then
    say "moving build user nixbld$i to uid $uid"
    usermod -u "$uid" "nixbld$i"
  fi
done
if ! getent group nix-users >/dev/null; then
  say "creating group nix-users"
  groupadd --system nix-users
fi

# Store and per-user directories (what a multi-user install sets up).
mkdir -p /nix/store /nix/var/nix/daemon-socket /nix/var/nix/profiles/per-user /nix/var/nix/gcroots/per-user
chown root:nix-users /nix/var/nix/daemon-socket
chmod 0770 /nix/var/nix/daemon-socket
chmod 1777 /nix/var/nix/profiles/per-user /nix/var/nix/gcroots/per-user

# --- test user ---------------------------------------------------------------
if ! getent passwd "$TEST_USER" >/dev/null; then
  say "creating user $TEST_USER"
  useradd --create-home --home-dir "$TEST_HOME" --shell /bin/bash --groups nix-users "$TEST_USER"
elif ! id -nG "$TEST_USER" | tr ' ' '\n' | grep -qx nix-users; then
  say "adding $TEST_USER to nix-users"
  usermod -a -G nix-users "$TEST_USER"
fi
if [ ! -d "$TEST_HOME" ]; then
  mkdir -p "$TEST_HOME"
  chown "$TEST_USER:" "$TEST_HOME"
fi
for d in "/nix/var/nix/profiles/per-user/$TEST_USER" "/nix/var/nix/gcroots/per-user/$TEST_USER"; do
  mkdir -p "$d"
  chown "$TEST_USER" "$d"
done

# Rootless podman maps a container's users to a subordinate range of the test user's.
for f in /etc/subuid /etc/subgid; do
  if ! grep -q "^$TEST_USER:" "$f" 2>/dev/null; then
    say "giving $TEST_USER a range in $f"
    if [ "$f" = /etc/subuid ]; then usermod --add-subuids 100000-165535 "$TEST_USER"; else usermod --add-subgids 100000-165535 "$TEST_USER"; fi
  fi
done

# --- a second local user, for the tests about other users ----------------------
if ! getent passwd "$OTHER_USER" >/dev/null; then
  say "creating user $OTHER_USER"
  useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group "$OTHER_USER"
fi

# --- nix-daemon ----------------------------------------------------------------
if pgrep -x nix-daemon >/dev/null 2>&1 && [ -S "$SOCKET" ]; then
  say "nix-daemon already running"
else
  if [ -e "$SOCKET" ]; then
    say "removing stale daemon socket"
    rm -f "$SOCKET"
  fi
  say "starting nix-daemon (log: $DAEMON_LOG)"
  # A clean environment; no binary cache (there is no network for it).
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    NIX_CONFIG='substituters =' \
    setsid nix-daemon </dev/null >>"$DAEMON_LOG" 2>&1 &
  for _ in $(seq 1 100); do
    [ -S "$SOCKET" ] && break
    sleep 0.1
  done
  [ -S "$SOCKET" ] || die "nix-daemon did not create $SOCKET (see $DAEMON_LOG)"
fi

# --- check the test user can use the daemon ---------------------------------------
if out=$(runuser -u "$TEST_USER" -- env -i HOME="$TEST_HOME" USER="$TEST_USER" \
      PATH=/usr/local/bin:/usr/bin:/bin NIX_REMOTE=daemon NIX_CONFIG='substituters =' \
      nix "${NIX_FEATURES[@]}" store ping 2>&1 </dev/null); then
  say "$TEST_USER can reach the nix daemon"
else
  printf '%s\n' "$out" >&2
  die "$TEST_USER cannot use the nix daemon"
fi
# --- the offline package set ------------------------------------------------------
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$REPO/scripts/offline-root.sh"
# Build it once now, as the test user would (through the daemon, in the sandbox),
# and keep it: tests then measure devenv, not this one-time relinking.
mkdir -p /nix/var/nix/gcroots/devenv-offline
if ! out=$(NIX_REMOTE=daemon NIX_CONFIG='substituters =' nix "${NIX_FEATURES[@]}" build --no-write-lock-file \
      --out-link /nix/var/nix/gcroots/devenv-offline/debian-bookworm \
      "path:$REPO/test/fixtures/nixpkgs-offline#legacyPackages.$(uname -m)-linux.debian" 2>&1 </dev/null); then
  printf '%s\n' "$out" >&2
  die "building the offline package set failed"
fi
say "offline package set built: $(readlink /nix/var/nix/gcroots/devenv-offline/debian-bookworm)"
say "done"
