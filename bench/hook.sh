#!/usr/bin/env bash
# The shell hook against direnv's, side by side in one run, as ratios (machines are noisy).
#   bash bench/hook.sh [--idle N] [--cycles N] [--rounds N] [--check]
# 1. idle prompt: N calls of the PROMPT_COMMAND entry inside one bash process, sitting in a
#    loaded project with nothing changed: `_devenv_hook` vs direnv's `_direnv_hook`.
#    Target: devenv <= 0.01x direnv.
# 2. enter + leave with a fresh cache (cd in, prompt, cd out, prompt), N cycles: devenv's hook
#    (sources its pre-rendered activation script) vs direnv with an .envrc that sources a saved
#    `nix print-dev-env` output (what nix-direnv does on a warm cache). Target: <= 0.02x.
# Timing is bash's $EPOCHREALTIME around the loop inside the shell (no process per sample, so
# hyperfine, which times whole processes, would mostly measure bash and node start-up).
# The timed devenv loops are checked to start no node (a logging wrapper stands in for it).
# 3. new shell: what every new terminal pays for `eval "$(devenv hook bash)"`, with hyperfine,
#    side by side: the `devenv hook bash` process vs `node -e 0` (target <= 0.1x), and the whole
#    eval in bash (bash's own start subtracted) vs `node -e 0` and vs `eval "$(direnv hook bash)"`.
# --check: exit 1 when a target is missed.
set -euo pipefail
export LC_ALL=C # $EPOCHREALTIME with a '.' decimal point

IDLE=1000
CYCLES=100
ROUNDS=3
STARTS=40
CHECK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --idle) IDLE=$2; shift 2 ;;
    --cycles) CYCLES=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --starts) STARTS=$2; shift 2 ;;
    --check) CHECK=1; shift ;;
    *) echo "usage: bash bench/hook.sh [--idle N] [--cycles N] [--rounds N] [--starts N] [--check]" >&2; exit 2 ;;
  esac
done

# DEVENV_BENCH_REPO: another checkout's devenv measured by this same script (an A/B of two builds).
REPO="${DEVENV_BENCH_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
DEVENV="$REPO/bin/run.js"
NODE="$(command -v node)"
DIRENV="$(command -v direnv)" || { echo "bench/hook.sh: direnv not found (apt-get install direnv)" >&2; exit 2; }
[ -f "$REPO/dist/hot.js" ] || { echo "bench/hook.sh: build first (npm run build)" >&2; exit 2; }

TMP="$(mktemp -d /tmp/devenv-bench-hook-XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
for d in config cache state data run; do mkdir -p -m 700 "$TMP/home/$d"; done
export XDG_CONFIG_HOME="$TMP/home/config" XDG_CACHE_HOME="$TMP/home/cache" XDG_STATE_HOME="$TMP/home/state"
export XDG_DATA_HOME="$TMP/home/data" XDG_RUNTIME_DIR="$TMP/home/run"
export DEVENV_NIXPKGS="path:$REPO/test/fixtures/nixpkgs-offline"
export NIX_CONFIG=$'substituters =\nexperimental-features = nix-command flakes'
export DIRENV_LOG_FORMAT='' # both sides print nothing
unset DEVENV_ROOT DEVENV_VARS DIRENV_DIR DIRENV_DIFF DIRENV_WATCHES DIRENV_FILE

WORK="$TMP/work"
APP="$WORK/app"   # devenv's project
DAPP="$WORK/dapp" # direnv's copy of it
mkdir -p "$APP" "$DAPP"

echo "bench/hook.sh: preparing (one nix evaluation)..." >&2
(cd "$APP" && "$NODE" "$DEVENV" init python >/dev/null)
# The same environment as direnv's side: python from the store, no venv to set up.
sed -i 's/^venv = true$/venv = false/' "$APP/devenv.toml"
grep -q '^venv = false$' "$APP/devenv.toml" || { echo "bench/hook.sh: could not turn the venv off" >&2; exit 1; }
(cd "$APP" && "$NODE" "$DEVENV" allow >/dev/null)
# The first entry evaluates and renders the activation scripts; after it the cache is fresh.
(cd "$APP" && PWD="$APP" "$NODE" "$DEVENV" __hook bash "$APP" >/dev/null 2>&1)
[ -f "$XDG_STATE_HOME/devenv/roots$APP/@devenv@/activate.bash" ] || { echo "bench/hook.sh: no activation script rendered" >&2; exit 1; }

