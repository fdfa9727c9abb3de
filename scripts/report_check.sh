#!/usr/bin/env bash
# `make report-test`: a linking run on synthetic data, its report written with and without the
# truth (and a waterfall), each opened in headless Chromium (scripts/report_browser_check.py).
set -euo pipefail
cd "$(dirname "$0")/.."
PL="${PL:?set PL to the pseudolink binary}"
OUT="${OUT:?set OUT to a scratch folder}"
rm -rf "$OUT"; mkdir -p "$OUT"
"$PL" synth --people 600 --seed 5 --out "$OUT/data" >/dev/null
"$PL" keygen --output "$OUT/k.hex" >/dev/null
"$PL" schema example > "$OUT/schema.json"
for a in agency_a agency_b; do
  "$PL" encode --schema "$OUT/schema.json" --secret-file "$OUT/k.hex" --input "$OUT/data/$a.csv" \
    --output "$OUT/$a.enc.csv" --agreement ISA-TEST --purpose "report test" >/dev/null 2>&1
done
"$PL" link --schema "$OUT/schema.json" --left "$OUT/agency_a.enc.csv" --right "$OUT/agency_b.enc.csv" \
  --output "$OUT/links.csv" --agreement ISA-TEST --purpose "report test" >/dev/null 2>&1
pair=$(awk -F, '$5 == "match" { print $1 "," $2; exit }' "$OUT/links.csv")
"$PL" report --links "$OUT/links.csv" --truth "$OUT/data/truth.csv" --schema "$OUT/schema.json" \
  --explain "$pair" --output "$OUT/report.html"
"$PL" report --links "$OUT/links.csv" --output "$OUT/report-no-truth.html"
python3 scripts/report_browser_check.py "$OUT/report.html" blocking model weights threshold clusters waterfall-1
python3 scripts/report_browser_check.py "$OUT/report-no-truth.html" blocking model weights threshold clusters
