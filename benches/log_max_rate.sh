#!/usr/bin/env bash
# Logs at the engine's limit: what the console receives beside what `docker logs -f` receives,
# from containers printing as fast as they can, and the console's keys meanwhile.
#
#   bash benches/log_max_rate.sh            (FLEETDECK_BIN, default target/release/fleetdeck)
#
# SOURCES containers (label fleetdeck.bench.run) each run `seq 1 2000000000` — as fast as the
# engine takes it — or, with RATE, print RATE/10 new numbered lines every 100 ms (a little less
# than RATE lines/s: seq's own time adds to the pause); json-file logs rotated at 1 GB. With
# SOURCES > 1 they are one compose project (the labels compose writes) and the console follows
# the project: its log view merges every container's stream.
# Each of ROUNDS rounds measures, one after the other (alternating, so drift spreads over both):
#   docker  SOURCES × `docker logs -f --tail 0 NAME > file`: lines received over WINDOW s after
#           WARM s (`wc -l` of the files), and the CPU of the docker CLI processes.
#   console fleetdeck in tmux (160x48), the container (or project) filtered and its logs
#           followed (`l`): lines received over WINDOW s after WARM s, read from the view's
#           breadcrumb ("100000 of N lines"), its CPU, VmRSS / VmHWM at the end; then KEYS times
#           `?` → help shown and `q` → help gone (capture-pane polled), all while following.
# dockerd's CPU is printed for each window too: the engine is one of the processes the 2 cores
# share, so a reader that costs more CPU also slows the engine down.
#
# Environment: SOURCES (1), ROUNDS (3), WINDOW (10), WARM (3), KEYS (10), FLEETDECK_BIN,
# DOCKER_FLAGS (none; `-t` asks `docker logs` for the timestamps the console always asks for),
# RATE (0: as fast as the engine takes; else lines/s per source), SERVICE (1: the sources are
# the SOURCES tasks of one Swarm service instead, `docker service logs -f` its reference; the
# engine is made a single-node swarm for the run when it is none), CONFIG (the console's
# config.yaml, e.g. CONFIG='max_fps: 10').
set -euo pipefail
cd "$(dirname "$0")/.."

SOURCES=${SOURCES:-1}
ROUNDS=${ROUNDS:-3}
WINDOW=${WINDOW:-10}
WARM=${WARM:-3}
KEYS=${KEYS:-10}
CONFIG=${CONFIG:-}
DOCKER_FLAGS=${DOCKER_FLAGS:-}
RATE=${RATE:-0}
SERVICE=${SERVICE:-0}
BIN=${FLEETDECK_BIN:-target/release/fleetdeck}
IMAGE=fleetdeck-test/busybox:local
RUN="maxrate$$"

for tool in docker tmux; do
  command -v "$tool" >/dev/null || { echo "need $tool" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "no $BIN: cargo build --release first" >&2; exit 1; }
BIN=$(readlink -f "$BIN")
docker image inspect "$IMAGE" >/dev/null 2>&1 || { echo "need $IMAGE (run benches/log_flood_latency.sh or the tests once)" >&2; exit 1; }

work=$(mktemp -d /tmp/fleetdeck-maxrate.XXXXXX)
sock="$work/tmux.sock"
export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
mkdir -p "$XDG_CONFIG_HOME/fleetdeck" "$XDG_STATE_HOME"
[ -z "$CONFIG" ] || printf '%s\n' "$CONFIG" >"$XDG_CONFIG_HOME/fleetdeck/config.yaml"
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  tmux -S "$sock" kill-server 2>/dev/null || true
  jobs -p | xargs -r kill 2>/dev/null || true
  [ "$SERVICE" = 1 ] && docker service rm "$RUN" >/dev/null 2>&1 || true
  [ -n "${LEAVE_SWARM:-}" ] && docker swarm leave --force >/dev/null 2>&1 || true
  docker ps -aq --filter "label=fleetdeck.bench.run=$RUN" | xargs -r docker rm -f >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

