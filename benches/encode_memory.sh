#!/usr/bin/env bash
# Peak memory of `pseudolink encode` on a large input, per duplicate-id budget (--id-memory).
# Usage: bash benches/encode_memory.sh [COPIES] [MIB ...]   (default: 14 copies; 64 8 1024 MiB)
# The input is agency_a.csv of `pseudolink synth --people 1000000 --seed 11` (720,637 rows)
# repeated COPIES times with each copy's record ids prefixed ("k0-", "k1-", ...), so every id is
# distinct: 14 copies give 10,088,918 rows (786 MB). Each budget encodes it file to file once and
# prints wall time, rows/s, CPU (user+sys), peak RSS (/usr/bin/time -v), the load average before
# the run, whether the id check went to disk, and the output's SHA-256 prefix (the same for every
# budget). The output (about 1 KB per row: 10 GB at 14 copies) is deleted after each run.
# Honours CARGO_TARGET_DIR and BENCH_DIR; see docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
COPIES="${1:-14}"
shift || true
BUDGETS=("$@")
[ ${#BUDGETS[@]} -gt 0 ] || BUDGETS=(64 8 1024)
PEOPLE=1000000
. benches/encode_setup.sh
IN="$DIR/big-$COPIES.csv"
if [ ! -f "$IN" ]; then
  {
    head -n 1 "$DIR/p1000000/agency_a.csv"
    for k in $(seq 0 $((COPIES - 1))); do
      tail -n +2 "$DIR/p1000000/agency_a.csv" | sed "s/^/k$k-/"
    done
  } > "$IN.tmp"
  mv "$IN.tmp" "$IN"
fi
ROWS=$(($(wc -l < "$IN") - 1))
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "input: $IN ($ROWS rows, $(du -hL "$IN" | cut -f1))"
for mib in "${BUDGETS[@]}"; do
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  /usr/bin/time -v -o "$DIR/time.txt" "$PL" encode --schema "$DIR/schema.json" \
    --secret-file "$DIR/bench.secret.hex" --input "$IN" --output "$DIR/mem-out.csv" \
    --rejects "$DIR/mem-rej.csv" --id-memory "$mib" > "$DIR/mem-stdout.txt"
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$DIR/time.txt" |
    awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
  user=$(sed -n 's/.*User time (seconds): //p' "$DIR/time.txt")
  sys=$(sed -n 's/.*System time (seconds): //p' "$DIR/time.txt")
  kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$DIR/time.txt")
  disk=$(grep -q "checked on disk" "$DIR/mem-stdout.txt" && echo "on disk" || echo "in memory")
  sha=$(sha256sum "$DIR/mem-out.csv" | cut -c1-16)
  awk -v r="$ROWS" -v s="$wall" -v u="$user" -v y="$sys" -v k="$kb" -v m="$mib" -v l="$load" \
    -v d="$disk" -v h="$sha" \
    'BEGIN { printf "--id-memory %s: %.1f s, %.0f rows/s, CPU %.1f s (%.2f us/row), peak RSS %.0f MB, ids %s, load %s, output %s\n", m, s, r / s, u + y, (u + y) * 1e6 / r, k / 1024, d, l, h }'
  rm -f "$DIR/mem-out.csv" "$DIR/mem-out.csv.manifest.json"
done
