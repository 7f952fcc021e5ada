#!/usr/bin/env bash
# RSS of the console listing N canned containers (benches/fake_engine.py, no real engine needed),
# in tmux at 160x48 after SETTLE seconds. RUNS runs; prints each VmRSS / VmHWM and the median RSS.
# Extra environment for the console goes in CONSOLE_ENV (e.g. CONSOLE_ENV="MALLOC_ARENA_MAX=8"),
# which is how the allocator settings of docs/PERFORMANCE.md §14 were compared.
#
#   bash benches/mem_rss.sh [BINARY]     (default target/release/fleetdeck)
#
# Environment: N (1000), RUNS (5), SETTLE (4 s), CONSOLE_ENV ("").
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000}; RUNS=${RUNS:-5}; SETTLE=${SETTLE:-4}; CONSOLE_ENV=${CONSOLE_ENV:-}
BIN=$(readlink -f "${1:-target/release/fleetdeck}")
[ -x "$BIN" ] || { echo "no binary $BIN: cargo build --release" >&2; exit 1; }
work=$(mktemp -d /tmp/fleetdeck-memrss.XXXXXX)
sock="$work/tmux.sock"
python3 benches/fake_engine.py "$work/engine.sock" "$N" &
FAKE_PID=$!
cleanup() {
  tmux -S "$sock" kill-server 2>/dev/null || true
  kill "$FAKE_PID" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 50); do [ -S "$work/engine.sock" ] && break; sleep 0.1; done
export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_STATE_HOME"
vals=()
for r in $(seq 1 "$RUNS"); do
  tmux -S "$sock" -f /dev/null new-session -d -s m -x 160 -y 48 \
    "TERM=xterm-256color DOCKER_HOST=unix://$work/engine.sock $CONSOLE_ENV exec $BIN"
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
