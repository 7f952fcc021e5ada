# Helpers the tmux-driven benches share; sourced, not run. `screen` reads the caller's $sock.

now() { echo "$EPOCHREALTIME"; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
stats() { # median / p95 (nearest rank) / max of the arguments
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
    END { p = int(NR * 0.95); if (p < NR * 0.95) p++; printf "median %.1f ms, p95 %.1f ms, max %.1f ms (n=%d)", v[int((NR + 1) / 2)], v[p], v[NR], NR }'
}
screen() { tmux -S "$sock" capture-pane -p -t f; }
# A temporary directory's parent that the devices' unprivileged test user can traverse: /tmp,
# or /var/tmp where /tmp is closed to others (mode 0700 on some machines).
shared_tmp() { if [ $(( 8#$(stat -c %a /tmp) & 1 )) = 1 ]; then echo /tmp; else echo /var/tmp; fi; }
wait_for() { # $1 = text on the screen, $2 = timeout s
  local end=$(($(date +%s) + $2)) s
  while :; do
    s=$(screen)
    [[ $s == *"$1"* ]] && return 0
    [ "$(date +%s)" -lt "$end" ] || { echo "timed out waiting for '$1'; screen:" >&2; echo "$s" >&2; exit 1; }
    sleep 0.05
  done
}
# Lines a log view received in all, from its breadcrumb ("100000 of 2481516 lines", "1200 lines").
received() { screen | awk 'match($0, /[0-9]+ lines/) { print substr($0, RSTART, RLENGTH - 6); exit }'; }
# `?` → help shown, `q` → help gone, $1 times; the times (ms) are appended to KEY_LAT, shown
# and gone in turn. KEY_PANE (f) is the pane the keys go to (`screen` must read the same one),
# KEY_PAUSE (0.2 s) the pause after each.
key_latency() {
  local a s pane=${KEY_PANE:-f} pause=${KEY_PAUSE:-0.2}
  for _ in $(seq 1 "$1"); do
    a=$(now); tmux -S "$sock" send-keys -t "$pane" '?'
    while :; do s=$(screen); [[ $s == *"Esc closes"* ]] && break; done
    KEY_LAT+=("$(ms "$a" "$(now)")"); sleep "$pause"
    a=$(now); tmux -S "$sock" send-keys -t "$pane" q
    while :; do s=$(screen); [[ $s != *"Esc closes"* ]] && break; done
    KEY_LAT+=("$(ms "$a" "$(now)")"); sleep "$pause"
  done
}
# A scratch directory $work with the tmux socket $sock, removed on exit (also on Ctrl-C), when
# the tmux server and the API double (`srv_pid`, set by `kube_double`) are stopped too.
# $1 names the directory (/tmp/fleetdeck-$1.XXXXXX).
kube_scratch() {
  work=$(mktemp -d "/tmp/fleetdeck-$1.XXXXXX")
  sock="$work/tmux.sock"
  srv_pid=""
  trap kube_scratch_cleanup EXIT
  trap 'exit 130' INT TERM HUP
}
kube_scratch_cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  tmux -S "$sock" kill-server 2>/dev/null || true
  [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null || true
  rm -rf "$work"
  exit "$rc"
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# benches/kube_scale_server.py on 127.0.0.1:$1 (the rest are its arguments; FLOOD_* from the
# environment), waited for, and $work/kubeconfig pointing at it (context `scale`, default
# namespace $KUBE_NAMESPACE or `default`). Sets srv_pid for the caller's cleanup.
kube_double() {
  local port=$1
  shift
  python3 benches/kube_scale_server.py "$port" "$@" >"$work/server.log" 2>&1 &
  srv_pid=$!
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$port/version" >/dev/null 2>&1 && break
    sleep 0.1
  done
  cat >"$work/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters: [{name: scale, cluster: {server: "http://127.0.0.1:$port"}}]
users: [{name: scale, user: {token: bench}}]
contexts: [{name: scale, context: {cluster: scale, user: scale, namespace: ${KUBE_NAMESPACE:-default}}}]
current-context: scale
KUBECONFIG
}
# One key's time (ms) until the pane's contents change (`capture-pane -e`, so a moved
# highlight counts; gives up after 3 s): $1 = the tmux target, $2 = the key.
pane_change_ms() {
  local before a
  before=$(tmux -S "$sock" capture-pane -ep -t "$1"); a=$(now)
  tmux -S "$sock" send-keys -t "$1" "$2"
  while [ "$(tmux -S "$sock" capture-pane -ep -t "$1")" = "$before" ]; do
    awk -v a="$a" -v b="$(now)" 'BEGIN { exit !(b - a > 3) }' && break
  done
  ms "$a" "$(now)"
}
# The peers table: for each MEASURE:UNIT argument, each tool of TOOLS (fleetdeck first) with
# min / median / max of R[tool.measure] and the median's ratio to fleetdeck's.
ratio_table() {
  local spec m unit base t v
  printf '%-11s %-9s %28s %9s\n' tool measure "min / median / max" "× fleetdeck"
  for spec in "$@"; do
    m=${spec%%:*} unit=${spec#*:}
    base=$(median ${R[fleetdeck.$m]:-0})
    for t in "${TOOLS[@]}"; do
      v=${R[$t.$m]:-}
      [ -n "$v" ] || { printf '%-11s %-9s %28s\n' "$t" "$m" "no result"; continue; }
      printf '%s\n' $v | sort -g | awk -v t="$t" -v m="$m" -v u="$unit" -v base="$base" '{ v[NR] = $1 }
        END { med = v[int((NR + 1) / 2)]; r = (base > 0) ? sprintf("%.2f", med / base) : "-";
              printf "%-11s %-9s %10s / %s / %s %s %9s\n", t, m, v[1], med, v[NR], u, r }'
    done
  done
}
