#!/usr/bin/env bash
# A fleet of 1,000 devices over SSH, the real console in tmux (issue #16 "Fleets of 1,000 devices").
#
#   bash benches/fleet_scale.sh            (FLEETDECK_BIN, default target/release/fleetdeck)
#
# 1. Real OpenSSH servers on 127.0.0.1 only: sshd listens on at most 16 sockets, so N devices are
#    ceil(N/16) sshd processes × 16 ports, one port per device (distinct names dev-0001…), all
#    logging in as the unprivileged test user of tests/support/sshd.rs with one ed25519 key,
#    strict host keys (a known_hosts line per port). MaxStartups/MaxSessions are raised so the
#    servers never refuse the fan-out; the fleet's `concurrency` is CONCURRENCY (256, the maximum).
#    FACTS=canned (the default): each sshd answers every exec with a fixed facts text
#    (`ForceCommand cat FILE`): real TCP, key exchange, auth, session and exec channel, but the
#    devices' own script work is not run here — on a real fleet it runs on 1,000 other CPUs, and
#    run here it drowned the console's 2 cores (load average 150-300, see docs/PERFORMANCE.md §16).
#    REEXEC=0: sshd runs with `-r` (no re-exec of itself per connection, the other large device-
#    side cost on this machine); REEXEC=1 (the default) is sshd as Debian ships it.
#    FACTS=shell: the facts script runs in the user's real shell (/bin/sh, the Mender client
#    installed by the tests answering `show-artifact`), what a device does, all on this machine.
#    PIN=1: the devices (every sshd or dropbear) run on CPU 1 only, this script, tmux and the
#    console on CPU 0: as when the devices are other machines, the console's core is its own
#    (the wave is then slower: the 1,000 logins share one core), so the keys measure the console
#    and tmux, not the devices' CPU.
#    SERVER=dropbear: the devices run Dropbear instead (Debian's dropbear-bin; the SSH server of
#    many embedded appliances), PER=2 ports per process (Dropbear refuses a sixth unauthenticated
#    connection from one address), logging in as a second test user whose ~/.ssh holds the key
#    (Dropbear reads no other authorized_keys), the canned facts given with `-c`.
# 2. The console (160x48): launch → `:devices` → the header says `N/N devices up` (every device
#    answered its facts script): the time to the last row with facts (goal ≤ 10 s).
#    Meanwhile '?'/'q' are sent every 0.25 s and the key → screen time of each is recorded: the
#    key latency during the first connect-and-facts wave (goal p95 ≤ 30 ms).
# 3. RSS (VmRSS, VmHWM) with N open sessions (goal ≤ 150 MB).
# 4. The console's CPU over the next refreshes: FACTS_INTERVAL s per device, over
#    CPU_SECS s, as CPU-seconds per refresh of the whole fleet; key latency during them.
#
# Environment: N (1000), CONCURRENCY (256), FACTS (canned), REEXEC (1), SERVER (openssh), PIN (0), CPU_SECS (60), FACTS_INTERVAL (60: the 1,000 simulated devices
# share this machine, and at 10 s their facts scripts alone drove a 2-core load average to 300),
# WAVE_SECS (120, give up on the first wave after it).
# Needs root (to create the test user, as the tests do), sshd (or dropbear), ssh-keygen, tmux.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-1000}
CONCURRENCY=${CONCURRENCY:-256}
FACTS=${FACTS:-canned}
REEXEC=${REEXEC:-1}
FACTS_INTERVAL=${FACTS_INTERVAL:-60}
CPU_SECS=${CPU_SECS:-60}
SERVER=${SERVER:-openssh}
PIN=${PIN:-0}
BIN=${FLEETDECK_BIN:-target/release/fleetdeck}
case "$SERVER" in
  openssh) USER_=fleetdeck-dev PER=16 DAEMON=/usr/sbin/sshd ;;
  dropbear) USER_=fleetdeck-db PER=2 DAEMON=/usr/sbin/dropbear ;;
  *) echo "SERVER is openssh or dropbear" >&2; exit 1 ;;
esac

for tool in tmux ssh-keygen "$DAEMON"; do
  command -v "$tool" >/dev/null || { echo "need $tool" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "no $BIN: cargo build --release first" >&2; exit 1; }
BIN=$(readlink -f "$BIN")
if ! id -u "$USER_" >/dev/null 2>&1; then
  useradd -m -s /bin/sh "$USER_"
fi
usermod -p '*' "$USER_" # sshd without PAM refuses a locked ("!") account
mkdir -p /run/sshd

. benches/common.sh  # after the cd above: paths are from the repo root
DEVICES_ON=()
if [ "$PIN" = 1 ]; then
  [ "$(nproc)" -ge 2 ] || { echo "PIN=1 needs 2 CPUs" >&2; exit 1; }
  taskset -p -c 0 $$ >/dev/null
  DEVICES_ON=(taskset -c 1)
