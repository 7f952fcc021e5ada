#!/usr/bin/env bash
# The console over a thin link: bytes per second reaching the terminal while a log view follows
# a container printing ~10,000 lines/s, and key → screen latency, through a real `ssh -tt`
# session to a loopback sshd behind a link of RATE bytes/s with DELAY_MS one-way delay.
#
#   bash benches/thin_link.sh            (as root: it starts its own sshd)
#
# The link: benches/thin_link_relay.py between the ssh client and sshd, because this kernel has
# no netem (CONFIG_NET_SCH_NETEM is not set; ../shared/TESTENV.md). It delays each chunk by
# DELAY_MS and serialises at RATE bytes/s in each direction, like `tc netem delay` + a rate.
# Default: 256 kbit/s (32,000 B/s), 50 ms each way = 100 ms round trip.
#
# For each terminal size (SIZES) and each budget (BUDGETS: `default` = the console's own default
# in an SSH session, 16 KiB/s; `0` = no budget, frames at max_fps only):
# 1. tmux runs `ssh -tt` to the unprivileged test user; sshd's SetEnv points the session's
#    fleetdeck at the Docker socket (through the relay's unix mode) and at its own config.
# 2. The console filters to the flood container and follows its logs (`l`).
# 3. `tmux pipe-pane` records every byte the ssh client puts on the terminal: bytes/s over
#    MEASURE_SECS.
# 4. SAMPLES times `?` → until the help shows, `q` → until it is gone (tmux capture-pane polling).
# Everything listens on 127.0.0.1 only; the container has no network.
#
# Environment: SIZES ("80x24 160x48"), BUDGETS ("default 0"), SAMPLES (10), MEASURE_SECS (10),
# RATE (32000), DELAY_MS (50), BURST (1000 lines per 100 ms), FLEETDECK_BIN (target/release/fleetdeck).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"80x24 160x48"}
BUDGETS=${BUDGETS:-"default 0"}
SAMPLES=${SAMPLES:-10}
MEASURE_SECS=${MEASURE_SECS:-10}
RATE=${RATE:-32000}
DELAY_MS=${DELAY_MS:-50}
BURST=${BURST:-1000}
BIN=${FLEETDECK_BIN:-target/release/fleetdeck}
USER_NAME=fleetdeck-dev
IMAGE=fleetdeck-test/busybox:local
RUN="$$-$(date +%s)"
NAME="thin-$$"  # short: the NAME column at 80 columns shows 15 characters

[ "$(id -u)" = 0 ] || { echo "run as root (it starts its own sshd)" >&2; exit 1; }
for tool in docker tmux python3 /usr/sbin/sshd ssh ssh-keygen; do
  command -v "$tool" >/dev/null || { echo "need $tool" >&2; exit 1; }
done
docker info >/dev/null 2>&1 || { echo "no Docker Engine answers" >&2; exit 1; }
docker image inspect "$IMAGE" >/dev/null 2>&1 || { echo "need $IMAGE: run benches/log_flood_latency.sh or the tests once" >&2; exit 1; }
[ -x "$BIN" ] || { echo "building $BIN"; cargo build --release; }
BIN=$(readlink -f "$BIN")
id "$USER_NAME" >/dev/null 2>&1 || { useradd -m -s /bin/sh "$USER_NAME"; usermod -p '*' "$USER_NAME"; }

. benches/common.sh
work=$(mktemp -d "$(shared_tmp)/fleetdeck-thin.XXXXXX")
chmod 755 "$work"
sock="$work/tmux.sock"
pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  tmux -S "$sock" kill-server 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  docker rm -f "$NAME" >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
stats() {
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
    END { p = int(NR * 0.95); if (p < NR * 0.95) p++; printf "median %.0f ms, p95 %.0f ms, max %.0f ms", v[int((NR + 1) / 2)], v[p], v[NR] }'
}
# The pane is `t` here: common.sh's wait_for and key_latency read it through this.
screen() { tmux -S "$sock" capture-pane -p -t t; }

