#!/usr/bin/env bash
# Key latency of the console while its log view follows a container printing ~50,000 lines/s.
#
#   bash benches/log_flood_latency.sh
#
# 1. Runs a container (label fleetdeck.bench=1) printing 5,000 lines every 100 ms (`seq` of the
#    next 5,000 numbers: every line differs, so the followed view really redraws), and checks
#    the real rate with `docker logs --since/--until` over 5 s.
# 2. Starts the release binary in tmux (120x35), measures the key latency on the idle table as
#    a baseline, filters to the container (`/NAME` Enter), opens its logs (`l`, follow mode),
#    waits 3 s.
# 3. SAMPLES (20) times: `tmux send-keys ?` → until `tmux capture-pane -p` shows the help
#    ("Esc closes"), then `q` → until it is gone; tight polling, times from $EPOCHREALTIME.
#    Reported: median / p95 / max. A figure includes one `tmux send-keys` and at least one
#    `tmux capture-pane` round trip (their cost alone is printed too).
# 4. The console's CPU (and dockerd's) over CPU_SECS (10) s of the flood, from /proc/PID/stat.
# The container is removed on exit (trap).
#
# Environment: SAMPLES (20), BURST (5000 lines), PAUSE_US (100000), CPU_SECS (10),
# FLEETDECK_BIN (target/release/fleetdeck; built when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

SAMPLES=${SAMPLES:-20}
BURST=${BURST:-5000}
PAUSE_US=${PAUSE_US:-100000}
CPU_SECS=${CPU_SECS:-10}
BIN=${FLEETDECK_BIN:-target/release/fleetdeck}
IMAGE=fleetdeck-test/busybox:local
RUN="$$-$(date +%s)"
NAME="fdflood-$RUN"

for tool in docker tmux; do
  command -v "$tool" >/dev/null || { echo "need $tool" >&2; exit 1; }
done
docker info >/dev/null 2>&1 || { echo "no Docker Engine answers (docker info failed)" >&2; exit 1; }
if [ ! -x "$BIN" ]; then
  echo "building $BIN (cargo build --release)"
  cargo build --release
fi
BIN=$(readlink -f "$BIN")

work=$(mktemp -d /tmp/fleetdeck-flood.XXXXXX)
sock="$work/tmux.sock"
export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_STATE_HOME"

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

. benches/common.sh  # after the cd above: paths are from the repo root