. benches/common.sh
hz=$(getconf CLK_TCK)
dockerd_pid=$(pgrep -xo dockerd || true)
# What the containers printed meanwhile: their json-file logs' growth (bytes / the newest
# line's size; a window in which a file rotated is not counted).
log_paths() { for n in "${NAMES[@]}"; do docker inspect -f '{{.LogPath}}' "$n"; done; }
logged_bytes() { local t=0 f; for f in $LOG_PATHS; do t=$((t + $(stat -c %s "$f"))); done; echo "$t"; }
line_bytes() { local f; for f in $LOG_PATHS; do tail -1 "$f" | wc -c; return; done; }
ticks_of() { local t=0 p; for p in "$@"; do t=$((t + $(cpu_ticks "$p" 2>/dev/null || echo 0))); done; echo "$t"; }
pct() { awk -v t="$1" -v hz="$hz" -v s="$2" 'BEGIN { printf "%.1f", t / hz / s * 100 }'; }
per_sec() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
# Lines/s the containers wrote, from their logs' growth in bytes ($1) over $2 s.
wrote() { awk -v n="$1" -v l="$(line_bytes)" -v s="$2" 'BEGIN { if (n < 0) printf "? (a file rotated)"; else printf "%.0f", n / l / s }'; }

echo "== machine: $(nproc) cpus, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "docker: $(docker version --format 'Engine {{.Server.Version}}, API {{.Server.APIVersion}}')"
echo "fleetdeck: $BIN"

PROJECT="$RUN"
NAMES=()
CMD=(seq 1 2000000000)
if [ "$RATE" -gt 0 ]; then # RATE/10 new numbered lines every 100 ms
  b=$((RATE / 10))
  CMD=(sh -c "i=0; while :; do seq \$i \$((i + $b - 1)); i=\$((i + $b)); usleep 100000; done")
fi
if [ "$SERVICE" = 1 ]; then
  if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
    docker swarm init --advertise-addr 127.0.0.1 >/dev/null
    LEAVE_SWARM=1
  fi
  docker service create --detach --name "$RUN" --replicas "$SOURCES" --label "fleetdeck.bench.run=$RUN" \
    --container-label "fleetdeck.bench.run=$RUN" --endpoint-mode dnsrr --no-resolve-image \
    --log-driver json-file --log-opt max-size=1g --log-opt max-file=2 "$IMAGE" "${CMD[@]}" >/dev/null
  for _ in $(seq 1 60); do
    [ "$(docker ps -q --filter "label=com.docker.swarm.service.name=$RUN" | wc -l)" -ge "$SOURCES" ] && break
    sleep 0.5
  done
  mapfile -t NAMES < <(docker ps --format '{{.Names}}' --filter "label=com.docker.swarm.service.name=$RUN")
else
  for i in $(seq 1 "$SOURCES"); do
    name="$RUN-s$i"
    labels=(--label "fleetdeck.bench.run=$RUN")
    [ "$SOURCES" -gt 1 ] && labels+=(--label "com.docker.compose.project=$PROJECT"
      --label "com.docker.compose.service=s$i" --label com.docker.compose.container-number=1)
    docker run -d --name "$name" "${labels[@]}" --network none \
      --log-driver json-file --log-opt max-size=1g --log-opt max-file=2 \
      "$IMAGE" "${CMD[@]}" >/dev/null
    NAMES+=("$name")
  done
fi
echo "$SOURCES source(s) printing: ${NAMES[*]}"
LOG_PATHS=$(log_paths)
sleep 2

# Lines in a file so far (counted, not read off seq's numbers: a reader that falls more than
# the two rotated files behind skips lines, and a count does not pretend it got them).
lines_in() { wc -l <"$1" 2>/dev/null || echo 0; }

round_docker() {
  local pids=() i f a b n0=0 n1=0 t0 t1 d0 d1 w0 w1
  if [ "$SERVICE" = 1 ]; then
    docker service logs -f $DOCKER_FLAGS --tail 0 "$RUN" >"$work/dl.0" 2>/dev/null &
    pids+=("$!")
  else
    for i in "${!NAMES[@]}"; do
      docker logs -f $DOCKER_FLAGS --tail 0 "${NAMES[$i]}" >"$work/dl.$i" 2>/dev/null &
      pids+=("$!")
    done
  fi
  sleep "$WARM"
  for f in "$work"/dl.*; do n0=$((n0 + $(lines_in "$f"))); done
  t0=$(ticks_of "${pids[@]}"); d0=$(ticks_of $dockerd_pid); w0=$(logged_bytes); a=$(now)
  sleep "$WINDOW"
  for f in "$work"/dl.*; do n1=$((n1 + $(lines_in "$f"))); done
  t1=$(ticks_of "${pids[@]}"); d1=$(ticks_of $dockerd_pid); w1=$(logged_bytes); b=$(now)
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  rm -f "$work"/dl.*
  local secs; secs=$(awk -v a="$a" -v b="$b" 'BEGIN { print b - a }')
  D_RATE+=("$(per_sec $((n1 - n0)) "$secs")")
  D_CPU+=("$(pct $((t1 - t0)) "$secs")")
  D_ENGINE+=("$(pct $((d1 - d0)) "$secs")")
  D_WROTE+=("$(wrote $((w1 - w0)) "$secs")")
}

