#!/usr/bin/env bash
# Memory of the console on an appliance: RSS with N containers (default 50) listed and the local
# device open (`--local`), at 80x24 in tmux, after a settle time; then with the containers view
# and the devices view each on top. Prints VmRSS and VmHWM of the process.
#
#   bash benches/appliance_rss.sh [BINARY]      (default: the dist build, else target/release)
#
# Environment: N (50), SETTLE (5 s).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-50}
SETTLE=${SETTLE:-5}
BIN=${1:-}
if [ -z "$BIN" ]; then
  for b in target/x86_64-unknown-linux-gnu/dist/fleetdeck target/dist/fleetdeck target/release/fleetdeck; do
    [ -x "$b" ] && BIN=$b && break
  done
fi
[ -n "$BIN" ] && [ -x "$BIN" ] || { echo "no binary: cargo build --profile dist first" >&2; exit 1; }
BIN=$(readlink -f "$BIN")
IMAGE=fleetdeck-test/busybox:local
docker image inspect "$IMAGE" >/dev/null 2>&1 || { echo "need $IMAGE (run the tests once)" >&2; exit 1; }
RUN="rss$$"
work=$(mktemp -d /tmp/fleetdeck-rss.XXXXXX)
sock="$work/tmux.sock"
cleanup() {
  tmux -S "$sock" kill-server 2>/dev/null || true
  docker ps -aq --filter "label=fleetdeck.bench.run=$RUN" | xargs -r docker rm -f >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
for i in $(seq 1 "$N"); do
  docker run -d --label "fleetdeck.bench.run=$RUN" --network none --name "$RUN-$i" "$IMAGE" sleep 3600 >/dev/null
done
export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_STATE_HOME"
tmux -S "$sock" -f /dev/null new-session -d -s r -x 80 -y 24 "TERM=xterm-256color exec $BIN --local"
sleep "$SETTLE"
pid=$(tmux -S "$sock" display -p -t r '#{pane_pid}')
rss() { awk '/^VmRSS:|^VmHWM:/ { printf "%s %.1f MB  ", $1, $2 / 1024 }' "/proc/$pid/status"; }
echo "binary: $BIN ($(stat -c %s "$BIN") bytes)"
echo "containers view, $N containers + the local device's fleet source: $(rss)"
tmux -S "$sock" send-keys -t r ':' ; tmux -S "$sock" send-keys -t r -l 'devices'; tmux -S "$sock" send-keys -t r Enter
sleep "$SETTLE"
echo "devices view on top (local device with facts):          $(rss)"
tmux -S "$sock" capture-pane -p -t r | sed -n '1,6p'
