#!/usr/bin/env bash
# fleetdeck with many containers: the release binary against a real Docker Engine.
#
#   bash benches/many_containers.sh            # 1000 containers
#   N=200 bash benches/many_containers.sh      # or: bash benches/many_containers.sh 200
#
# Creates N containers (label fleetdeck.bench=1, `sleep 1000000` from
# fleetdeck-test/busybox:local, --network none, --log-driver none), then measures:
#   (a) `fleetdeck ls containers -o json` wall time (hyperfine when installed, else a loop);
#   (b) "first frame drawn X ms after start" from the console's trace log (tmux, 120x35);
#   (c) launch → the table shows every container (breadcrumb "M/M" with M >= N), polled with
#       `tmux capture-pane` (an upper bound: includes tmux and the polling interval);
#   (d) idle CPU of the console over IDLE_SECS (default 60) s, from /proc/PID/stat;
#   (e) its RSS (VmRSS, and the peak VmHWM) from /proc/PID/status.
# Every container it creates is removed on exit (trap), also on Ctrl-C.
#
#   FAKE_ENGINE=1 bash benches/many_containers.sh
# runs the same measurements against benches/fake_engine.py (N canned containers on a unix
# socket, answered in a few ms) instead of the engine: the console's own share of the figures.
#
# Environment: N (1000), LAUNCHES (10, for b and c), IDLE_SECS (60), RUNS (20, for a),
# PARALLEL (8, docker run jobs), FLEETDECK_BIN (target/release/fleetdeck; built when missing),
# FAKE_ENGINE (0).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-${N:-1000}}
LAUNCHES=${LAUNCHES:-10}
IDLE_SECS=${IDLE_SECS:-60}
RUNS=${RUNS:-20}
PARALLEL=${PARALLEL:-8}
BIN=${FLEETDECK_BIN:-target/release/fleetdeck}
IMAGE=fleetdeck-test/busybox:local
SCRIPT=many_containers
RUN="$$-$(date +%s)"
# Conservative cost of one idle container (containerd-shim-runc-v2 + sleep + kernel objects);
# the real figure is measured and printed below.
PER_CONTAINER_MB=${PER_CONTAINER_MB:-15}
RESERVE_MB=${RESERVE_MB:-2048}
FAKE_ENGINE=${FAKE_ENGINE:-0}

for tool in docker tmux; do
  command -v "$tool" >/dev/null || { echo "need $tool" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "need jq (apt-get install -y jq)" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "no Docker Engine answers (docker info failed)" >&2; exit 1; }
if [ ! -x "$BIN" ]; then
  echo "building $BIN (cargo build --release)"
  cargo build --release
fi
BIN=$(readlink -f "$BIN")

work=$(mktemp -d /tmp/fleetdeck-bench.XXXXXX)
sock="$work/tmux.sock"
export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_STATE_HOME"
FD=()        # extra fleetdeck arguments (the fake engine's socket)
FAKE_PID=""

remove_containers() { # remove every container carrying label $1
  docker ps -aq --filter "label=$1" | xargs -r -n 50 -P 4 docker rm -f >/dev/null 2>&1 || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  tmux -S "$sock" kill-server 2>/dev/null || true
  if [ -n "$FAKE_PID" ]; then
    kill "$FAKE_PID" 2>/dev/null || true
  else
    echo "cleanup: removing the bench containers of this run..."
    remove_containers "fleetdeck.bench.run=$RUN"
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

ms() { # microsecond EPOCHREALTIME difference → milliseconds with one decimal
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) * 1000 }'
}
now() { echo "$EPOCHREALTIME"; }