round_console() {
  local pid a b n0 n1 t0 t1 d0 d1 w0 w1 s target
  tmux -S "$sock" -f /dev/null new-session -d -s f -x 160 -y 48 \
    "bash -c 'export TERM=xterm-256color; exec $BIN --log-file $work/trace.log'"
  wait_for "$RUN" 30 # a container row, or the project (the console reopens the last view)
  pid=$(tmux -S "$sock" display -p -t f '#{pane_pid}')
  [ "$(readlink "/proc/$pid/exe")" = "$BIN" ] || { echo "pane pid $pid is not fleetdeck" >&2; exit 1; }
  target=${NAMES[0]}
  if [ "$SERVICE" = 1 ] || [ "$SOURCES" -gt 1 ]; then
    target=$PROJECT
    tmux -S "$sock" send-keys -t f :; tmux -S "$sock" send-keys -t f -l "$([ "$SERVICE" = 1 ] && echo services || echo projects)"
    tmux -S "$sock" send-keys -t f Enter
    sleep 0.5
  fi
  tmux -S "$sock" send-keys -t f /; tmux -S "$sock" send-keys -t f -l "$target"; tmux -S "$sock" send-keys -t f Enter
  wait_for "/$target" 10
  # `l` again if the view did not open (a key can arrive while the filter is still applied).
  for _ in 1 2 3; do
    tmux -S "$sock" send-keys -t f l
    sleep 1
    [[ $(screen) == *follow* ]] && break
  done
  wait_for "follow" 10
  sleep "$WARM"
  n0=$(received); t0=$(cpu_ticks "$pid"); d0=$(ticks_of $dockerd_pid); w0=$(logged_bytes); a=$(now)
  sleep "$WINDOW"
  n1=$(received); t1=$(cpu_ticks "$pid"); d1=$(ticks_of $dockerd_pid); w1=$(logged_bytes); b=$(now)
  local secs; secs=$(awk -v a="$a" -v b="$b" 'BEGIN { print b - a }')
  C_RATE+=("$(per_sec $((n1 - n0)) "$secs")")
  C_CPU+=("$(pct $((t1 - t0)) "$secs")")
  C_ENGINE+=("$(pct $((d1 - d0)) "$secs")")
  C_WROTE+=("$(wrote $((w1 - w0)) "$secs")")
  key_latency "$KEYS"
  C_RSS+=("$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")")
  C_HWM+=("$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")")
  tmux -S "$sock" kill-server 2>/dev/null || true
  sleep 1
}

D_WROTE=(); C_WROTE=(); D_RATE=(); D_CPU=(); D_ENGINE=(); C_RATE=(); C_CPU=(); C_ENGINE=(); C_RSS=(); C_HWM=(); KEY_LAT=()
for r in $(seq 1 "$ROUNDS"); do
  round_docker
  round_console
  echo "round $r: docker logs -f ${D_RATE[-1]} lines/s (CPU ${D_CPU[-1]} %, dockerd ${D_ENGINE[-1]} %, containers wrote ${D_WROTE[-1]}/s)," \
    "console ${C_RATE[-1]} lines/s (CPU ${C_CPU[-1]} %, dockerd ${C_ENGINE[-1]} %, containers wrote ${C_WROTE[-1]}/s, RSS ${C_RSS[-1]} MB, peak ${C_HWM[-1]} MB)"
done

dr=$(median "${D_RATE[@]}"); cr=$(median "${C_RATE[@]}")
echo
echo "== summary, $SOURCES source(s), $ROUNDS rounds of $WINDOW s (load average now $(cut -d' ' -f1-3 /proc/loadavg))"
echo "docker logs -f: median $dr lines/s, CPU median $(median "${D_CPU[@]}") % (dockerd $(median "${D_ENGINE[@]}") %)"
echo "console:        median $cr lines/s, CPU median $(median "${C_CPU[@]}") % (dockerd $(median "${C_ENGINE[@]}") %)"
echo "console / docker logs -f: $(awk -v c="$cr" -v d="$dr" 'BEGIN { printf "%.1f%%", (d > 0) ? 100 * c / d : 0 }')"
echo "console RSS at the end: ${C_RSS[*]} MB; peak (VmHWM): ${C_HWM[*]} MB"
echo "key → screen while following: $(stats "${KEY_LAT[@]}")"
