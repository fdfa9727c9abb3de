#!/usr/bin/env bash
# Whole-run encode benchmark: file to file with the default schema, on synthetic data.
# Usage: bash benches/encode_run.sh [PEOPLE]   (default 1,000,000 people)
# Prints rows, seconds, rows per second and peak memory; see docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PEOPLE="${1:-1000000}"
DIR="${BENCH_DIR:-target/bench-data}"
cargo build --release --locked -q -p pseudolink-cli
PL=target/release/pseudolink
mkdir -p "$DIR"
if [ ! -f "$DIR/p$PEOPLE/agency_a.csv" ]; then
  "$PL" synth --people "$PEOPLE" --seed 11 --out "$DIR/p$PEOPLE" >/dev/null
fi
[ -f "$DIR/bench.secret.hex" ] || "$PL" keygen --output "$DIR/bench.secret.hex" >/dev/null
"$PL" schema example > "$DIR/schema.json"
IN="$DIR/p$PEOPLE/agency_a.csv"
ROWS=$(($(wc -l < "$IN") - 1))
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "input: $IN ($ROWS rows, $(du -h "$IN" | cut -f1))"
for run in 1 2 3; do
  /usr/bin/time -f "%e %M" -o "$DIR/time.txt" "$PL" encode --schema "$DIR/schema.json" \
    --secret-file "$DIR/bench.secret.hex" --input "$IN" --output "$DIR/out.csv" --rejects "$DIR/rej.csv" >/dev/null
  read -r secs kb < "$DIR/time.txt"
  awk -v r="$ROWS" -v s="$secs" -v k="$kb" -v n="$run" \
    'BEGIN { printf "run %d: %.2f s, %.0f rows/s, peak RSS %.0f MB\n", n, s, r / s, k / 1024 }'
done
echo "output: $(du -h "$DIR/out.csv" | cut -f1)"
