#!/usr/bin/env bash
# fleetdeck beside kdash on the same Kubernetes API double, in the same tmux (160x48):
#
#   bash benches/kube_peers.sh            (FLEETDECK_BIN; KDASH, default `kdash` on PATH or
#                                          /work/peers/bin/kdash: `cargo install --locked kdash`)
#
# benches/kube_scale_server.py with PODS pods across NAMESPACES namespaces. Each of ROUNDS rounds
# runs every tool once, in turn (alternating):
#   launch  start → a pod name (`appN-NNNNNN`) on screen (capture-pane polled, 20 ms); fleetdeck
#           opens its pods view of all namespaces (`--view pods`, `namespace: "*"`), kdash its
#           overview (all namespaces by default)
#   key     Down → the pane's contents change (capture-pane -e), KEYS samples, Up between them;
#           no churn meanwhile, so only the key changes the screen
#   cpu     CPU over CPU_SECS s with CHURN watch events/s running (% of one core)
#   rss     VmRSS at the end of that
# Printed: min / median / max per tool and measure, and the median's ratio to fleetdeck's.
# The script builds nothing; without kdash it measures fleetdeck alone.
#
# Environment: PODS (20000), NAMESPACES (2000), ROUNDS (3), KEYS (10), CHURN (200),
# CPU_SECS (10), PORT (18773), FLEETDECK_BIN, KDASH.
set -euo pipefail
cd "$(dirname "$0")/.."

PODS=${PODS:-20000}
NAMESPACES=${NAMESPACES:-2000}
ROUNDS=${ROUNDS:-3}
KEYS=${KEYS:-10}
CHURN=${CHURN:-200}
CPU_SECS=${CPU_SECS:-10}
PORT=${PORT:-18773}
BIN=${FLEETDECK_BIN:-target/release/fleetdeck}
[ -x "$BIN" ] || { echo "no $BIN: cargo build --release first" >&2; exit 1; }
BIN=$(readlink -f "$BIN")
KDASH=${KDASH:-$(command -v kdash || echo /work/peers/bin/kdash)}

. benches/common.sh
kube_scratch kpeers
churn() { curl -s -X POST "http://127.0.0.1:$PORT/_churn?rate=$1" >/dev/null; }

kube_double "$PORT" "$PODS" "$NAMESPACES"
mkdir -p "$work/config/fleetdeck"
printf 'docker: false\nkube:\n  - context: scale\n    namespace: "*"\n' >"$work/config/fleetdeck/config.yaml"

TOOLS=(fleetdeck)
declare -A CMD=([fleetdeck]="$BIN --view pods --log-file $work/fleetdeck.log")
if [ -x "$KDASH" ]; then TOOLS+=(kdash); CMD[kdash]=$KDASH; else echo "skip kdash: no $KDASH"; fi
echo "== machine: $(nproc) cpus, load average $(cut -d' ' -f1-3 /proc/loadavg); $PODS pods, $NAMESPACES namespaces"
for t in "${TOOLS[@]}"; do echo "$t: ${CMD[$t]}"; done

declare -A R
one_run() {
  local t=$1 a s pid c0 c1 lat=() end
  rm -rf "$work/state"
  a=$(now)
  tmux -S "$sock" -f /dev/null new-session -d -s f -x 160 -y 48 \
    "env TERM=xterm-256color KUBECONFIG=$work/kubeconfig XDG_CONFIG_HOME=$work/config XDG_STATE_HOME=$work/state ${CMD[$t]}"
  end=$(($(date +%s) + 120))
  while :; do
    s=$(screen 2>/dev/null || true)
    grep -qE 'app[0-9]+-[0-9]{6}' <<<"$s" && break
    [ "$(date +%s)" -lt "$end" ] || { echo "$t: no pod on screen in 120 s" >&2; echo "$s" >&2; tmux -S "$sock" kill-server; return; }
    sleep 0.02
  done
  R[$t.launch]+=" $(ms "$a" "$(now)")"
  pid=$(tmux -S "$sock" display -p -t f '#{pane_pid}')
  sleep 3
  for _ in $(seq 1 "$KEYS"); do
    lat+=("$(pane_change_ms f Down)")
    sleep 0.3; tmux -S "$sock" send-keys -t f Up; sleep 0.3
  done
  R[$t.key]+=" $(median "${lat[@]}")"
  churn "$CHURN"; sleep 2
  c0=$(cpu_ticks "$pid"); a=$(now); sleep "$CPU_SECS"; c1=$(cpu_ticks "$pid")
  R[$t.cpu]+=" $(awk -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v a="$a" -v b="$(now)" 'BEGIN { printf "%.1f", 100 * c / hz / (b - a) }')"
  R[$t.rss]+=" $(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")"
  churn 0
  tmux -S "$sock" kill-server 2>/dev/null || true
  sleep 2
}

for r in $(seq 1 "$ROUNDS"); do
  for t in "${TOOLS[@]}"; do one_run "$t"; done
  echo "round $r done"
done

echo
ratio_table launch:ms key:ms cpu:% rss:MB
