#!/usr/bin/env bash
# Make (or reuse) a Debian sid root holding current Nix and shells (nix-bin 2.34, bash 5.3,
# zsh 5.9, fish 4, direnv 2.37), for running devenv's suite against them (scripts/sid-run.sh).
# Prints the root's path on stdout; progress goes to stderr.
#
# The root lives in $DEVENV_SID_CACHE (default /var/cache/devenv) as sid-<digest>, the digest
# covering this script (and so the package list). It is reused while complete (the marker file
# is written last, and touched on each use) and built from nothing when absent or incomplete.
# It needs only Debian's mirror, at build time: the tests inside it run without network.
set -euo pipefail

MIRROR="${DEVENV_SID_MIRROR:-http://deb.debian.org/debian}"
CACHE="${DEVENV_SID_CACHE:-/var/cache/devenv}"
# What the suite runs inside the root. node is the host's (bind-mounted), so only its
# libraries are needed; python3 and systemd serve the watch-service unit tests; openssh-server
# and openssh-client the ssh-ng:// remote builder of teams.test.ts; dash and busybox run the sh
# launcher (launcher.test.ts); podman, runc, uidmap, skopeo, docker-registry and apache2-utils
# (htpasswd) container.test.ts's rootless `devenv container run` and copies to archives and an
# authenticated registry.
PACKAGES=(
  nix-bin bash-static bash zsh fish direnv tmux git procps psmisc strace util-linux passwd
  ca-certificates libstdc++6 python3 systemd iproute2 openssh-server openssh-client
  dash busybox podman runc uidmap skopeo docker-registry apache2-utils
)

say() { printf 'sid-root: %s\n' "$*" >&2; }
die() { printf 'sid-root: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"

SELF="$(readlink -f "${BASH_SOURCE[0]}")"
DIGEST="$(cat "$SELF" | sha256sum | cut -c1-16)"
# Not sid-root-*: versions of this script before 'sid-' removed every other sid-root-* root,
# in use or not, when they built theirs.
ROOT="$CACHE/sid-$DIGEST"
MARK="$ROOT/.devenv-sid-root-complete"

if [ -f "$MARK" ]; then
  touch "$MARK"
  echo "$ROOT"
  exit 0
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/sid-root.lock"
flock 9
if [ -f "$MARK" ]; then # built by a concurrent run meanwhile
  echo "$ROOT"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
command -v debootstrap >/dev/null || {
  say "installing debootstrap"
  apt-get update -qq </dev/null
  apt-get install -y -qq --no-install-recommends debootstrap </dev/null >/dev/null
}

TMP="$ROOT.partial"
rm -rf "$TMP" "$ROOT"
start=$SECONDS
say "debootstrap sid into $TMP"
debootstrap --variant=minbase sid "$TMP" "$MIRROR" </dev/null >"$CACHE/sid-root-debootstrap.log" 2>&1 ||
  die "debootstrap failed (see $CACHE/sid-root-debootstrap.log)"

# The mirror may serve a frozen snapshot whose Release file is past its Valid-Until.
cat >"$TMP/etc/apt/apt.conf.d/99devenv" <<'EOF'
Acquire::Check-Valid-Until "false";
APT::Install-Recommends "false";
EOF
cp /etc/resolv.conf "$TMP/etc/resolv.conf" 2>/dev/null || true

say "installing ${PACKAGES[*]}"
# A private mount namespace: nothing mounted here outlives the command.
unshare --mount --fork bash -euo pipefail -c '
  root=$1; shift
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  chroot "$root" apt-get update -qq
  chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
  chroot "$root" apt-get clean
' _ "$TMP" "${PACKAGES[@]}" </dev/null >"$CACHE/sid-root-apt.log" 2>&1 ||
  die "apt-get in the sid root failed (see $CACHE/sid-root-apt.log)"

# Roots of other versions of this script: other checkouts may still use them (a run holds the
# root's lock; each use touches its marker). Removed when incomplete or unused for two days.
for old in "$CACHE"/sid-*; do
  [ -d "$old" ] && [ "$old" != "$TMP" ] && [ "$old" != "$ROOT" ] || continue
  [ ! -f "$old/.devenv-sid-root-complete" ] || [ -n "$(find "$old/.devenv-sid-root-complete" -mtime +1)" ] || continue
  if flock -n "$old.lock" rm -rf "$old"; then say "removed old root $old"; fi
done
mv "$TMP" "$ROOT"
touch "$MARK"
say "built in $((SECONDS - start)) s: $(chroot "$ROOT" dpkg-query -W -f='${Package} ${Version}\n' nix-bin bash zsh fish direnv | tr '\n' ' ')"
echo "$ROOT"