# --- the image (same recipe as tests/support/mod.rs `test_image()`) -------------------------
if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/tmp}/fleetdeck-test-image.lock"
  flock 9
  if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
    bb=""
    for p in /bin/busybox /usr/bin/busybox; do [ -x "$p" ] && bb=$p && break; done
    [ -n "$bb" ] || { echo "need busybox-static (apt-get install -y busybox-static)" >&2; exit 1; }
    root="$work/rootfs"
    mkdir -p "$root"/{bin,etc,tmp,proc,sys,dev,root}
    cp "$bb" "$root/bin/busybox"
    for a in $("$root/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"; done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
    echo 'root:x:0:' >"$root/etc/group"
    chmod 1777 "$root/tmp"
    tar -C "$root" -cf "$work/rootfs.tar" .
    docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' "$work/rootfs.tar" "$IMAGE" >/dev/null
  fi
  flock -u 9
fi

echo "== machine"
echo "cpus: $(nproc)   docker: $(docker version --format 'Engine {{.Server.Version}}, API {{.Server.APIVersion}}')"
echo "fleetdeck: $BIN"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"

# --- the flood ---------------------------------------------------------------------------------
# json-file (the default driver) so that `docker logs` works; rotated so the disk stays bounded.
docker run -d --name "$NAME" --label fleetdeck.bench=1 --label "fleetdeck.bench.run=$RUN" \
  --label fleetdeck.bench.script=log_flood --network none \
  --log-driver json-file --log-opt max-size=50m --log-opt max-file=2 \
  "$IMAGE" sh -c "i=0; while :; do seq \$i \$((i + $BURST - 1)); i=\$((i + $BURST)); usleep $PAUSE_US; done" >/dev/null
rate() { # lines/s the engine logged over the last 5 s
  local a b
  a=$(date +%s.%N); sleep 5; b=$(date +%s.%N)
  docker logs --since "$a" --until "$b" "$NAME" 2>&1 | wc -l | awk -v a="$a" -v b="$b" '{ printf "%.0f", $1 / (b - a) }'
}
sleep 2
RATE_ALONE=$(rate)
echo
echo "== flood: $NAME prints $BURST new numbered lines every $((PAUSE_US / 1000)) ms; engine logged $RATE_ALONE lines/s (console not running)"

# --- the console -----------------------------------------------------------------------------
tmux -S "$sock" -f /dev/null new-session -d -s f -x 120 -y 35 \
  "bash -c 'export TERM=xterm-256color; exec $BIN --log-file $work/trace.log'"
wait_for "$NAME" 30
pid=$(tmux -S "$sock" display -p -t f '#{pane_pid}')
[ "$(readlink "/proc/$pid/exe")" = "$BIN" ] || { echo "pane pid $pid is not fleetdeck" >&2; exit 1; }

# Cost of the measuring itself: one send-keys of a key the table ignores, one capture-pane.
probe=()
for _ in $(seq 1 "$SAMPLES"); do
  a=$(now); tmux -S "$sock" send-keys -t f F12; screen >/dev/null; probe+=("$(ms "$a" "$(now)")")
done
echo "measuring overhead (send-keys + one capture-pane, no screen change): $(stats "${probe[@]}")"

measure() { # $1 = label; fills OPEN / CLOSE arrays
  OPEN=(); CLOSE=()
  local a s
  for _ in $(seq 1 "$SAMPLES"); do
    a=$(now)
    tmux -S "$sock" send-keys -t f '?'
    while :; do s=$(screen); [[ $s == *"Esc closes"* ]] && break; done
    OPEN+=("$(ms "$a" "$(now)")")
    sleep 0.2
    a=$(now)
    tmux -S "$sock" send-keys -t f q
    while :; do s=$(screen); [[ $s != *"Esc closes"* ]] && break; done
    CLOSE+=("$(ms "$a" "$(now)")")
    sleep 0.2
  done
  echo "$1: '?' → help shown: $(stats "${OPEN[@]}")"
  echo "$1: 'q' → help gone:  $(stats "${CLOSE[@]}")"
}

echo
echo "== key latency, idle table (baseline)"
measure "table"
BASE_ALL=("${OPEN[@]}" "${CLOSE[@]}")

# Filter to the flood container and follow its logs.
tmux -S "$sock" send-keys -t f /
tmux -S "$sock" send-keys -t f -l "$NAME"
tmux -S "$sock" send-keys -t f Enter
wait_for "/$NAME" 10
tmux -S "$sock" send-keys -t f l
wait_for "follow" 10
sleep 3

echo
echo "== key latency, logs view following the flood"
measure "logs"
FLOOD_ALL=("${OPEN[@]}" "${CLOSE[@]}")
FLOOD_OPEN=("${OPEN[@]}")

# --- CPU during the flood ----------------------------------------------------------------------
hz=$(getconf CLK_TCK)
dockerd_pid=$(pgrep -xo dockerd || true)
wchar() { awk '/^wchar:/ { print $2 }' "/proc/$1/io"; }
c0=$(cpu_ticks "$pid"); d0=${dockerd_pid:+$(cpu_ticks "$dockerd_pid")}; o0=$(wchar "$pid"); w0=$(now)
sleep "$CPU_SECS"
c1=$(cpu_ticks "$pid"); d1=${dockerd_pid:+$(cpu_ticks "$dockerd_pid")}; o1=$(wchar "$pid"); w1=$(now)
secs=$(awk -v a="$w0" -v b="$w1" 'BEGIN { print b - a }')
CPU=$(awk -v t=$((c1 - c0)) -v hz="$hz" -v s="$secs" 'BEGIN { printf "%.1f", t / hz / s * 100 }')
DCPU=""
[ -n "$dockerd_pid" ] && DCPU=$(awk -v t=$((d1 - d0)) -v hz="$hz" -v s="$secs" 'BEGIN { printf "%.1f", t / hz / s * 100 }')
RSS_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
RATE_FOLLOWED=$(rate)
last=$(screen | head -2 | tail -1 | sed 's/  */ /g')
echo
echo "== CPU over ${secs%.*} s of flood: console $CPU % of one core${DCPU:+, dockerd $DCPU %}; console RSS $((RSS_KB / 1024)).$(( (RSS_KB % 1024) * 10 / 1024 )) MB"
echo "   terminal output (bytes the console wrote): $(awk -v b=$((o1 - o0)) -v s="$secs" 'BEGIN { printf "%.0f", b / s / 1024 }') KiB/s"
echo "   engine logged $RATE_FOLLOWED lines/s while the console followed (alone: $RATE_ALONE lines/s)"
echo "   breadcrumb: $last"
tmux -S "$sock" send-keys -t f C-c

echo
echo "== summary (load average now $(cut -d' ' -f1-3 /proc/loadavg))"
echo "flood rate:                 $RATE_FOLLOWED lines/s (engine count, console following)"
echo "key → screen, flood, all:   $(stats "${FLOOD_ALL[@]}")   target < 50 ms"
echo "key → screen, flood, '?':   $(stats "${FLOOD_OPEN[@]}")"
echo "key → screen, idle table:   $(stats "${BASE_ALL[@]}")"
echo "measuring overhead alone:   $(stats "${probe[@]}")"
echo "console CPU during flood:   $CPU % of one core"
