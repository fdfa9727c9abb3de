#!/usr/bin/env bash
# The red team of issue 16 (docs/attacks.md) on a synthetic population: what a party without the
# secret re-identifies from agency A's encoded extract, per attribute and attack, with 200, 1,000
# and 5,000 records known to an insider. Prints a Markdown table and the timings.
#
# Usage: bash benches/redteam.sh [PEOPLE] [SCHEMA]   (default 20,000 people and the default
# schema, `pseudolink schema example`; SCHEMA `old` is the old default, format version 1 as
# pseudolink 0.1 shipped it, core/src/schema/example_v1.json; needs jq)
#
# The extract is encoded with its manifest, whose pair statistics (encoding v3) are attacked too.
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
[ "$SCHEMA_IN" = old ] && SCHEMA_IN=core/src/schema/example_v1.json
KNOWN="${KNOWN:-200,1000,5000}"
cargo build --release --locked -q -p pseudolink-cli
PL="${CARGO_TARGET_DIR:-target}/release/pseudolink"
mkdir -p "$DIR"
DATA="$DIR/p$PEOPLE"
[ -f "$DATA/agency_a.csv" ] || "$PL" synth --people "$PEOPLE" --seed 11 --out "$DATA" >/dev/null
[ -f "$DATA/register/agency_a.csv" ] ||
  "$PL" synth --people "$PEOPLE" --seed 11 --coverage 1 --error-rate 0 --out "$DATA/register" >/dev/null
[ -f "$DIR/bench.secret.hex" ] || "$PL" keygen --output "$DIR/bench.secret.hex" >/dev/null
# Each run in its own directory: the schema's name and the population size.
RUN="$DIR/$(basename "${SCHEMA_IN:-default}" .json)-p$PEOPLE"
mkdir -p "$RUN"
if [ -n "$SCHEMA_IN" ]; then
  cp "$SCHEMA_IN" "$RUN/schema.json"
else
  "$PL" schema example > "$RUN/schema.json"
fi
"$PL" encode --schema "$RUN/schema.json" --secret-file "$DIR/bench.secret.hex" \
  --input "$DATA/agency_a.csv" --output "$RUN/agency_a.enc.csv" --rejects "$RUN/rejects.csv" >/dev/null
TIME=()
if /usr/bin/time -v true >/dev/null 2>&1; then TIME=(/usr/bin/time -v -o "$RUN/time.txt"); fi
set +e
"${TIME[@]}" "$PL" audit --input "$RUN/agency_a.enc.csv" --schema "$RUN/schema.json" \
  --cleartext "$DATA/agency_a.csv" --known-count "$KNOWN" \
  --dictionary "address_line_1=$DATA/register/agency_a.csv" --json > "$RUN/audit.json"
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
  (.pair_stats[] | "Pair statistics: \(.placed_records) of \(.random_records) sampled records placed by their id hash, \(.consistent_profiles) of \(.profiles) profiles check; \(.revealed_pairs) sampled pairs with an agreement no token shows (\([.revealed[] | "\(.[0]) \(.[1])"] | join(", "))), \(.truly_agree | pct)% true; \(.small_cells) of \(.patterns) patterns counted fewer than 5 times."),
  "Verdict: \(if .verdict.pass then "PASS" else "FAIL (\(.verdict.failures | length) attributes above their bound)" end).",
  "",
  "Time: \(.total_seconds * 10 | round / 10) s (" + ([.timings[] | "\(.step) \(.seconds * 10 | round / 10)"] | join(", ")) + ")."
'  "$RUN/audit.json"
if [ -f "$RUN/time.txt" ]; then
  awk -F': ' -v load="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)" \
    '/Elapsed \(wall clock\)/ {w=$2} /User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {m=$2}
    END {printf "Process: wall %s, CPU user %s s + system %s s, peak RSS %.0f MB; load average after: %s.\n", w, u, s, m/1024, load}' \
    "$RUN/time.txt"
fi
