#!/usr/bin/env bash
# The one file to copy to an appliance: build it (unless a binary is given), check it is static,
# and run it inside a busybox image that has nothing else: `--version`, `ls containers` against
# the mounted Docker socket, and the TUI in tmux (80x24, LANG unset: the ASCII mode).
#
#   bash tests/dist_smoke.sh [BINARY]
#
# Not part of `bash tests/run.sh`: the dist build (fat LTO, one codegen unit) takes 15-50 min on
# two cores, more than CI's budget. Run it before a release.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=x86_64-unknown-linux-gnu
BIN=${1:-}
if [ -z "$BIN" ]; then
  # The README's command.
  RUSTFLAGS="-C target-feature=+crt-static -C relocation-model=static -C link-arg=-Wl,-T,assets/dist/no-unwind-tables.ld" \
    cargo build --profile dist --target "$TARGET"
  BIN="${CARGO_TARGET_DIR:-target}/$TARGET/dist/fleetdeck"
fi
BIN=$(readlink -f "$BIN")
IMAGE=fleetdeck-test/busybox:local
docker image inspect "$IMAGE" >/dev/null 2>&1 || { echo "need $IMAGE (run the tests once)" >&2; exit 1; }

fail() { echo "FAIL: $*" >&2; exit 1; }
echo "binary: $BIN, $(stat -c %s "$BIN") bytes"
file -L "$BIN" | grep -q 'static' || fail "not statically linked: $(file -L "$BIN")"
# ldd exits 1 on a non-PIE static file ("not a dynamic executable"), 0 on a static-pie one.
libs=$(ldd "$BIN" 2>&1 || true)
grep -q 'not a dynamic executable\|statically linked' <<<"$libs" || fail "ldd lists libraries: $libs"

run() { docker run --rm --network none -v "$BIN:/fleetdeck:ro" -v /var/run/docker.sock:/var/run/docker.sock "$@"; }
run "$IMAGE" /fleetdeck --version | grep -q '^fleetdeck ' || fail "--version"
name="smoke-$$"
docker run -d --name "$name" --network none "$IMAGE" sleep 300 >/dev/null
trap 'docker rm -f "$name" >/dev/null 2>&1 || true; tmux -S /tmp/fd-smoke-$$.sock kill-server 2>/dev/null || true' EXIT
run "$IMAGE" /fleetdeck ls containers | grep -q "$name" || fail "ls containers does not list $name"
# /etc/hosts names resolve in the static binary (glibc's built-in files lookup, no NSS modules).
out=$(run "$IMAGE" /fleetdeck --docker-host tcp://localhost:1 ls containers 2>&1 || true)
[[ $out == *"Connection refused"* ]] || fail "localhost did not resolve: $out"

sock=/tmp/fd-smoke-$$.sock
tmux -S "$sock" -f /dev/null new-session -d -s s -x 80 -y 24 \
  "docker run --rm -it --network none -e TERM=vt100 -v $BIN:/fleetdeck:ro -v /var/run/docker.sock:/var/run/docker.sock $IMAGE /fleetdeck"
for _ in $(seq 1 100); do
  screen=$(tmux -S "$sock" capture-pane -p -t s)
  [[ $screen == *"$name"* ]] && break
  sleep 0.2
done
[[ $screen == *"$name"* ]] || fail "the TUI did not show $name: $screen"
printf '%s' "$screen" | LC_ALL=C grep -q '[^[:print:][:space:]]' && fail "non-ASCII on a C-locale screen"
tmux -S "$sock" send-keys -t s q
echo "OK: static, runs in busybox: --version, ls containers, the TUI (ASCII at 80x24)"
