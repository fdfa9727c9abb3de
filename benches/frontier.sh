#!/usr/bin/env bash
# The privacy-quality frontier (docs/security.md, "The frontier"): for each schema variant, the
# linkage quality it gives and the worst re-identification the red-team suite achieves on it.
#
# Usage: [PEOPLE_LIST="20000 150000"] [KNOWN=1000] [CHART=docs/frontier.svg]
#        bash benches/frontier.sh
#
# For each population size: synth two agency extracts (seed 42, realistic errors), and for each
# variant (benches/frontier_variants.py: the default, fewer keys, the digit masks under the first
# name only (the previous default), the first name's place tokens with the surname, salted name
# filters, balanced filters; and the old default schema of encoding version 2) encode both, link them, evaluate
# against the true pairs (F1 at the default threshold 0.9 and at the best cut), and run
# `pseudolink audit` on both extracts (bridges across them), measured on agency A's cleartext, with
# K known records (default 1,000, the bound of issue 16): the worst whole
# value and the worst partial value re-identified beyond a blind guess. The cleartext link is
# the last row (a linkage unit holding cleartext reads every value). Prints a Markdown table,
# writes $DIR/frontier.csv and, with CHART set, an SVG chart of the frontier.
set -euo pipefail
cd "$(dirname "$0")/.."
PEOPLE_LIST="${PEOPLE_LIST:-20000 150000}"
KNOWN="${KNOWN:-1000}"
DIR="${BENCH_DIR:-target/bench-data}/frontier"
cargo build --release --locked -q -p pseudolink-cli
PL="$(pwd)/${CARGO_TARGET_DIR:-target}/release/pseudolink"
mkdir -p "$DIR"
[ -f "$DIR/bench.secret.hex" ] || "$PL" keygen --output "$DIR/bench.secret.hex" >/dev/null
"$PL" schema example > "$DIR/schema-default-base.json"
mapfile -t VARIANTS < <(python3 benches/frontier_variants.py "$DIR/schema-default-base.json" "$DIR/schemas")
cp core/src/schema/example_v1.json "$DIR/schemas/old-default.json"
VARIANTS+=(old-default)
CSV="$DIR/frontier.csv"
echo "people,variant,f1_default,best_f1,best_threshold,worst_whole,worst_whole_share,worst_partial,worst_partial_share,audit_pass,audit_seconds,link_seconds,bytes_per_record" > "$CSV"
echo "pseudolink at $(git rev-parse --short HEAD); known records $KNOWN; load $(cut -d' ' -f1-3 /proc/loadavg)"

evaluate() { # DIR -> "f1 best_f1 best_threshold"
  "$PL" evaluate --links "$1/links.csv" --truth "$1/../truth.csv" --curve "$1/curve.csv" > "$1/evaluate.json" 2>/dev/null
  python3 - "$1" <<'PY'
import csv, json, sys
d = sys.argv[1]
e = json.load(open(f"{d}/evaluate.json"))
best = max(csv.DictReader(open(f"{d}/curve.csv")), key=lambda r: float(r["f1"]))
print(f"{e['f1']:.4f} {float(best['f1']):.4f} {float(best['threshold']):.4g}")
PY
}

for PEOPLE in $PEOPLE_LIST; do
  DATA="$DIR/p$PEOPLE"
  mkdir -p "$DATA"
  [ -f "$DATA/truth.csv" ] || "$PL" synth --people "$PEOPLE" --seed 42 --out "$DATA" >/dev/null
  for V in "${VARIANTS[@]}"; do
    OUT="$DATA/$V"
    mkdir -p "$OUT"
    SCHEMA="$DIR/schemas/$V.json"
    for s in a b; do
      "$PL" encode --schema "$SCHEMA" --secret-file "$DIR/bench.secret.hex" \
        --input "$DATA/agency_$s.csv" --output "$OUT/enc_$s.csv" --rejects "$OUT/rej_$s.csv" >/dev/null
    done
    /usr/bin/time -f "%e" -o "$OUT/link.time" "$PL" link --schema "$SCHEMA" \
      --left "$OUT/enc_a.csv" --right "$OUT/enc_b.csv" --output "$OUT/links.csv" > "$OUT/link.log"
    read -r F1 BEST AT < <(evaluate "$OUT")
    START=$(date +%s.%N)
    set +e
    "$PL" audit --input "$OUT/enc_a.csv" --input "$OUT/enc_b.csv" --schema "$SCHEMA" \
      --cleartext "$DATA/agency_a.csv" --known-count "$KNOWN" --json > "$OUT/audit.json" 2> "$OUT/audit.log"
    CODE=$?
    set -e
    [ "$CODE" = 0 ] || [ "$CODE" = 9 ] || { echo "audit of $V failed ($CODE):"; cat "$OUT/audit.log"; exit 1; }
    SECS=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$START" "$(date +%s.%N)")
    python3 - "$OUT" "$PEOPLE" "$V" "$F1" "$BEST" "$AT" "$SECS" >> "$CSV" <<'PY'
import json, os, sys
out, people, v, f1, best, at, secs = sys.argv[1:]
a = json.load(open(f"{out}/audit.json"))["verdict"]
whole = a.get("worst_whole") or ["-", 0.0]
part = a.get("worst_partial") or ["-", 0.0]
link = open(f"{out}/link.time").read().split()[0]
records = sum(1 for _ in open(f"{out}/enc_a.csv")) - 1
size = os.path.getsize(f"{out}/enc_a.csv") / max(1, records)
print(f"{people},{v},{f1},{best},{at},{whole[0]},{whole[1]:.4f},{part[0]},{part[1]:.4f},"
      f"{str(a['pass']).lower()},{secs},{link},{size:.0f}")
PY
  done
  OUT="$DATA/cleartext"
  mkdir -p "$OUT"
  /usr/bin/time -f "%e" -o "$OUT/link.time" "$PL" link --schema "$DIR/schemas/default.json" --clear \
    --left "$DATA/agency_a.csv" --right "$DATA/agency_b.csv" --output "$OUT/links.csv" > "$OUT/link.log"
  read -r F1 BEST AT < <(evaluate "$OUT")
  echo "$PEOPLE,cleartext,$F1,$BEST,$AT,every value,1.0000,every value,1.0000,false,0,$(cat "$OUT/link.time"),0" >> "$CSV"
done

python3 - "$CSV" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print("| people | variant | F1 @ 0.9 | best F1 (cut) | worst whole value beyond blind | worst partial value beyond blind | bounds (1% / 5%) | audit s | bytes/record |")
print("| ---: | --- | ---: | ---: | --- | --- | --- | ---: | ---: |")
for r in rows:
    ok = {"true": "pass", "false": "fail"}[r["audit_pass"]]
    if r["variant"] == "cleartext":
        ok = "n/a"
    print(f"| {int(r['people']):,} | {r['variant']} | {r['f1_default']} | {r['best_f1']} ({r['best_threshold']}) "
          f"| {float(r['worst_whole_share']):.2%} {r['worst_whole']} | {float(r['worst_partial_share']):.2%} {r['worst_partial']} "
          f"| {ok} | {r['audit_seconds']} | {r['bytes_per_record']} |")
PY
if [ -n "${CHART:-}" ]; then
  python3 benches/frontier_chart.py "$CSV" "$CHART"
  echo "chart: $CHART"
fi
