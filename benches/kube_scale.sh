#!/usr/bin/env bash
# Kubernetes at scale (issue #16): 20,000 pods across 2,000 namespaces, all-namespaces pods
# view, 200 watch events/s of churn.
#
#   bash benches/kube_scale.sh
#
# 1. Starts benches/kube_scale_server.py (the API double: paged lists with limit/continue at a
#    consistent resourceVersion, watches from a resourceVersion, 410 when it is too old; the
#    same shapes as tests/support/kube_server.rs) and a kubeconfig pointing at it.
# 2. Launches the release binary in tmux (160x48) with `--view pods` and a config
#    whose kube source shows all namespaces (`namespace: "*"`): time from launch to
#    the table showing all PODS rows ("N/N"), and from the last pod list page the double sent
#    to that moment ("table ready after the lists arrive").
# 3. Starts CHURN (200) events/s, waits 3 s, then SAMPLES (20) times `?` → help shown and `q`
#    → help gone, timed from $EPOCHREALTIME with tight capture-pane polling (as
#    log_flood_latency.sh): median / p95 / max. The console's CPU and RSS over CPU_SECS (10).
# 4. Namespace switching: `:ns`, filter to one namespace, Enter (switch), back to `:pods`;
#    time to the pods of that namespace on screen, and the requests the double received for it
#    (a switch should cost one small list + one watch, never a re-list of everything).
#
# Environment: PODS (20000), NAMESPACES (2000), CHURN (200), SAMPLES (20), CPU_SECS (10),
# PORT (18771), FLEETDECK_BIN (target/release/fleetdeck; built when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

PODS=${PODS:-20000}
NAMESPACES=${NAMESPACES:-2000}
CHURN=${CHURN:-200}
SAMPLES=${SAMPLES:-20}
CPU_SECS=${CPU_SECS:-10}
PORT=${PORT:-18771}
BIN=${FLEETDECK_BIN:-target/release/fleetdeck}

for tool in tmux python3 curl; do
  command -v "$tool" >/dev/null || { echo "need $tool" >&2; exit 1; }
done
if [ ! -x "$BIN" ]; then
  echo "building $BIN (cargo build --release)"
  cargo build --release
fi
BIN=$(readlink -f "$BIN")

. benches/common.sh  # after the cd above: paths are from the repo root
kube_scratch kscale
export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_STATE_HOME"
wait_for() { # $1 = text, $2 = timeout s
  local end=$(( $(date +%s) + $2 )) s
  while :; do
    s=$(screen)
    [[ $s == *"$1"* ]] && return 0
    [ "$(date +%s)" -lt "$end" ] || { echo "timed out waiting for '$1'; screen:" >&2; echo "$s" >&2; exit 1; }
    sleep 0.02
  done
}
api() { curl -s "$@" "http://127.0.0.1:$PORT/$PATH_"; }
srv_stats() { curl -s "http://127.0.0.1:$PORT/_stats"; }

echo "== machine"
echo "cpus: $(nproc); fleetdeck: $BIN"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"

kube_double "$PORT" "$PODS" "$NAMESPACES"
cat "$work/server.log"

# All namespaces is a config choice for the console (`-A` is the subcommands' flag); no Docker.
mkdir -p "$XDG_CONFIG_HOME/fleetdeck"
cat >"$XDG_CONFIG_HOME/fleetdeck/config.yaml" <<EOF
docker: false
kube:
  - context: scale
    namespace: "*"
EOF

# --- launch → table ------------------------------------------------------------------------
t0=$(now)
tmux -S "$sock" -f /dev/null new-session -d -s f -x 160 -y 48 \
  "bash -c 'export TERM=xterm-256color KUBECONFIG=$work/kubeconfig DOCKER_HOST=unix:///nonexistent.sock; exec $BIN --view pods --readonly --log-file $work/trace.log'"
wait_for "$PODS/$PODS" 120
t1=$(now)
pid=$(tmux -S "$sock" display -p -t f '#{pane_pid}')
[ "$(readlink "/proc/$pid/exe")" = "$BIN" ] || { echo "pane pid $pid is not fleetdeck" >&2; exit 1; }
last_page=$(srv_stats | python3 -c 'import json,sys; print(json.load(sys.stdin).get("last_pods_page_at", 0))')
LAUNCH=$(ms "$t0" "$t1")
AFTER_LISTS=$(ms "$last_page" "$t1")
RSS_READY=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
echo
echo "== launch → $PODS/$PODS pods on screen: $LAUNCH ms; after the last list page was sent: $AFTER_LISTS ms"
echo "   requests so far: $(srv_stats)"

