#!/usr/bin/env bash
# The offline demo: set the machine up, build devenv, then as an ordinary user
# init a python-postgres project, enter it through the real bash hook, and show
# its .venv (made in the background) on Python 3.11 from /nix/store, and PostgreSQL 15
# running for that project only.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEMO_USER="${DEVENV_TEST_USER:-devenv-test}"

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it installs packages and switches to $DEMO_USER)" >&2; exit 1; }
bash "$REPO/scripts/setup-machine.sh"
bash "$REPO/scripts/build.sh"

# PostgreSQL refuses root: the demo runs as the unprivileged user, like a real one would.
if ! runuser -u "$DEMO_USER" -- test -r "$REPO/bin/run.js"; then
  COPY="$(mktemp -d /tmp/devenv-demo-repo-XXXXXX)"; cp -a "$REPO/." "$COPY/"; chmod -R a+rX "$COPY"; REPO="$COPY"
fi
WORK="$(runuser -u "$DEMO_USER" -- mktemp -d /tmp/devenv-demo-XXXXXX)"
NODE_DIR="$(dirname "$(readlink -f "$(command -v node)")")"

cat > "$WORK/.bashrc" <<RC
PS1='demo:\w\$ '
devenv() { "$NODE_DIR/node" "$REPO/bin/run.js" "\$@"; }
eval "\$(devenv hook bash)"
RC
chown "$DEMO_USER:" "$WORK/.bashrc"

echo
echo "== devenv demo as $DEMO_USER in $WORK (nixpkgs replaced by the offline package set) =="
runuser -u "$DEMO_USER" -- env -i HOME="/home/$DEMO_USER" USER="$DEMO_USER" LOGNAME="$DEMO_USER" \
  PATH="$NODE_DIR:/usr/local/bin:/usr/bin:/bin" TERM=dumb COLUMNS=250 NIX_REMOTE=daemon \
  "NIX_CONFIG=substituters =
experimental-features = nix-command flakes" \
  DEVENV_NIXPKGS="path:$REPO/test/fixtures/nixpkgs-offline" \
  bash --rcfile "$WORK/.bashrc" -i 2>&1 <<DEMO | grep -v -e 'cannot set terminal process group' -e 'no job control in this shell'
cd "$WORK"
devenv init python-postgres --dir app
echo "-- entering the project: the hook loads its environment"
cd app
echo "-- the template's .venv is made in the background; exec waits for it"
devenv exec -- pip --version
command -v python3
python3 -c 'import sys; print("Python", sys.version.split()[0], "on", sys.base_prefix)'
devenv up -d
psql -tAc 'select version()'
echo "DATABASE_URL=\$DATABASE_URL"
psql "\$DATABASE_URL" -tAc "select 'reached ' || current_database() || ' on port ' || current_setting('port')"
devenv ps
devenv down
echo "-- leaving the project: the hook restores the shell"
cd ..
command -v python3 || echo "python3: not on PATH outside the project"
echo "PGPORT=\${PGPORT-unset}"
DEMO
echo "== demo done =="