# --- the image (same recipe as tests/support/mod.rs `test_image()`) -------------------------
ensure_image() {
  docker image inspect "$IMAGE" >/dev/null 2>&1 && return
  # The tests take the same lock: never import the image twice at once.
  exec 9>"${TMPDIR:-/tmp}/fleetdeck-test-image.lock"
  flock 9
  if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
    local bb=""
    for p in /bin/busybox /usr/bin/busybox; do [ -x "$p" ] && bb=$p && break; done
    [ -n "$bb" ] || { echo "need busybox-static (apt-get install -y busybox-static)" >&2; exit 1; }
    echo "building $IMAGE from $bb"
    local root="$work/rootfs"
    mkdir -p "$root"/{bin,etc,tmp,proc,sys,dev,root}
    cp "$bb" "$root/bin/busybox"
    for a in $("$root/bin/busybox" --list); do
      [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
    done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
    echo 'root:x:0:' >"$root/etc/group"
    chmod 1777 "$root/tmp"
    tar -C "$root" -cf "$work/rootfs.tar" .
    docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' "$work/rootfs.tar" "$IMAGE" >/dev/null
  fi
  flock -u 9
}

mem_available_mb() { awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo; }
cpu_ticks() { # utime + stime of a pid, in clock ticks (fields 14, 15 after the comm field)
  sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# --- machine facts ---------------------------------------------------------------------------
echo "== machine"
echo "cpus: $(nproc)   memory: $(free -m | awk '/^Mem:/ { print $2 " MB total, " $7 " MB available" }')"
echo "docker: $(docker version --format 'Engine {{.Server.Version}}, API {{.Server.APIVersion}}')"
echo "fleetdeck: $BIN"
echo "kernel: $(uname -r)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"

if [ "$FAKE_ENGINE" = 1 ]; then
  python3 benches/fake_engine.py "$work/engine.sock" "$N" &
  FAKE_PID=$!
  for _ in $(seq 1 50); do [ -S "$work/engine.sock" ] && break; sleep 0.1; done
  FD=(--docker-host "unix://$work/engine.sock")
  echo "engine: benches/fake_engine.py serving $N canned containers on $work/engine.sock"
else
# --- stale containers of an earlier run of this script that was killed -----------------------
stale=$(docker ps -aq --filter label=fleetdeck.bench=1 --filter "label=fleetdeck.bench.script=$SCRIPT" | wc -l)
if [ "$stale" -gt 0 ]; then
  echo "removing $stale container(s) left by an earlier, killed run of this script"
  remove_containers "fleetdeck.bench.script=$SCRIPT"
fi

# --- how many fit ----------------------------------------------------------------------------
avail=$(mem_available_mb)
fit=$(( (avail - RESERVE_MB) / PER_CONTAINER_MB ))
if [ "$fit" -lt "$N" ]; then
  echo "WARNING: ${avail} MB available fits about $fit containers at ~${PER_CONTAINER_MB} MB each" \
    "(keeping ${RESERVE_MB} MB free); using N=$fit instead of $N" >&2
  N=$fit
fi
[ "$N" -ge 1 ] || { echo "not enough memory for even one container" >&2; exit 1; }

ensure_image
before=$(docker ps -aq | wc -l)
echo
echo "== creating $N containers ($PARALLEL in parallel; $before containers already on the engine)"
t0=$(now)
seq -f "%05g" 1 "$N" | xargs -P "$PARALLEL" -I{} \
  docker run -d --name "fdbench-$RUN-{}" \
    --label fleetdeck.bench=1 --label "fleetdeck.bench.run=$RUN" \
    --label "fleetdeck.bench.script=$SCRIPT" \
    --network none --log-driver none "$IMAGE" sleep 1000000 >/dev/null
created=$(docker ps -q --filter "label=fleetdeck.bench.run=$RUN" | wc -l)
echo "running: $created bench containers in $(ms "$t0" "$(now)") ms;" \
  "MemAvailable $avail → $(mem_available_mb) MB" \
  "(~$(( (avail - $(mem_available_mb)) * 1024 / (created > 0 ? created : 1) )) KB per container)"
[ "$created" -eq "$N" ] || { echo "only $created of $N containers are running" >&2; exit 1; }
sleep 3 # let the engine settle (events of the creation burst)
fi

# --- (a) fleetdeck ls containers -o json -------------------------------------------------------
total=$("$BIN" "${FD[@]}" ls containers -o json | jq length)
echo
echo "== (a) fleetdeck ls containers -o json   ($total containers listed)"
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$work/ls.json" \
    "$BIN ${FD[*]} ls containers -o json" >/dev/null
  jq -r '.results[0] | "mean \(.mean*1000|.*10|round/10) ms ± \(.stddev*1000|.*10|round/10), median \(.median*1000|.*10|round/10) ms, min \(.min*1000|.*10|round/10), max \(.max*1000|.*10|round/10) (hyperfine, \(.times|length) runs)"' "$work/ls.json"
  LS_MEDIAN=$(jq -r '.results[0].median*1000|.*10|round/10' "$work/ls.json")
else
  ts=()
  for _ in 1 2 3; do "$BIN" "${FD[@]}" ls containers -o json >/dev/null; done
  for _ in $(seq 1 "$RUNS"); do
    a=$(now); "$BIN" "${FD[@]}" ls containers -o json >/dev/null; ts+=("$(ms "$a" "$(now)")")
  done
  LS_MEDIAN=$(printf '%s\n' "${ts[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  echo "median $LS_MEDIAN ms over $RUNS runs (date loop): ${ts[*]}"
fi

# The engine's own share: the same list call (GET /containers/json?all=1) with curl.
sockpath=/var/run/docker.sock
case "${DOCKER_HOST:-}" in unix://*) sockpath=${DOCKER_HOST#unix://} ;; esac
[ "$FAKE_ENGINE" = 1 ] && sockpath="$work/engine.sock"
if command -v curl >/dev/null && [ -S "$sockpath" ] && { [ "$FAKE_ENGINE" = 1 ] || [ -z "${DOCKER_HOST:-}" ] || [ "${DOCKER_HOST:-}" = "unix://$sockpath" ]; }; then
  api=1.41; [ "$FAKE_ENGINE" = 1 ] || api=$(docker version --format '{{.Server.APIVersion}}')
  if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$work/api.json" \
      "curl -s --unix-socket $sockpath -o /dev/null http://localhost/v$api/containers/json?all=1" >/dev/null
    API_MEDIAN=$(jq -r '.results[0].median*1000|.*10|round/10' "$work/api.json")
  else
    ts=()
    for _ in $(seq 1 "$RUNS"); do
      a=$(now); curl -s --unix-socket "$sockpath" -o /dev/null "http://localhost/v$api/containers/json?all=1"; ts+=("$(ms "$a" "$(now)")")
    done
    API_MEDIAN=$(printf '%s\n' "${ts[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  fi
  echo "for comparison, the engine alone (curl GET /containers/json?all=1): median $API_MEDIAN ms"
fi

# --- (b) + (c) launch the console ------------------------------------------------------------
all_rows_shown() { # the breadcrumb shows "M/M" (no filter: rows = total) with M >= N
  tmux -S "$sock" capture-pane -p -t b 2>/dev/null |
    grep -oE '\b[0-9]+/[0-9]+\b' | awk -F/ -v n="$N" '$1 == $2 && $2 >= n { ok = 1 } END { exit !ok }'
}

echo
echo "== (b) first frame, (c) launch → all $total rows on screen   ($LAUNCHES launches, tmux 120x35)"
firsts=(); shown=(); conns=()
for i in $(seq 1 "$LAUNCHES"); do
  trace="$work/trace.$i.log"
  rm -f "$work/t0"
  # The pane's shell runs bash so that $EPOCHREALTIME exists; it execs the console right after.
  tmux -S "$sock" -f /dev/null new-session -d -s b -x 120 -y 35 \
    "bash -c 'export TERM=xterm-256color FLEETDECK_LOG=info,fleetdeck=debug; echo \$EPOCHREALTIME >$work/t0; exec $BIN ${FD[*]} --log-file $trace'"
  deadline=$(( $(date +%s) + 30 ))
  until all_rows_shown; do
    [ "$(date +%s)" -lt "$deadline" ] || {
      echo "timed out waiting for all rows; screen:" >&2
      tmux -S "$sock" capture-pane -p -t b >&2
      exit 1
    }
  done
  t1=$(now)
  start=$(cat "$work/t0")
  shown+=("$(ms "$start" "$t1")")
  for _ in $(seq 1 50); do grep -q 'first frame drawn' "$trace" 2>/dev/null && break; sleep 0.1; done
  firsts+=("$(grep -oE 'first frame drawn [0-9.]+ ms' "$trace" | grep -oE '[0-9.]+' | head -1)")
  # Connected = TCP/unix connect + API version negotiation (two GET /version), from the trace.
  cts=$(grep -m1 'connected to docker' "$trace" | cut -d' ' -f1)
  conns+=("$(ms "$start" "$(date -d "$cts" +%s.%N)")")
  echo "launch $i: first frame ${firsts[-1]} ms, engine connected ${conns[-1]} ms, all rows on screen after ${shown[-1]} ms"
  if [ "$i" -lt "$LAUNCHES" ]; then
    tmux -S "$sock" kill-server
    sleep 1
  fi
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
maxof() { printf '%s\n' "$@" | sort -n | tail -1; }
FIRST_MEDIAN=$(median "${firsts[@]}")
SHOWN_MEDIAN=$(median "${shown[@]}")
echo "median: first frame $FIRST_MEDIAN ms (max $(maxof "${firsts[@]}")), connected $(median "${conns[@]}") ms," \
  "all rows on screen $SHOWN_MEDIAN ms (max $(maxof "${shown[@]}"))"
echo "all rows on screen, sorted: $(printf '%s\n' "${shown[@]}" | sort -n | tr '\n' ' ')"

# --- (d) idle CPU, (e) RSS (the last launch keeps running) -----------------------------------
pid=$(tmux -S "$sock" display -p -t b '#{pane_pid}')
[ "$(readlink "/proc/$pid/exe")" = "$BIN" ] || { echo "pane pid $pid is not fleetdeck" >&2; exit 1; }
hz=$(getconf CLK_TCK)
sleep 5 # settle: the stats stream of the selected row starts, the first events are drained
dockerd_pid=$(pgrep -xo dockerd || true)
c0=$(cpu_ticks "$pid"); d0=${dockerd_pid:+$(cpu_ticks "$dockerd_pid")}
w0=$(now); since=$(date +%s)
sleep "$IDLE_SECS"
c1=$(cpu_ticks "$pid"); d1=${dockerd_pid:+$(cpu_ticks "$dockerd_pid")}
w1=$(now); until_=$(date +%s)
secs=$(awk -v a="$w0" -v b="$w1" 'BEGIN { print b - a }')
IDLE_CPU=$(awk -v t=$((c1 - c0)) -v hz="$hz" -v s="$secs" 'BEGIN { printf "%.2f", t / hz / s * 100 }')
events="n/a (fake engine)"
[ "$FAKE_ENGINE" = 1 ] || events=$(timeout 10 docker events --since "$since" --until "$until_" --filter type=container 2>/dev/null | wc -l || echo "?")
echo
echo "== (d) idle CPU over ${secs%.*} s: $IDLE_CPU % of one core ($((c1 - c0)) ticks at $hz Hz);" \
  "container events on the engine meanwhile: $events"
if [ -n "$dockerd_pid" ]; then
  echo "   (dockerd meanwhile, for context: $(awk -v t=$((d1 - d0)) -v hz="$hz" -v s="$secs" 'BEGIN { printf "%.2f", t / hz / s * 100 }') % of one core)"
fi
RSS_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
HWM_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
echo "== (e) RSS $((RSS_KB / 1024)).$(( (RSS_KB % 1024) * 10 / 1024 )) MB (VmRSS $RSS_KB kB, peak VmHWM $HWM_KB kB)"
tmux -S "$sock" send-keys -t b q
sleep 0.5

echo
echo "== summary (N=$N bench containers, $total listed; load average now $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-46s %-10s %s\n' metric target measured
printf '%-46s %-10s %s\n' "ls containers -o json (median)" "-" "$LS_MEDIAN ms"
printf '%-46s %-10s %s\n' "first frame (median of $LAUNCHES)" "< 50 ms" "$FIRST_MEDIAN ms"
printf '%-46s %-10s %s\n' "launch -> $total rows on screen (median)" "< 300 ms" "$SHOWN_MEDIAN ms"
printf '%-46s %-10s %s\n' "idle CPU (${secs%.*} s)" "< 0.5 %" "$IDLE_CPU %"
printf '%-46s %-10s %s\n' "RSS" "< 30 MB" "$((RSS_KB / 1024)).$(( (RSS_KB % 1024) * 10 / 1024 )) MB"