cp "$APP/flake.nix" "$DAPP/"
nix print-dev-env --extra-experimental-features 'nix-command flakes' --no-write-lock-file \
  --override-input nixpkgs "$DEVENV_NIXPKGS" "path:$APP" >"$DAPP/dev-env.sh" 2>/dev/null
cat >"$DAPP/.envrc" <<'EOF'
# What nix-direnv does on a warm cache: watch the flake files, source the saved environment.
watch_file flake.nix flake.lock
source ./dev-env.sh
EOF
"$DIRENV" allow "$DAPP" >/dev/null 2>&1

"$NODE" "$DEVENV" hook bash >"$TMP/devenv-hook.bash"
"$DIRENV" hook bash >"$TMP/direnv-hook.bash"
SPY_LOG="$TMP/node-calls.log"
: >"$SPY_LOG"
printf '#!/bin/sh\nprintf "%%s\\n" "$*" >> "%s"\nexec "%s" "$@"\n' "$SPY_LOG" "$NODE" >"$TMP/node-spy"
chmod +x "$TMP/node-spy"

# Each prints the loop's total microseconds. $1: devenv|direnv, $2: idle|cycle, $3: count.
run_case() {
  bash --norc --noprofile -c '
    set -u
    tool=$1 mode=$2 n=$3 app=$4 dapp=$5 work=$6 tmp=$7
    if [[ $tool == devenv ]]; then
      source "$tmp/devenv-hook.bash"; _devenv_node=$tmp/node-spy; hook=_devenv_hook; proj=$app
    else
      source "$tmp/direnv-hook.bash"; hook=_direnv_hook; proj=$dapp
    fi
    cd "$proj"; $hook 2>/dev/null
    if [[ $tool == devenv ]]; then [[ ${DEVENV_ROOT-} == "$app" ]]; else [[ -n ${DIRENV_DIR-} ]]; fi || { echo "$tool did not load $proj" >&2; exit 1; }
    [[ $(command -v python3) == /nix/store/* ]] || { echo "$tool: python3 is not from /nix/store" >&2; exit 1; }
    if [[ $mode == cycle ]]; then cd "$work"; $hook 2>/dev/null; fi
    : > "$tmp/node-calls.log"
    # CPU seconds of this shell and its children so far (bash'"'"'s times builtin, ms precision).
    # No command substitution: a forked subshell would report its own (zero) times.
    cpu() { local l1 l2 f m x t=0; { times; } >"$tmp/times"; { read -r l1; read -r l2; } <"$tmp/times"; for f in $l1 $l2; do m=${f%%m*}; x=${f#*m}; x=${x%s}; t=$((t + m * 60000000 + 10#${x%.*} * 1000000 + 10#${x#*.} * 1000)); done; _cpu=$t; }
    cpu; c0=$_cpu
    if [[ $mode == idle ]]; then
      t0=$EPOCHREALTIME
      for ((i = 0; i < n; i++)); do $hook; done
      t1=$EPOCHREALTIME
    else
      t0=$EPOCHREALTIME
      for ((i = 0; i < n; i++)); do cd "$proj"; $hook; cd "$work"; $hook; done 2>/dev/null
      t1=$EPOCHREALTIME
      [[ -z ${DEVENV_ROOT-} && -z ${DIRENV_DIR-} ]] || { echo "$tool did not unload" >&2; exit 1; }
    fi
    if [[ $tool == devenv && -s $tmp/node-calls.log ]]; then echo "devenv started node in the timed loop:" >&2; cat "$tmp/node-calls.log" >&2; exit 1; fi
    cpu; c1=$_cpu
    echo "$((${t1/./} - ${t0/./})) $((c1 - c0))"
  ' bench "$1" "$2" "$3" "$APP" "$DAPP" "$WORK" "$TMP"
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

measure() { # $1: idle|cycle, $2: count -> sets DEVENV_US DIRENV_US (median wall totals), DEVENV_CPU DIRENV_CPU
  local dv=() de=() dvc=() dec=() r w c
  for ((r = 0; r < ROUNDS; r++)); do
    read -r w c < <(run_case devenv "$1" "$2"); dv+=("$w"); dvc+=("$c")
    read -r w c < <(run_case direnv "$1" "$2"); de+=("$w"); dec+=("$c")
  done
  DEVENV_US=$(median "${dv[@]}")
  DIRENV_US=$(median "${de[@]}")
  DEVENV_CPU=$(median "${dvc[@]}")
  DIRENV_CPU=$(median "${dec[@]}")
}

verdict() { # $1 ratio, $2 target
  if awk -v r="$1" -v t="$2" 'BEGIN {exit !(r <= t)}'; then echo "ok (target <= ${2}x)"; else MISSED=1; echo "MISSED (target <= ${2}x)"; fi
}

MISSED=0
echo "bench/hook.sh: idle prompt, $IDLE calls x $ROUNDS rounds..." >&2
measure idle "$IDLE"
IDLE_DV=$DEVENV_US IDLE_DE=$DIRENV_US IDLE_DVC=$DEVENV_CPU IDLE_DEC=$DIRENV_CPU
echo "bench/hook.sh: enter+leave, $CYCLES cycles x $ROUNDS rounds..." >&2
measure cycle "$CYCLES"
CYC_DV=$DEVENV_US CYC_DE=$DIRENV_US CYC_DVC=$DEVENV_CPU CYC_DEC=$DIRENV_CPU

echo "bench/hook.sh: new shell, $STARTS runs each (hyperfine)..." >&2
command -v hyperfine >/dev/null || { echo "bench/hook.sh: hyperfine not found (apt-get install hyperfine)" >&2; exit 2; }
# `devenv` as npm installs it: the sh launcher (bin/devenv) where this build has one.
LAUNCH="$REPO/bin/devenv"
[ -x "$LAUNCH" ] || LAUNCH="$NODE $DEVENV"
$LAUNCH hook bash >/dev/null # the first run writes the hook's cache, as a user's first terminal does
hyperfine -N --warmup 3 --runs "$STARTS" --export-json "$TMP/starts.json" \
  "$NODE -e 0" \
  "$LAUNCH hook bash" \
  "bash --norc --noprofile -c true" \
  "bash --norc --noprofile -c 'eval \"\$($LAUNCH hook bash)\"'" \
  "bash --norc --noprofile -c 'eval \"\$($DIRENV hook bash)\"'" >/dev/null
# Means in microseconds, in the order above; then CPU time (user + system), less distorted by load.
read -r S_NODE S_HOOK S_BASH S_EVAL S_DIRENV < <("$NODE" -e 'const r = require(process.argv[1]).results; console.log(r.map((x) => Math.round(x.mean * 1e6)).join(" "))' "$TMP/starts.json")
read -r C_NODE C_HOOK C_BASH C_EVAL C_DIRENV < <("$NODE" -e 'const r = require(process.argv[1]).results; console.log(r.map((x) => Math.round((x.user + x.system) * 1e6)).join(" "))' "$TMP/starts.json")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.4f", a / b}'; }
per() { awk -v t="$1" -v n="$2" 'BEGIN {v = t / n; if (v >= 1000) printf "%.2f ms", v / 1000; else printf "%.1f us", v}'; }
R1=$(ratio "$IDLE_DV" "$IDLE_DE")
R2=$(ratio "$CYC_DV" "$CYC_DE")
echo
echo "idle prompt (nothing changed), per prompt:  devenv $(per "$IDLE_DV" "$IDLE")   direnv $(per "$IDLE_DE" "$IDLE")   ratio ${R1}x  $(verdict "$R1" 0.01)"
echo "enter+leave (fresh cache), per cycle:       devenv $(per "$CYC_DV" "$CYCLES")   direnv $(per "$CYC_DE" "$CYCLES")   ratio ${R2}x  $(verdict "$R2" 0.02)"
# CPU time (user + sys, direnv's processes included) is what a loaded machine distorts least.
R1C=$(ratio "$IDLE_DVC" "$IDLE_DEC")
R2C=$(ratio "$CYC_DVC" "$CYC_DEC")
echo "  the same in CPU time:  idle prompt devenv $(per "$IDLE_DVC" "$IDLE") direnv $(per "$IDLE_DEC" "$IDLE") ratio ${R1C}x;  enter+leave devenv $(per "$CYC_DVC" "$CYCLES") direnv $(per "$CYC_DEC" "$CYCLES") ratio ${R2C}x"
R3=$(ratio "$S_HOOK" "$S_NODE")
R4=$(ratio "$((S_EVAL - S_BASH))" "$S_NODE")
R5=$(ratio "$((S_EVAL - S_BASH))" "$((S_DIRENV - S_BASH))")
ms() { awk -v v="$1" 'BEGIN {printf "%.1f ms", v / 1000}'; }
echo "new shell: devenv hook bash process:         devenv $(ms "$S_HOOK")   node -e 0 $(ms "$S_NODE")   ratio ${R3}x  $(verdict "$R3" 0.1)"
echo "new shell: eval \"\$(devenv hook bash)\" in bash: devenv $(ms "$((S_EVAL - S_BASH))")   node -e 0 $(ms "$S_NODE")   ratio ${R4}x  (vs direnv's eval $(ms "$((S_DIRENV - S_BASH))"): ${R5}x; bash's own start $(ms "$S_BASH") subtracted)"
R3C=$(ratio "$C_HOOK" "$C_NODE")
R4C=$(ratio "$((C_EVAL - C_BASH))" "$C_NODE")
echo "  the same in CPU time:  devenv hook bash $(ms "$C_HOOK") vs node -e 0 $(ms "$C_NODE"): ${R3C}x;  the eval $(ms "$((C_EVAL - C_BASH))"): ${R4C}x   (devenv = $LAUNCH)"
# For bench/run.mjs's table.
report() { [ -n "${DEVENV_BENCH_RESULTS:-}" ] && printf '{"name":"%s","value":"%s","ref":"%s","ratio":%s,"target":%s}\n' "$@" >>"$DEVENV_BENCH_RESULTS"; return 0; }
report "idle prompt (bash)" "$(per "$IDLE_DV" "$IDLE")" "direnv $(per "$IDLE_DE" "$IDLE")" "$R1" 0.01
report "enter + leave a warm project (bash)" "$(per "$CYC_DV" "$CYCLES")" "direnv + nix-direnv's warm path $(per "$CYC_DE" "$CYCLES")" "$R2" 0.02
report "idle prompt (bash), CPU time" "$(per "$IDLE_DVC" "$IDLE")" "direnv $(per "$IDLE_DEC" "$IDLE")" "$R1C" 0.01
report "enter + leave (bash), CPU time" "$(per "$CYC_DVC" "$CYCLES")" "direnv + nix-direnv's warm path $(per "$CYC_DEC" "$CYCLES")" "$R2C" 0.02
report "devenv hook bash (process)" "$(ms "$S_HOOK")" "node -e 0 $(ms "$S_NODE")" "$R3" 0.1
report "eval \\\"\$(devenv hook bash)\\\" (bash's start subtracted)" "$(ms "$((S_EVAL - S_BASH))")" "node -e 0 $(ms "$S_NODE")" "$R4" 0.1
report "devenv hook bash (process), CPU time" "$(ms "$C_HOOK")" "node -e 0 $(ms "$C_NODE")" "$R3C" 0.1
report "eval \\\"\$(devenv hook bash)\\\", CPU time" "$(ms "$((C_EVAL - C_BASH))")" "node -e 0 $(ms "$C_NODE")" "$R4C" 0.1
echo "(bash $BASH_VERSION, direnv $("$DIRENV" version), $(nproc) cores; medians of $ROUNDS rounds; hyperfine means of $STARTS runs)"
if [ "$CHECK" = 1 ] && [ "$MISSED" = 1 ]; then exit 1; fi
