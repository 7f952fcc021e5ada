#!/usr/bin/env bash
# Runs every fleetdeck test on a fresh Debian machine with Rust: installs what the tests need
# when it is missing (tmux, busybox-static for the test image, openssh-server and dropbear-bin,
# docker.io, and for the simulated devices Debian's mender-client 3.4 and mender-artifact,
# python3, procps), makes
# sure a Docker Engine answers, then runs the gates (rustfmt, clippy with warnings as errors,
# cargo deny for licences/bans/sources) and `cargo test`. Extra arguments go to `cargo test`
# (and skip the gates: `bash tests/run.sh --test engines update_ssh::` is for a quick re-run).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v tmux >/dev/null || need+=(tmux)
[ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || need+=(busybox-static)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
[ -x /usr/sbin/dropbear ] || need+=(dropbear-bin)
command -v ssh-agent >/dev/null || need+=(openssh-client)
command -v docker >/dev/null || need+=(docker.io)
command -v file >/dev/null || need+=(file)
# Simulated devices (tests/support/device.rs): the real Mender 3 client, artifacts, the Mender
# 4/5 simulator (/usr/bin/python3 on purpose, see its shebang), ps/pgrep on the device.
[ -x /usr/bin/mender ] || need+=(mender-client)
command -v mender-artifact >/dev/null || need+=(mender-artifact)
[ -x /usr/bin/python3 ] || need+=(python3)
command -v pgrep >/dev/null || need+=(procps)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "tests/run.sh: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "tests/run.sh: missing ${need[*]} (run as root to install them); dependent tests will skip" >&2
  fi
fi

# A Docker Engine: use the running one, else start dockerd ourselves (no systemd here).
if command -v docker >/dev/null && ! docker info >/dev/null 2>&1 && command -v dockerd >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "tests/run.sh: starting dockerd"
  mkdir -p /var/lib/fleetdeck-dockerd
  nohup dockerd --pidfile /var/run/fleetdeck-dockerd.pid >/var/lib/fleetdeck-dockerd/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
fi

# The simulated devices log in as an unprivileged user who must read the fixtures' files
# (authorized_keys, scripts) under the temporary directory: where /tmp is closed to others
# (mode 0700 on some machines), put the fixtures in /var/tmp.
if [ -z "${TMPDIR:-}" ] && [ $(( 8#$(stat -c %a /tmp) & 1 )) = 0 ] && [ -d /var/tmp ]; then
  echo "tests/run.sh: /tmp is mode $(stat -c %a /tmp), closed to the devices' test user: TMPDIR=/var/tmp"
  export TMPDIR=/var/tmp
fi

if [ $# -eq 0 ]; then
  echo "tests/run.sh: gates: cargo fmt --check, cargo clippy -D warnings, cargo doc -D warnings, cargo deny"
  cargo fmt --check
  cargo clippy --all-targets --locked -- -D warnings
  RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked --quiet
  if command -v cargo-deny >/dev/null; then
    # Advisories need the database from GitHub, which the build machines cannot reach.
    cargo deny --locked check licenses bans sources
  elif [ "${FLEETDECK_REQUIRE_ENV:-}" = 1 ]; then
    echo "tests/run.sh: cargo-deny missing (cargo install --locked cargo-deny)" >&2
    exit 1
  else
    echo "SKIPPED: cargo deny (cargo install --locked cargo-deny)" >&2
  fi
fi

exec cargo test --locked "$@"