# --- churn: key latency, CPU, RSS -------------------------------------------------------------
curl -s -X POST "http://127.0.0.1:$PORT/_churn?rate=$CHURN" >/dev/null
sleep 3
# A key the console does not answer within KEY_TIMEOUT (10) s stops the measurement (a UI loop
# saturated by snapshots answers late or never; that is the result then).
KEY_TIMEOUT=${KEY_TIMEOUT:-10}
key_until() { # $1 = key, $2 = "shown"/"gone"; prints ms or fails
  local a s end
  a=$(now); end=$(( $(date +%s) + KEY_TIMEOUT ))
  tmux -S "$sock" send-keys -t f "$1"
  while :; do
    s=$(screen)
    if [ "$2" = shown ]; then [[ $s == *"Esc closes"* ]] && break; else [[ $s != *"Esc closes"* ]] && break; fi
    [ "$(date +%s)" -lt "$end" ] || { echo "no answer to '$1' within $KEY_TIMEOUT s under $CHURN events/s" >&2; return 1; }
  done
  ms "$a" "$(now)"
}
OPEN=(); CLOSE=()
for _ in $(seq 1 "$SAMPLES"); do
  OPEN+=("$(key_until '?' shown)") || exit 1
  sleep 0.2
  CLOSE+=("$(key_until q gone)") || exit 1
  sleep 0.2
done
hz=$(getconf CLK_TCK)
c0=$(cpu_ticks "$pid"); w0=$(now)
sleep "$CPU_SECS"
c1=$(cpu_ticks "$pid"); w1=$(now)
secs=$(awk -v a="$w0" -v b="$w1" 'BEGIN { print b - a }')
CPU=$(awk -v t=$((c1 - c0)) -v hz="$hz" -v s="$secs" 'BEGIN { printf "%.1f", t / hz / s * 100 }')
RSS_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
HWM_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
echo
echo "== under $CHURN events/s"
echo "'?' → help shown: $(stats "${OPEN[@]}")"
echo "'q' → help gone:  $(stats "${CLOSE[@]}")"
echo "CPU $CPU % of one core over ${secs%.*} s; RSS $((RSS_KB / 1024)) MB (peak $((HWM_KB / 1024)) MB; at ready $((RSS_READY / 1024)) MB)"

# --- namespace switch -------------------------------------------------------------------------
curl -s -X POST "http://127.0.0.1:$PORT/_stats/reset" >/dev/null
NS=ns-0042
a=$(now)
tmux -S "$sock" send-keys -t f : ; tmux -S "$sock" send-keys -t f -l ns ; tmux -S "$sock" send-keys -t f Enter
wait_for "$NS" 30
tmux -S "$sock" send-keys -t f / ; tmux -S "$sock" send-keys -t f -l "$NS" ; tmux -S "$sock" send-keys -t f Enter
sleep 0.3
tmux -S "$sock" send-keys -t f Enter
sleep 0.3
tmux -S "$sock" send-keys -t f : ; tmux -S "$sock" send-keys -t f -l pods ; tmux -S "$sock" send-keys -t f Enter
wait_for "namespace $NS" 30
b=$(now)
sleep 2
echo
echo "== namespace switch to $NS (:ns, filter, Enter, :pods; includes 0.6 s of pauses): $(ms "$a" "$b") ms"
echo "   requests the double received for it: $(srv_stats)"
screen | head -4

tmux -S "$sock" send-keys -t f C-c
echo
echo "== summary (load average now $(cut -d' ' -f1-3 /proc/loadavg))"
echo "launch → table ($PODS pods, $NAMESPACES namespaces): $LAUNCH ms; after the lists: $AFTER_LISTS ms   goal ≤ 1000 ms"
echo "key → frame under $CHURN ev/s: $(stats "${OPEN[@]}" "${CLOSE[@]}")   goal p95 ≤ 30 ms"
echo "RSS under churn: $((RSS_KB / 1024)) MB   goal ≤ 100 MB"
echo "console CPU under churn: $CPU %"