fi
work=$(mktemp -d "$(shared_tmp)/fleetdeck-fleet.XXXXXX")
chmod 755 "$work"
sock="$work/tmux.sock"
SSHD_PIDS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  tmux -S "$sock" kill-server 2>/dev/null || true
  for p in "${SSHD_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  # The console's trace and the servers' log outlive the run (for a failed one).
  mkdir -p /tmp/fleet_scale.last && cp "$work/log/trace.log" "$work/sshd.log" /tmp/fleet_scale.last/ 2>/dev/null || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

rss() { awk '/^VmRSS:|^VmHWM:|^RssAnon:|^RssFile:|^VmLck:/ { printf "%s %.1f MB  ", $1, $2 / 1024 }' "/proc/$1/status"; }

# --- the devices ------------------------------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -C fleet -f "$work/id_ed25519"
ssh-keygen -q -t ed25519 -N '' -C host -f "$work/host_ed25519"
cp "$work/id_ed25519.pub" "$work/authorized_keys"
chmod 644 "$work/authorized_keys"
host_pub=$(cut -d' ' -f1-2 "$work/host_ed25519.pub")
if [ "$SERVER" = dropbear ]; then
  home=$(getent passwd "$USER_" | cut -d: -f6)
  install -d -m 700 -o "$USER_" "$home/.ssh"
  install -m 600 -o "$USER_" "$work/id_ed25519.pub" "$home/.ssh/authorized_keys"
  dropbearkey -t ed25519 -f "$work/host_dropbear" >/dev/null
  host_pub=$(dropbearkey -y -f "$work/host_dropbear" | grep '^ssh-ed25519' | cut -d' ' -f1-2)
fi
# N consecutive free ports (nothing listening on them now), below the kernel's ephemeral range:
# a device port in it can be taken as the local port of some connection before its sshd binds
# it (runs with ports at 34726… and 36927… lost 25–29 devices that way; none below 32768).
used=$(ss -Htln | awk '{ n = split($4, a, ":"); print a[n] }' | sort -un)
ephemeral=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
span=$((ephemeral - N - 10000))
[ "$span" -gt 0 ] || { echo "no room for $N ports below the ephemeral range ($ephemeral)" >&2; exit 1; }
base=$((10000 + RANDOM % span))
while printf '%s\n' "$used" | awk -v lo="$base" -v hi="$((base + N))" '$1 >= lo && $1 < hi { f = 1 } END { exit !f }'; do
  base=$((10000 + RANDOM % span))
done
{
  echo "known_hosts: $work/known_hosts"
  echo "concurrency: $CONCURRENCY"
  echo "defaults: {user: $USER_, identity_file: $work/id_ed25519, facts_interval: $FACTS_INTERVAL}"
  echo "devices:"
  for i in $(seq 0 $((N - 1))); do
    printf ' - {name: dev-%04d, host: 127.0.0.1, port: %d, tags: [scale]}\n' $((i + 1)) $((base + i))
  done
} >"$work/fleet.yaml"
for i in $(seq 0 $((N - 1))); do echo "[127.0.0.1]:$((base + i)) $host_pub"; done >"$work/known_hosts"
# What a Debian device with the Mender client answers (the keys of src/backend/fleet/facts.rs).
printf '%s\n' hostname=device os='Debian GNU/Linux 12 (bookworm)' kernel=6.1.0-18-amd64 \
  uptime=123456.78 load='0.08 0.03 0.01' 'disk=/ 42%' 'disk=/data 7%' artifact=release-1 \
  failed=0 >"$work/facts.txt"
chmod 644 "$work/facts.txt"
servers=$(((N + PER - 1) / PER))
for s in $(seq 0 $((servers - 1))); do
  ports=()
  for i in $(seq $((s * PER)) $((s * PER + PER - 1))); do
    [ "$i" -lt "$N" ] && ports+=("$((base + i))")
  done
  if [ "$SERVER" = dropbear ]; then
    listen=()
    for p in "${ports[@]}"; do listen+=(-p "127.0.0.1:$p"); done
    forced=()
    [ "$FACTS" = canned ] && forced=(-c "cat $work/facts.txt")
    "${DEVICES_ON[@]}" "$DAEMON" -F -E -s -w -j -k -r "$work/host_dropbear" -P "$work/dropbear_$s.pid" "${forced[@]}" "${listen[@]}" 2>>"$work/sshd.log" &
    SSHD_PIDS+=($!)
    continue
  fi
  cfg="$work/sshd_$s.conf"
  {
    printf 'Port %s\n' "${ports[@]}"
    cat <<CFG
ListenAddress 127.0.0.1
HostKey $work/host_ed25519
PidFile $work/sshd_$s.pid
AuthorizedKeysFile $work/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
StrictModes no
UsePAM no
PrintMotd no
PrintLastLog no
MaxStartups 1000
MaxSessions 100
LogLevel ERROR
CFG
    if [ "$FACTS" = canned ]; then echo "ForceCommand cat $work/facts.txt"; fi
  } >"$cfg"
  "${DEVICES_ON[@]}" /usr/sbin/sshd -D -e $([ "$REEXEC" = 0 ] && echo -r) -f "$cfg" 2>>"$work/sshd.log" &
  SSHD_PIDS+=($!)
