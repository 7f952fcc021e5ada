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
# `?` → help shown, `q` → help gone, $1 times; the times (ms) are appended to KEY_LAT.
key_latency() {
  local a s
  for _ in $(seq 1 "$1"); do
    a=$(now); tmux -S "$sock" send-keys -t f '?'
    while :; do s=$(screen); [[ $s == *"Esc closes"* ]] && break; done
    KEY_LAT+=("$(ms "$a" "$(now)")"); sleep 0.2
    a=$(now); tmux -S "$sock" send-keys -t f q
    while :; do s=$(screen); [[ $s != *"Esc closes"* ]] && break; done
    KEY_LAT+=("$(ms "$a" "$(now)")"); sleep 0.2
  done
}
