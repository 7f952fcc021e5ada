#!/usr/bin/env bash
# Build every fuzz target and run each for a bounded time, one after the other; print the
# executions, corpus size and findings per target. Not part of CI (.ci/run): fuzzing is
# open-ended, and CI has a fixed budget.
#
#   bash fuzz/run.sh                         # every target, 60 s each
#   FUZZ_SECONDS=300 bash fuzz/run.sh ssh_config known_hosts
#   FUZZ_SANITIZER=address bash fuzz/run.sh  # with ASan (slower; see docs/RELIABILITY.md)
#
# Corpora grow in fuzz/corpus/<target> and are kept between runs (seeded from fuzz/seeds and the
# real samples under tests/fixtures, assets/, themes/, keymaps/). A crashing input lands in
# fuzz/artifacts/<target>/; reproduce it with
# `cargo fuzz run -O --sanitizer none <target> <file>`, then turn it into a unit test next to
# the parser.
#
# Environment: FUZZ_SECONDS (per target, default 60), FUZZ_SANITIZER (none|address, default
# none), FUZZ_RSS_MB (default 2048), FUZZ_TIMEOUT (seconds for one input, default 10).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"

secs="${FUZZ_SECONDS:-60}"
sanitizer="${FUZZ_SANITIZER:-none}"
rss="${FUZZ_RSS_MB:-2048}"
timeout="${FUZZ_TIMEOUT:-10}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz from crates.io" >&2
    cargo install cargo-fuzz --locked || exit 1
fi
# A sanitizer is a nightly-only flag (-Zsanitizer=...); the stable toolchain accepts it when
# told it is bootstrapping. Without one, cargo-fuzz needs nothing unstable, and leaving the
# variable unset keeps the instrumented build (~20 min here) from being redone.
if [ "$sanitizer" != none ]; then
    export RUSTC_BOOTSTRAP=1
fi

# Its own target dir even when CARGO_TARGET_DIR is set: instrumented builds must not overwrite
# (nor be overwritten by) the normal ones.
build_flags=(-O --sanitizer "$sanitizer" --target-dir "$here/target")

# Real samples each target starts from, besides fuzz/seeds/<target>.
samples() {
    case "$1" in
        log_lines | update_progress) echo tests/fixtures/mender/deployment_log.txt ;;
        config_yaml) echo assets/config.example.yaml tests/fixtures/config/malformed.yaml tests/fixtures/config/wrong_type.yaml ;;
        fleet_yaml) echo assets/fleet.example.yaml ;;
        keymap_yaml) echo keymaps/*.yaml tests/fixtures/config/keymaps/*.yaml ;;
        theme_yaml) echo themes/*.yaml tests/fixtures/config/themes/*.yaml ;;
    esac
}

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

echo "building ${#targets[@]} targets (sanitizer: $sanitizer)" >&2
if ! cargo fuzz build "${build_flags[@]}" >"$here/build.log" 2>&1; then
    tail -40 "$here/build.log" >&2
    echo "build failed: see fuzz/build.log" >&2
    exit 1
fi

bin_dir="$here/target/$(rustc -vV | sed -n 's/^host: //p')/release"
mkdir -p "$here/logs"
failed=0
rows=()
for t in "${targets[@]}"; do
    corpus="$here/corpus/$t"
    artifacts="$here/artifacts/$t"
    mkdir -p "$corpus" "$artifacts"
    # Seeds go into the corpus itself so that it stands alone (cmin, coverage).
    if [ -d "$here/seeds/$t" ]; then
        cp -n "$here/seeds/$t"/* "$corpus"/ 2>/dev/null
    fi
    for f in $(samples "$t"); do
        [ -f "$f" ] && cp -n "$f" "$corpus/sample-$(echo "$f" | tr '/' '_')"
    done
    before=$(find "$artifacts" -type f | wc -l)
    log="$here/logs/$t.log"
    echo "== $t: ${secs}s" >&2
    start=$(date +%s)
    # The binary itself rather than `cargo fuzz run`, which would rebuild first: a source
    # edited while this loop runs must not cost a 6-minute instrumented build between targets.
    "$bin_dir/$t" "$corpus" \
        -max_total_time="$secs" -rss_limit_mb="$rss" -timeout="$timeout" \
        -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1
    rc=$?
    took=$(($(date +%s) - start))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    if [ -z "$execs" ]; then
        # A crash ends the run before the final stats; the last status line still counts.
        execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    fi
    # libFuzzer's own count: the inputs it keeps after replacing the ones a smaller input made
    # redundant (the directory also holds the replaced ones until `cargo fuzz cmin`).
    size=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -1 | cut -d' ' -f2)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    after=$(find "$artifacts" -type f | wc -l)
    new=$((after - before))
    if [ "$rc" -ne 0 ] || [ "$new" -gt 0 ]; then
        failed=1
        grep -m3 -E 'panicked at|ERROR: libFuzzer|SUMMARY' "$log" | sed "s/^/   $t: /" >&2
    fi
    rows+=("$(printf '%-18s %12s %6ss %14s %6s %9s' "$t" "${execs:-?}" "$took" "${size:-?}" "${cov:-?}" "$new")")
done

# The known_hosts target's scratch files (recreated on every execution, so removing them
# under a run elsewhere does no harm).
rm -f /dev/shm/fleetdeck-fuzz-* "${TMPDIR:-/tmp}"/fleetdeck-fuzz-*

printf '\n%-18s %12s %7s %14s %6s %9s\n' target executions time "corpus/bytes" cov findings
printf '%s\n' "${rows[@]}"
echo "logs: fuzz/logs/<target>.log; findings: fuzz/artifacts/<target>/"
exit "$failed"
