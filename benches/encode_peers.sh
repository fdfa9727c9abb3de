#!/usr/bin/env bash
# Encoding speed of pseudolink and of the peer clkhash on the same rows, in one run.
#
# Usage: bash benches/encode_peers.sh [ROWS]   (default 720637: the first ROWS rows of the
# encoding benchmark's agency_a.csv, i.e. all of it; the whole script takes about three minutes)
#
# pseudolink: the release CLI, file to file with the default schema, best of three runs (as
# benches/encode_run.sh). clkhash: installed into target/bench-venv by benches/peers/setup.sh,
# the input standardised untimed, then encoded (benches/quality/clk_encode.py), best of three.
# Honours CARGO_TARGET_DIR and BENCH_DIR. Numbers go to docs/benchmarks.md by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${1:-720637}"
bash benches/peers/setup.sh
PEOPLE=1000000
. benches/encode_setup.sh
IN="$DIR/peers-$ROWS.csv"
head -n $((ROWS + 1)) "$DIR/p1000000/agency_a.csv" > "$IN"
N=$(($(wc -l < "$IN") - 1))
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "input: $IN ($N rows)"
best=""
for run in 1 2 3; do
  rm -f "$DIR/peers-out.csv" "$DIR/peers-out.csv.manifest.json"
  /usr/bin/time -f "%e" -o "$DIR/time.txt" "$PL" encode --schema "$DIR/schema.json" \
    --secret-file "$DIR/bench.secret.hex" --input "$IN" --output "$DIR/peers-out.csv" \
    --rejects "$DIR/peers-rej.csv" >/dev/null
  secs=$(cat "$DIR/time.txt")
  best=$(awk -v a="$best" -v b="$secs" 'BEGIN { print (a == "" || b < a) ? b : a }')
done
rm -f "$DIR/peers-out.csv" "$DIR/peers-out.csv.manifest.json"
awk -v r="$N" -v s="$best" 'BEGIN { printf "pseudolink: %d rows, best of 3 %.2f s, %.0f rows/s (file to file, normalisation included)\n", r, s, r / s }'
IN_ABS=$(realpath "$IN")
(cd benches/quality && ../../target/bench-venv/bin/python clk_encode.py "$IN_ABS" 3)
