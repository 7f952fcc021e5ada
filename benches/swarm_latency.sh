#!/usr/bin/env bash
# Swarm event → screen latency and idle CPU of the console on a services view.
#
#   bash benches/swarm_latency.sh
#
# Needs a swarm manager (runs `docker swarm init --advertise-addr 127.0.0.1` when the engine is
# not in a swarm, and leaves again at the end only in that case). Creates one service
# (label fleetdeck.bench=1), opens `:services` filtered to it in tmux (release binary, 120x35),
# then SAMPLES times changes its replica count with `docker service update --replicas N
# --detach` and measures from the moment the CLI returns (the engine has emitted the `service
# update` event by then) until `tmux capture-pane` shows the new desired count. Then the
# console's CPU over IDLE_SECS of no changes (from /proc/PID/stat). Cleans up on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
SAMPLES=${SAMPLES:-10}
IDLE_SECS=${IDLE_SECS:-30}
BIN=${FLEETDECK_BIN:-target/release/fleetdeck}
[ -x "$BIN" ] || cargo build --release
BIN=$(readlink -f "$BIN")
work=$(mktemp -d /tmp/fleetdeck-swarm.XXXXXX)
sock="$work/tmux.sock"
SVC="fdbench-svc-$$"
inited=0
export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"

cleanup() {
  trap - EXIT
  tmux -S "$sock" kill-server 2>/dev/null || true
  docker service rm "$SVC" >/dev/null 2>&1 || true
  if [ "$inited" = 1 ]; then
    docker swarm leave --force >/dev/null 2>&1 || true
    docker network rm docker_gwbridge >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null
  inited=1
fi
docker service create --detach --no-resolve-image --endpoint-mode dnsrr --label fleetdeck.bench=1 \
  --name "$SVC" --replicas 1 fleetdeck-test/busybox:local sleep 1000000 >/dev/null

tmux -S "$sock" -f /dev/null new-session -d -s b -x 120 -y 35 "$BIN"
screen() { tmux -S "$sock" capture-pane -p -t b; }
wait_for() { local deadline=$((SECONDS + 20)); until screen | grep -q -- "$1"; do
  [ $SECONDS -lt $deadline ] || { echo "timeout waiting for $1" >&2; screen >&2; exit 1; }; done; }
wait_for NAME
tmux -S "$sock" send-keys -t b ':'; tmux -S "$sock" send-keys -t b -l services; tmux -S "$sock" send-keys -t b Enter
wait_for "$SVC"
tmux -S "$sock" send-keys -t b '/'; tmux -S "$sock" send-keys -t b -l "$SVC"; tmux -S "$sock" send-keys -t b Enter
sleep 2
pid=$(pgrep -f "^$BIN" | head -1)

lat=()
for i in $(seq 1 "$SAMPLES"); do
  n=$(( (i % 2) + 2 ))   # 3, 2, 3, 2 ...
  docker service update --detach --replicas "$n" "$SVC" >/dev/null 2>&1
  t0=$EPOCHREALTIME
  until screen | grep -q -- "/$n "; do :; done
  t1=$EPOCHREALTIME
  lat+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')")
  sleep 1
done
printf '%s\n' "${lat[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "event → screen (ms): median %.1f  p95 %.1f  max %.1f  (n=%d)\n", a[int((NR+1)/2)], a[int(NR*0.95+0.5)], a[NR], NR }'

# Idle: let the service converge first (the services view reconciles every 2 s until then).
sleep 15
ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
a=$(ticks); sleep "$IDLE_SECS"; b=$(ticks)
awk -v a="$a" -v b="$b" -v hz="$hz" -v s="$IDLE_SECS" 'BEGIN { printf "idle CPU over %d s on the services view: %.2f %% of one core\n", s, (b - a) / hz / s * 100 }'
echo "RSS: $(awk '/VmRSS/ { print $2 / 1024 " MB" }' /proc/$pid/status)"
