#!/usr/bin/env bash
# Runs every fuzz target (or those named in FUZZ_TARGETS) for FUZZ_SECONDS each and prints a
# Markdown table of the results (target, seconds, executions, corpus, crashes), also written to
# $FUZZ_RESULTS. Used by `make fuzz`; see fuzz/README.md.
#
# cargo-fuzz needs nightly-only rustc flags (-Z sanitizer, -Z ...); on the stable toolchain this
# project uses, RUSTC_BOOTSTRAP=1 lets rustc accept them. cargo-fuzz itself is installed from
# crates.io into $TOOLS_ROOT when missing.
set -uo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
TOOLS_ROOT="${TOOLS_ROOT:-$PWD/target/tools}"
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$PWD/target/fuzz}"
FUZZ_RESULTS="${FUZZ_RESULTS:-$CARGO_TARGET_DIR/fuzz-results.md}"
SANITIZER="${FUZZ_SANITIZER:-address}"
export PATH="$TOOLS_ROOT/bin:$PATH"
export RUSTC_BOOTSTRAP=1

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "== installing cargo-fuzz into $TOOLS_ROOT"
    cargo install cargo-fuzz --locked --root "$TOOLS_ROOT" || exit 1
fi

targets="${FUZZ_TARGETS:-$(cargo fuzz list)}"
echo "== building fuzz targets (sanitizer: $SANITIZER)"
cargo fuzz build --sanitizer "$SANITIZER" || exit 1
[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0

mkdir -p "$(dirname "$FUZZ_RESULTS")"
logs="$CARGO_TARGET_DIR/fuzz-logs"
mkdir -p "$logs"
{
    echo "| target | seconds | executions | execs/s | corpus (inputs) | peak RSS (MB) | outcome |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
} > "$FUZZ_RESULTS"
failed=0
for t in $targets; do
    echo "== fuzzing $t for $FUZZ_SECONDS s"
    log="$logs/$t.log"
    dict=()
    [ -f "fuzz/dicts/$t.dict" ] && dict=("-dict=fuzz/dicts/$t.dict")
    start=$(date +%s)
    cargo fuzz run --sanitizer "$SANITIZER" "$t" "fuzz/corpus/$t" -- \
        -max_total_time="$FUZZ_SECONDS" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
        "${dict[@]}" > "$log" 2>&1
    rc=$?
    # libFuzzer's own count of the time it fuzzed ("Done N runs in S second(s)"); the wall clock
    # around it also counts the build check and loading the corpus.
    secs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | grep -o 'in [0-9]*' | grep -o '[0-9]*' | tail -1)
    [ -n "$secs" ] || secs="$(( $(date +%s) - start )) (wall)"
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    rss=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
    if [ $rc -eq 0 ]; then
        outcome="no crash"
    else
        failed=1
        outcome="CRASH (exit $rc): $(grep -m1 -E 'panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer|SUMMARY' "$log" | tr '|' '/' | cut -c1-120); see $log and fuzz/artifacts/$t/"
    fi
    echo "| $t | $secs | ${execs:-?} | ${rate:-?} | $corpus | ${rss:-?} | $outcome |" | tee -a "$FUZZ_RESULTS"
done
echo
cat "$FUZZ_RESULTS"
exit $failed