# --- sshd on loopback, its own keys; the console's binary and config readable by the user ----
ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/client_key"
cp "$BIN" "$work/fleetdeck"
cp "$work/client_key.pub" "$work/authorized_keys"
docker_port=$(free_port); sshd_port=$(free_port); link_port=$(free_port)
python3 benches/thin_link_relay.py "$docker_port" /var/run/docker.sock & pids+=($!)
python3 benches/thin_link_relay.py "$link_port" "$sshd_port" "$DELAY_MS" "$RATE" & pids+=($!)
home="$work/home"; mkdir -p "$home/config/fleetdeck" "$home/state"; chown -R "$USER_NAME" "$home"
cat >"$work/sshd_config" <<EOF
Port $sshd_port
ListenAddress 127.0.0.1
HostKey $work/host_key
AuthorizedKeysFile $work/authorized_keys
PidFile $work/sshd.pid
UsePAM no
StrictModes no
PasswordAuthentication no
AllowUsers $USER_NAME
SetEnv DOCKER_HOST=tcp://127.0.0.1:$docker_port XDG_CONFIG_HOME=$home/config XDG_STATE_HOME=$home/state
EOF
/usr/sbin/sshd -D -e -f "$work/sshd_config" 2>"$work/sshd.log" & pids+=($!)
echo "[127.0.0.1]:$link_port $(cut -d' ' -f1-2 "$work/host_key.pub")" >"$work/known_hosts"
for port in "$sshd_port" "$link_port" "$docker_port"; do
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
done

# --- the flood: BURST new numbered lines every 100 ms (~10 × BURST lines/s), each as long as a
# web server's access log line (~90 characters), so every followed frame repaints real text.
docker run -d --name "$NAME" --network none --log-driver json-file --log-opt max-size=20m --log-opt max-file=2 \
  "$IMAGE" sh -c "i=0; while :; do seq \$i \$((i + $BURST - 1)) | sed 's|.*|& INFO GET /api/v1/items?page=& 200 5123 1.2ms ua=curl/8.5.0 trace=4bf92f3577b34da6|'; i=\$((i + $BURST)); usleep 100000; done" >/dev/null

echo "== thin link: $((RATE * 8 / 1000)) kbit/s, ${DELAY_MS} ms each way (round trip $((2 * DELAY_MS)) ms); flood ~$((BURST * 10)) lines/s"
echo "cpus: $(nproc); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %-8s %10s %28s %28s\n' size budget "KiB/s" "'?' -> help" "'q' -> gone"

for size in $SIZES; do
  for budget in $BUDGETS; do
    cfg="$home/config/fleetdeck/config.yaml"
    if [ "$budget" = default ]; then : >"$cfg"; else echo "max_bytes_per_sec: $budget" >"$cfg"; fi
    chown "$USER_NAME" "$cfg"
    cols=${size%x*}; rows=${size#*x}
    tmux -S "$sock" -f /dev/null new-session -d -s t -x "$cols" -y "$rows" \
      "ssh -tt -p $link_port -i $work/client_key -o UserKnownHostsFile=$work/known_hosts -o StrictHostKeyChecking=yes \
       -o BatchMode=yes $USER_NAME@127.0.0.1 'TERM=xterm-256color exec $work/fleetdeck --log-file $home/state/trace.log'"
    wait_for "$NAME" 60
    tmux -S "$sock" send-keys -t t /
    tmux -S "$sock" send-keys -t t -l "$NAME"
    tmux -S "$sock" send-keys -t t Enter
    wait_for "/$NAME" 20
    tmux -S "$sock" send-keys -t t l
    wait_for "follow" 20
    sleep 3
    tmux -S "$sock" pipe-pane -o -t t "cat > $work/bytes"
    sleep "$MEASURE_SECS"
    tmux -S "$sock" pipe-pane -t t
    kib=$(awk -v b="$(stat -c %s "$work/bytes")" -v s="$MEASURE_SECS" 'BEGIN { printf "%.1f", b / s / 1024 }')
    KEY_LAT=(); OPEN=(); CLOSE=()
    KEY_PANE=t KEY_PAUSE=0.5 key_latency "$SAMPLES"
    for i in "${!KEY_LAT[@]}"; do
      if (( i % 2 == 0 )); then OPEN+=("${KEY_LAT[$i]}"); else CLOSE+=("${KEY_LAT[$i]}"); fi
    done
    printf '%-8s %-8s %10s %28s %28s\n' "$size" "$budget" "$kib" "$(stats "${OPEN[@]}")" "$(stats "${CLOSE[@]}")"
    tmux -S "$sock" kill-server 2>/dev/null || true
    sleep 1
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
