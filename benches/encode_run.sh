#!/usr/bin/env bash
# Whole-run encode benchmark: file to file with the default schema, on synthetic data.
# Usage: bash benches/encode_run.sh [PEOPLE]   (default 1,000,000 people)
# Prints rows, wall seconds, rows per second, CPU (user+sys) per row, peak memory and the load
# average (the machine may be shared: wall time alone says little); see docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PEOPLE="${1:-1000000}"
. benches/encode_setup.sh
IN="$DIR/p$PEOPLE/agency_a.csv"
ROWS=$(($(wc -l < "$IN") - 1))
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "input: $IN ($ROWS rows, $(du -h "$IN" | cut -f1))"
for run in 1 2 3; do
  # A fresh output each time, as in a real run (replacing a 700 MB file costs its deletion too).
  rm -f "$DIR/out.csv" "$DIR/out.csv.manifest.json"
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  /usr/bin/time -f "%e %U %S %M" -o "$DIR/time.txt" "$PL" encode --schema "$DIR/schema.json" \
    --secret-file "$DIR/bench.secret.hex" --input "$IN" --output "$DIR/out.csv" --rejects "$DIR/rej.csv" >/dev/null
  read -r secs user sys kb < "$DIR/time.txt"
  awk -v r="$ROWS" -v s="$secs" -v u="$user" -v y="$sys" -v k="$kb" -v n="$run" -v l="$load" \
    'BEGIN { printf "run %d: %.2f s, %.0f rows/s, CPU %.2f s (%.2f us/row), peak RSS %.0f MB, load %s\n", n, s, r / s, u + y, (u + y) * 1e6 / r, k / 1024, l }'
done
echo "output: $(du -h "$DIR/out.csv" | cut -f1)"
