#!/usr/bin/env bash
# A deployment's logs merged at a high rate: what the console receives beside what the API
# double sent, its CPU and memory, and its keys meanwhile (issue #16, "Logs at the engine's limit").
#
#   bash benches/kube_log_rate.sh            (FLEETDECK_BIN, default target/release/fleetdeck)
#
# benches/kube_scale_server.py with FLOOD_PODS=SOURCES: a Deployment `flood` whose SOURCES pods
# each stream RATE lines/s when their log is followed (`timestamps=true`: the RFC 3339 stamp the
# kubelet writes). The console (160x48, `--view deployments`, no Docker) opens the deployment's
# logs (`l`: every container of every pod its selector matches, merged by time); ROUNDS times:
# lines received over WINDOW s after WARM s (the view's breadcrumb) beside the lines the double
# sent meanwhile (its /_stats), the console's CPU, VmRSS / VmHWM, then KEYS × `?`/`q` key → screen.
#
# Environment: SOURCES (4), RATE (30000), ROUNDS (3), WINDOW (10), WARM (3), KEYS (10),
# PORT (18772), FLEETDECK_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."

SOURCES=${SOURCES:-4}
RATE=${RATE:-30000}
ROUNDS=${ROUNDS:-3}
WINDOW=${WINDOW:-10}
WARM=${WARM:-3}
KEYS=${KEYS:-10}
PORT=${PORT:-18772}
BIN=${FLEETDECK_BIN:-target/release/fleetdeck}

for tool in tmux python3 curl; do
  command -v "$tool" >/dev/null || { echo "need $tool" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "no $BIN: cargo build --release first" >&2; exit 1; }
BIN=$(readlink -f "$BIN")

. benches/common.sh
kube_scratch klog
export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
mkdir -p "$XDG_CONFIG_HOME/fleetdeck" "$XDG_STATE_HOME"
sent() { curl -s "http://127.0.0.1:$PORT/_stats" | python3 -c 'import json, sys; print(json.load(sys.stdin).get("log lines sent", 0))'; }

echo "== machine: $(nproc) cpus, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "fleetdeck: $BIN"
FLOOD_PODS=$SOURCES FLOOD_RATE=$RATE KUBE_NAMESPACE=ns-0000 kube_double "$PORT" 20 2
printf 'docker: false\nkube:\n  - context: scale\n' >"$XDG_CONFIG_HOME/fleetdeck/config.yaml"
echo "deployment flood: $SOURCES pods × $RATE lines/s"

RECV=(); SENT=(); CPU=(); RSS=(); HWM=(); KEY_LAT=()
for r in $(seq 1 "$ROUNDS"); do
  tmux -S "$sock" -f /dev/null new-session -d -s f -x 160 -y 48 \
    "bash -c 'export TERM=xterm-256color KUBECONFIG=$work/kubeconfig; exec $BIN --view deployments --log-file $work/trace.log'"
  wait_for "flood" 30
  pid=$(tmux -S "$sock" display -p -t f '#{pane_pid}')
  tmux -S "$sock" send-keys -t f l
  wait_for "follow" 10
  sleep "$WARM"
  n0=$(received); s0=$(sent); t0=$(cpu_ticks "$pid"); a=$(now)
  sleep "$WINDOW"
  n1=$(received); s1=$(sent); t1=$(cpu_ticks "$pid"); b=$(now)
  secs=$(awk -v a="$a" -v b="$b" 'BEGIN { print b - a }')
  RECV+=("$(awk -v n=$((n1 - n0)) -v s="$secs" 'BEGIN { printf "%.0f", n / s }')")
  SENT+=("$(awk -v n=$((s1 - s0)) -v s="$secs" 'BEGIN { printf "%.0f", n / s }')")
  CPU+=("$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v s="$secs" 'BEGIN { printf "%.1f", t / hz / s * 100 }')")
  key_latency "$KEYS"
  RSS+=("$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")")
  HWM+=("$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")")
  echo "round $r: double sent ${SENT[-1]} lines/s, console received ${RECV[-1]} lines/s, CPU ${CPU[-1]} %, RSS ${RSS[-1]} MB (peak ${HWM[-1]} MB)"
  tmux -S "$sock" kill-server 2>/dev/null || true
  sleep 1
done

echo
echo "== summary, $SOURCES pods × $RATE lines/s, $ROUNDS rounds of $WINDOW s (load average now $(cut -d' ' -f1-3 /proc/loadavg))"
echo "sent: median $(median "${SENT[@]}") lines/s; received: median $(median "${RECV[@]}") lines/s; console CPU median $(median "${CPU[@]}") %"
echo "console RSS at the end: ${RSS[*]} MB; peak (VmHWM): ${HWM[*]} MB"
echo "key → screen while following: $(stats "${KEY_LAT[@]}")"
