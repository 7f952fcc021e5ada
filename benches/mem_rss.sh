#!/usr/bin/env bash
# RSS of the console listing N canned containers (benches/fake_engine.py, no real engine needed),
# in tmux at 160x48 after SETTLE seconds. RUNS runs; prints each VmRSS / VmHWM and the median RSS.
# Extra environment for the console goes in CONSOLE_ENV (e.g. CONSOLE_ENV="MALLOC_ARENA_MAX=8"),
# which is how the allocator settings of docs/PERFORMANCE.md §14 were compared.
#
#   bash benches/mem_rss.sh [BINARY]     (default target/release/fleetdeck)
#
# FLOOD=1: instead, the console follows a busybox container (real engine, image
# fleetdeck-test/busybox:local from the tests) that echoes ~100-character lines as fast as sh
# can, for SETTLE (then 12 s) so the default 100,000-line ring is full, and the RSS is read then.
#
# Environment: N (1000), RUNS (5), SETTLE (4 s; 12 s with FLOOD=1), CONSOLE_ENV (""), FLOOD (0).
set -euo pipefail
cd "$(dirname "$0")/.."
FLOOD=${FLOOD:-0}
N=${N:-1000}; RUNS=${RUNS:-5}; CONSOLE_ENV=${CONSOLE_ENV:-}
if [ "$FLOOD" = 1 ]; then SETTLE=${SETTLE:-12}; else SETTLE=${SETTLE:-4}; fi
FLOOD_NAME="memflood$$"
BIN=$(readlink -f "${1:-target/release/fleetdeck}")
[ -x "$BIN" ] || { echo "no binary $BIN: cargo build --release" >&2; exit 1; }
work=$(mktemp -d /tmp/fleetdeck-memrss.XXXXXX)
sock="$work/tmux.sock"
python3 benches/fake_engine.py "$work/engine.sock" "$N" &
FAKE_PID=$!
cleanup() {
  tmux -S "$sock" kill-server 2>/dev/null || true
  kill "$FAKE_PID" 2>/dev/null || true
  [ "$FLOOD" = 1 ] && docker rm -f "$FLOOD_NAME" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 50); do [ -S "$work/engine.sock" ] && break; sleep 0.1; done
ENGINE="DOCKER_HOST=unix://$work/engine.sock"
if [ "$FLOOD" = 1 ]; then
  ENGINE=""
  docker run -d --name "$FLOOD_NAME" --label fleetdeck.bench=1 --network none fleetdeck-test/busybox:local \
    sh -c 'i=0; while :; do echo "$i GET /api/v1/items/$i HTTP/1.1 200 1234 0.004 user-agent=curl/7.88 request-id=abcdef$i"; i=$((i+1)); done' >/dev/null
fi
export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_STATE_HOME"
vals=()
for r in $(seq 1 "$RUNS"); do
  tmux -S "$sock" -f /dev/null new-session -d -s m -x 160 -y 48 \
    "TERM=xterm-256color $ENGINE $CONSOLE_ENV exec $BIN"
  if [ "$FLOOD" = 1 ]; then
    sleep 3
    tmux -S "$sock" send-keys -t m /; tmux -S "$sock" send-keys -t m -l "$FLOOD_NAME"
    tmux -S "$sock" send-keys -t m Enter; sleep 1; tmux -S "$sock" send-keys -t m l
  fi
  sleep "$SETTLE"
  pid=$(tmux -S "$sock" display -p -t m '#{pane_pid}')
  rows=$(tmux -S "$sock" capture-pane -p -t m | grep -c 'fake\|Up ' || true)
  line=$(awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { printf "%d %d", r, h }' "/proc/$pid/status")
  set -- $line
  echo "run $r: RSS $(awk "BEGIN{printf \"%.1f\", $1/1024}") MB, HWM $(awk "BEGIN{printf \"%.1f\", $2/1024}") MB ($rows rows visible)"
  vals+=("$1")
  tmux -S "$sock" kill-server 2>/dev/null || true
  sleep 0.3
done
printf '%s\n' "${vals[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "median RSS %.1f MB (min %.1f, max %.1f) over %d runs\n", a[int((NR+1)/2)]/1024, a[1]/1024, a[NR]/1024, NR }'
