#!/usr/bin/env bash
# `make demo`: the main job end to end on generated data, saying what it does at each step.
set -euo pipefail
cd "$(dirname "$0")/.."
PEOPLE="${1:-2000}"
OUT=demo-output
say() { printf '\n== %s\n' "$*"; }

say "building pseudolink (release)"
cargo build --release --locked -q -p pseudolink-cli
PL=target/release/pseudolink

rm -rf "$OUT"; mkdir -p "$OUT"
say "generating a synthetic population of $PEOPLE people seen by two agencies (no real data)"
"$PL" synth --people "$PEOPLE" --seed 7 --out "$OUT/data"

say "agreeing a secret (in real use: once, under the Information Sharing Agreement, shared out of band)"
"$PL" keygen --output "$OUT/partnership.secret.hex"

say "writing the agreed schema"
"$PL" schema example > "$OUT/schema.json"
"$PL" schema check "$OUT/schema.json"

for agency in agency_a agency_b; do
  say "$agency encodes its extract locally: only tokens and Bloom filters leave the agency"
  "$PL" encode --schema "$OUT/schema.json" --secret-file "$OUT/partnership.secret.hex" \
    --input "$OUT/data/$agency.csv" --output "$OUT/$agency.encoded.csv" \
    --rejects "$OUT/$agency.rejects.csv" \
    --agreement "DEMO-ISA-001" --purpose "Early Help demonstration"
done

say "what an encoded row looks like (no name, date or postcode in it)"
head -n 1 "$OUT/agency_a.encoded.csv" | cut -c1-160 | sed 's/$/ .../'
sed -n 2p "$OUT/agency_a.encoded.csv" | cut -c1-160 | sed 's/$/ .../'
echo "the agency's cleartext row for the same record stays with the agency:"
sed -n 2p "$OUT/data/agency_a.csv"

if "$PL" link --help >/dev/null 2>&1; then
  say "the linkage unit links the two encoded extracts (it never holds the secret)"
  "$PL" link --schema "$OUT/schema.json" --left "$OUT/agency_a.encoded.csv" --right "$OUT/agency_b.encoded.csv" \
    --output "$OUT/links.csv" --save-model "$OUT/model.json"
  say "quality against the synthetic truth"
  "$PL" evaluate --links "$OUT/links.csv" --truth "$OUT/data/truth.csv"
  say "the clerical review pack: review-band pairs with their comparison levels, no names"
  "$PL" review --links "$OUT/links.csv" --schema "$OUT/schema.json" --output "$OUT/review.csv" >/dev/null
  head -n 3 "$OUT/review.csv" | cut -c1-160 | sed 's/$/ .../'
fi

say "done: everything is in $OUT/"
ls -1 "$OUT"

if "$PL" report --help >/dev/null 2>&1; then
  say "the run report: one self-contained HTML page (open it in a browser, or print it)"
  pair=$(awk -F, '$5 == "match" { print $1 "," $2; exit }' "$OUT/links.csv")
  "$PL" report --links "$OUT/links.csv" --truth "$OUT/data/truth.csv" \
    --schema "$OUT/schema.json" --explain "$pair" --output "$OUT/report.html" >/dev/null
  echo "report written: $(cd "$OUT" && pwd)/report.html"
fi
