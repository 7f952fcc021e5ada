#!/usr/bin/env bash
# fleetdeck beside its peers, on the same Docker Engine, in the same tmux (160x48):
#
#   bash benches/peers.sh            (FLEETDECK_BIN, default target/release/fleetdeck)
#
# Peers: oxker, ducker (`cargo install --locked oxker ducker`), lazydocker — each only when its
# binary is on PATH (or in ~/.cargo/bin); an absent peer is skipped. This script builds nothing.
# With N containers running (`sleep`, --network none, label fleetdeck.bench.run), RUNS rounds;
# each round runs every tool once, in turn (alternating, so load drift spreads over all):
#   launch  start → the first bench container's name on screen (capture-pane polled, 20 ms)
#   idle    CPU over IDLE_SECS s after SETTLE s, % of one core (/proc/PID/stat)
#   rss     VmRSS after the idle period (MB)
#   key     Down → the pane's contents change (capture-pane -e, so a moved highlight counts),
#           KEYS samples per run, the run's median; Up sent between samples
#   with FOLLOW=1 one more container prints FLOOD_BURST lines every 100 ms during all of it (a
#   busy engine; tools that tail the selected container's logs by themselves, oxker, lazydocker,
#   pay for it when it is selected). Opening a log view differs per tool and is not automated
#   here: fleetdeck's follow figures are benches/log_flood_latency.sh's.
# Printed per tool and measure: min / median / max over the runs, and the median's ratio to
# fleetdeck's.
#
# Environment: N (1000), RUNS (5), IDLE_SECS (10), SETTLE (3), KEYS (10), PARALLEL (8),
# FOLLOW (0), FLOOD_BURST (2000).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-1000}
RUNS=${RUNS:-5}
IDLE_SECS=${IDLE_SECS:-10}
SETTLE=${SETTLE:-3}
KEYS=${KEYS:-10}
PARALLEL=${PARALLEL:-8}
FOLLOW=${FOLLOW:-0}
FLOOD_BURST=${FLOOD_BURST:-2000}
BIN=${FLEETDECK_BIN:-target/release/fleetdeck}
IMAGE=fleetdeck-test/busybox:local
RUN="peers$$"

[ -x "$BIN" ] || { echo "no $BIN: cargo build --release first" >&2; exit 1; }
BIN=$(readlink -f "$BIN")
docker image inspect "$IMAGE" >/dev/null 2>&1 || { echo "need $IMAGE (run benches/log_flood_latency.sh or the tests once)" >&2; exit 1; }
find_tool() { command -v "$1" 2>/dev/null || { [ -x "$HOME/.cargo/bin/$1" ] && echo "$HOME/.cargo/bin/$1"; } || true; }
TOOLS=(fleetdeck); declare -A CMD=([fleetdeck]="$BIN")
for t in oxker ducker lazydocker; do
  p=$(find_tool "$t")
  if [ -n "$p" ]; then TOOLS+=("$t"); CMD[$t]=$p; else echo "skip $t: not installed"; fi
done

work=$(mktemp -d /tmp/fleetdeck-peers.XXXXXX)
sock="$work/tmux.sock"
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  tmux -S "$sock" kill-server 2>/dev/null || true
  docker ps -aq --filter "label=fleetdeck.bench.run=$RUN" | xargs -r docker rm -f >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

. benches/common.sh
screen() { tmux -S "$sock" capture-pane -p -t p; }
# The process a pane runs (lazydocker and others may sit under a shell: take the deepest child).
tool_pid() {
  local p c
  p=$(tmux -S "$sock" display -p -t p '#{pane_pid}')
  while c=$(pgrep -P "$p" | head -1) && [ -n "$c" ]; do p=$c; done
  echo "$p"
}

echo "== machine: $(nproc) cpus, load average $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: other builds skew every figure)"
echo "docker: $(docker version --format 'Engine {{.Server.Version}}, API {{.Server.APIVersion}}')"
for t in "${TOOLS[@]}"; do echo "$t: ${CMD[$t]}"; done
echo "creating $N containers…"
seq 1 "$N" | xargs -P "$PARALLEL" -I{} docker run -d --label "fleetdeck.bench.run=$RUN" --network none \
  --log-driver none --name "$RUN-{}" "$IMAGE" sleep 1000000 >/dev/null
if [ "$FOLLOW" = 1 ]; then
  docker run -d --label "fleetdeck.bench.run=$RUN" --network none --name "$RUN-flood" \
    --log-driver json-file --log-opt max-size=50m --log-opt max-file=2 "$IMAGE" \
    sh -c "i=0; while :; do seq \$i \$((i + $FLOOD_BURST - 1)); i=\$((i + $FLOOD_BURST)); usleep 100000; done" >/dev/null
fi

declare -A R # R[tool.measure] = space-separated values
one_run() { # $1 = tool
  local t=$1 a pid c0 c1 s lat i t0
  export XDG_CONFIG_HOME="$work/config-$t" XDG_STATE_HOME="$work/state-$t"
  mkdir -p "$XDG_CONFIG_HOME" "$XDG_STATE_HOME"
  t0=$(now)
  tmux -S "$sock" -f /dev/null new-session -d -s p -x 160 -y 48 "TERM=xterm-256color exec ${CMD[$t]}"
  local end=$(($(date +%s) + 60))
  while :; do
    s=$(screen 2>/dev/null || true)
    [[ $s == *"$RUN-"* ]] && break
    [ "$(date +%s)" -lt "$end" ] || { echo "$t: no container row in 60 s" >&2; tmux -S "$sock" kill-server; return; }
    sleep 0.02
  done
  R[$t.launch]+=" $(ms "$t0" "$(now)")"
  pid=$(tool_pid)
  sleep "$SETTLE"
  c0=$(cpu_ticks "$pid"); a=$(now); sleep "$IDLE_SECS"; c1=$(cpu_ticks "$pid")
  R[$t.idle_cpu]+=" $(awk -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v a="$a" -v b="$(now)" 'BEGIN { printf "%.2f", 100 * c / hz / (b - a) }')"
  R[$t.rss]+=" $(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")"
  lat=()
  for i in $(seq 1 "$KEYS"); do
    lat+=("$(pane_change_ms p Down)")
    sleep 0.2
    tmux -S "$sock" send-keys -t p Up; sleep 0.2
  done
  R[$t.key]+=" $(median "${lat[@]}")"
  tmux -S "$sock" kill-server 2>/dev/null || true
  sleep 1
}

for r in $(seq 1 "$RUNS"); do
  for t in "${TOOLS[@]}"; do one_run "$t"; done
  echo "round $r done"
done

echo
ratio_table launch:ms idle_cpu:% rss:MB key:ms