done
# Every port answers with a banner before the console starts.
for i in $(seq 0 $((N - 1))); do
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$((base + i))") 2>/dev/null && break
    sleep 0.05
  done
done

echo "== machine"
echo "cpus: $(getconf _NPROCESSORS_ONLN)   $("$DAEMON" -V 2>&1 | head -1)"
echo "fleetdeck: $BIN"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"
echo "fleet: $N devices on $servers $SERVER servers × $PER ports ($base…$((base + N - 1))), concurrency $CONCURRENCY, facts every ${FACTS_INTERVAL}s ($FACTS facts, sshd re-exec $REEXEC, pinned $PIN)"

# --- the console -----------------------------------------------------------------------------
export HOME="$work/home" XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
# The trace log's own directory: fleetdeck makes a log's directory private (0700), and sshd
# reads authorized_keys in $work as the test user.
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_STATE_HOME" "$work/log"
unset SSH_AUTH_SOCK
t0=$(now)
tmux -S "$sock" -f /dev/null new-session -d -s f -x 160 -y 48 \
  "bash -c 'export TERM=xterm-256color; exec $BIN --fleet $work/fleet.yaml --log-file $work/log/trace.log'"
sleep 0.3
pid=$(tmux -S "$sock" display -p -t f '#{pane_pid}')
tmux -S "$sock" send-keys -t f ':'
tmux -S "$sock" send-keys -t f -l 'devices'
tmux -S "$sock" send-keys -t f Enter

key_once() { # one '?' → help, 'q' → gone; appends both times to LAT (a probe gives up after 5 s)
  local a s
  a=$(now); tmux -S "$sock" send-keys -t f '?'
  while :; do s=$(screen); [[ $s == *"Esc closes"* ]] && break; awk -v a="$a" -v b="$(now)" 'BEGIN { exit !(b - a > 5) }' && break; done
  LAT+=("$(ms "$a" "$(now)")")
  a=$(now); tmux -S "$sock" send-keys -t f q
  while :; do s=$(screen); [[ $s != *"Esc closes"* ]] && break; awk -v a="$a" -v b="$(now)" 'BEGIN { exit !(b - a > 5) }' && break; done
  LAT+=("$(ms "$a" "$(now)")")
}

LAT=()
done_at=""
wave_c0=$(cpu_ticks "$pid")
deadline=$(($(date +%s) + ${WAVE_SECS:-120}))
while [ -z "$done_at" ]; do
  s=$(screen)
  if [[ $s == *"$N/$N devices up"* ]]; then done_at=$(now); break; fi
  [ "$(date +%s)" -lt "$deadline" ] || { echo "timed out; screen:" >&2; echo "$s" >&2; tail -5 "$work/sshd.log" >&2; exit 1; }
  if [[ $s == *"devices up"* ]]; then key_once; fi
  sleep 0.25
done
WAVE=("${LAT[@]}")
echo
echo "== first wave: connect + key exchange + auth + facts on $N devices"
echo "launch → '$N/$N devices up': $(awk -v a="$t0" -v b="$done_at" 'BEGIN { printf "%.2f s", b - a }')   goal ≤ 10 s"
awk -v c="$(($(cpu_ticks "$pid") - wave_c0))" -v hz="$(getconf CLK_TCK)" -v a="$t0" -v b="$done_at" 'BEGIN {
  printf "console CPU during the wave: %.2f CPU-s over %.2f s (the rest of the machine: sshd, tmux, the probes)\n", c / hz, b - a }'
if [ ${#WAVE[@]} -gt 0 ]; then echo "key → screen during the wave: $(stats "${WAVE[@]}")   goal p95 ≤ 30 ms"; fi
sleep 2
echo "RSS with $N open sessions: $(rss "$pid")  goal ≤ 150 MB"
echo "threads: $(awk '/^Threads:/ { print $2 }' "/proc/$pid/status"), open fds: $(ls "/proc/$pid/fd" | wc -l)"

echo
echo "== refreshes: every device re-runs its facts every ${FACTS_INTERVAL}s over its open session"
LAT=()
c0=$(cpu_ticks "$pid"); a=$(now)
end=$(($(date +%s) + CPU_SECS))
while [ "$(date +%s)" -lt "$end" ]; do key_once; sleep 0.25; done
c1=$(cpu_ticks "$pid"); b=$(now)
hz=$(getconf CLK_TCK)
awk -v c="$((c1 - c0))" -v hz="$hz" -v a="$a" -v b="$b" -v iv="$FACTS_INTERVAL" -v n="$N" 'BEGIN {
  s = c / hz; t = b - a
  printf "console CPU over %.1f s: %.2f CPU-s = %.1f %% of one core; per refresh of %d devices: %.2f CPU-s (%.2f ms per device)\n", t, s, 100 * s / t, n, s * iv / t, 1000 * s * iv / t / n }'
echo "key → screen during refreshes (includes the '?'/'q' probes' own cost): $(stats "${LAT[@]}")   goal p95 ≤ 30 ms"
echo "RSS after the refreshes: $(rss "$pid")"
screen | sed -n '1,4p'
