#!/usr/bin/env bash
# The red team of issue 16 (docs/attacks.md) on a synthetic population: what a party without the
# secret re-identifies from agency A's encoded extract, per attribute and attack, with 200, 1,000
# and 5,000 records known to an insider. Prints a Markdown table and the timings.
#
# Usage: bash benches/redteam.sh [PEOPLE] [SCHEMA]   (default 20,000 people and the default
# schema, `pseudolink schema example`; needs jq)
#
# The population is `pseudolink synth --seed 11`; the attacker's reference population is the
# built-in one (another seed); its address register is every household's address in the city
# (the same population written clean: `--coverage 1 --error-rate 0`), as a public register such as
# the Postcode Address File would be. Shares are beyond a blind guess (the most frequent reference
# value for everyone), of the records the insider does not know.
set -euo pipefail
cd "$(dirname "$0")/.."
PEOPLE="${1:-20000}"
SCHEMA_IN="${2:-}"
DIR="${BENCH_DIR:-target/redteam}"
KNOWN="${KNOWN:-200,1000,5000}"
cargo build --release --locked -q -p pseudolink-cli
PL="${CARGO_TARGET_DIR:-target}/release/pseudolink"
mkdir -p "$DIR"
DATA="$DIR/p$PEOPLE"
[ -f "$DATA/agency_a.csv" ] || "$PL" synth --people "$PEOPLE" --seed 11 --out "$DATA" >/dev/null
[ -f "$DATA/register/agency_a.csv" ] ||
  "$PL" synth --people "$PEOPLE" --seed 11 --coverage 1 --error-rate 0 --out "$DATA/register" >/dev/null
[ -f "$DIR/bench.secret.hex" ] || "$PL" keygen --output "$DIR/bench.secret.hex" >/dev/null
if [ -n "$SCHEMA_IN" ]; then
  cp "$SCHEMA_IN" "$DIR/schema.json"
else
  "$PL" schema example > "$DIR/schema.json"
fi
"$PL" encode --schema "$DIR/schema.json" --secret-file "$DIR/bench.secret.hex" \
  --input "$DATA/agency_a.csv" --output "$DIR/agency_a.enc.csv" --rejects "$DIR/rejects.csv" >/dev/null
TIME=()
if /usr/bin/time -v true >/dev/null 2>&1; then TIME=(/usr/bin/time -v -o "$DIR/time.txt"); fi
set +e
"${TIME[@]}" "$PL" audit --input "$DIR/agency_a.enc.csv" --schema "$DIR/schema.json" \
  --cleartext "$DATA/agency_a.csv" --known-count "$KNOWN" \
  --dictionary "address_line_1=$DATA/register/agency_a.csv" --json > "$DIR/audit.json"
status=$?
set -e
[ "$status" -eq 0 ] || [ "$status" -eq 9 ] || { echo "audit failed ($status)" >&2; exit "$status"; }
jq -r --arg known "$KNOWN" '
  def pct: if . == null then "-" else (. * 1000 | round / 10 | tostring) end;
  def cell($a; $f; $k): ([$a.results[] | select(.family == $f and .k == $k) | .beyond_blind] | first) | pct;
  ($known | split(",") | map(tonumber)) as $ks
  | def cells($a; $f): [$ks[] as $k | cell($a; $f; $k)] | join(" / ");
  "Agency A: \(.audited) records, \(.inputs[0]); reference: \(.reference); known: \($known | gsub(","; ", ")) records.",
  "Cells: % of records re-identified beyond a blind guess (\"a / b / c\": with \($known | gsub(","; " / ")) known records).",
  "",
  "| attribute | class | blind | frequency alignment | bridged alignment | pattern mining | graph matching | inference | known, bridged | known, suggested | filter lookup | nearest known filter | inference (known) | combined (none; known) | strongest |",
  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  (.attributes[] as $a
   | "| \($a.attribute) | \($a.class) | \($a.blind_share | pct) | \(cell($a; "frequency_alignment"; null)) | \(cell($a; "bridged_alignment"; null)) | \(cell($a; "pattern_mining"; null)) | \(cell($a; "graph_matching"; null)) | \(cell($a; "inference"; null)) | \(cells($a; "known_bridged")) | \(cells($a; "known_suggested")) | \(cells($a; "known_filter_lookup")) | \(cells($a; "nearest_known")) | \(cells($a; "inference")) | \(cell($a; "combined"; null)); \(cells($a; "combined")) | **\($a.strongest.beyond_blind | pct)** (\($a.strongest.family | gsub("_"; " "))\(if $a.strongest.k then ", k=\($a.strongest.k)" else "" end))\(if $a.pass then "" else " ABOVE" end) |"),
  "",
  "Whole record (every name, date of birth and postcode right, combined attack): "
    + ([.whole_record[] | "\(if .k then "k=\(.k)" else "no known" end): \(.score.correct) of \(.score.records) (\((if .score.records > 0 then ((.score.correct - .score.blind) / .score.records) else 0 end) | pct)% beyond blind)"] | join("; ")) + ".",
  "Singling out: \(.singling_out.all_tokens_unique_share | pct)% of records unique on their token columns together.",
  "Verdict: \(if .verdict.pass then "PASS" else "FAIL (\(.verdict.failures | length) attributes above their bound)" end).",
  "",
  "Time: \(.total_seconds * 10 | round / 10) s (" + ([.timings[] | "\(.step) \(.seconds * 10 | round / 10)"] | join(", ")) + ")."
' "$DIR/audit.json"
if [ -f "$DIR/time.txt" ]; then
  awk -F': ' -v load="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)" \
    '/Elapsed \(wall clock\)/ {w=$2} /User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {m=$2}
    END {printf "Process: wall %s, CPU user %s s + system %s s, peak RSS %.0f MB; load average after: %s.\n", w, u, s, m/1024, load}' \
    "$DIR/time.txt"
fi
