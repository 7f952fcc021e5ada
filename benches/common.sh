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
