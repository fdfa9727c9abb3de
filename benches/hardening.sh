#!/usr/bin/env bash
# Accuracy cost and attack resistance of each hardening option (docs/security.md, "Measured").
#
# Usage: [VARIANTS="record ..."] bash benches/hardening.sh [PEOPLE]   (default 100,000 people; needs jq)
#
# For each schema variant below (all made from `pseudolink schema example` with jq): encode both
# synthetic agency extracts, link them and evaluate against the true pairs (F1 at the default
# threshold), and audit agency A's encoded extract with its cleartext known, i.e. measure the
# frequency-alignment attack (share of records re-identified by name beyond a blind guess, the
# strongest of the whole-file and within-group attacks over all name token and filter columns).
# Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
PEOPLE="${1:-100000}"
DIR="${BENCH_DIR:-target/hardening}"
cargo build --release --locked -q -p pseudolink-cli
PL="${CARGO_TARGET_DIR:-target}/release/pseudolink"
mkdir -p "$DIR"
[ -f "$DIR/p$PEOPLE/agency_a.csv" ] || "$PL" synth --people "$PEOPLE" --seed 11 --out "$DIR/p$PEOPLE" >/dev/null
[ -f "$DIR/bench.secret.hex" ] || "$PL" keygen --output "$DIR/bench.secret.hex" >/dev/null
"$PL" schema example > "$DIR/default.json"
NAMES='.fields[] | select(.kind == "name")'
UNSALT="del($NAMES.salt)"
# Dice bands of balanced filters: a filter of n bits with weight w becomes 2n bits with weight n,
# and Dice d becomes 1 - 2w(1 - d)/(2n): about 0.965/0.912/0.859 for the 512-bit name filters
# (w = 90) and 0.933/0.866 for the 1024-bit address filter (w = 171).
BAL="(.fields[] | select(.bloom != null) | .bloom.balanced) = true
  | (.fields[0].compare.dice, .fields[2].compare.dice) = [0.965, 0.912, 0.859]
  | .fields[1].compare.dice = [0.93] | .fields[6].compare.dice = [0.933, 0.866]"
XOR="(.fields[] | select(.bloom != null) | .bloom.xor_fold) = true"
RECORD="del($NAMES.bloom) | del($NAMES.compare) | ($NAMES.token) = false
  | .record_bloom = { bits: 1024, q: 2,
      fields: [ {field: \"first_name\", hashes: 10}, {field: \"middle_name\", hashes: 10},
                {field: \"last_name\", hashes: 10} ],
      compare: { dice: [0.9, 0.8, 0.7] } }"
names=(unsalted salt-year default salt-dob balanced xor record default-balanced)
filters=(
  "$UNSALT"
  "$UNSALT | ($NAMES.salt) = \"date_of_birth.year\""
  "."
  "($NAMES.salt) = \"date_of_birth\""
  "$UNSALT | $BAL"
  "$UNSALT | $XOR"
  "$UNSALT | $RECORD"
  "$BAL"
)
whats=(
  "field-level filters, no salt (the encoding before hardening)"
  "names salted with the year of birth"
  "names salted with the year and month of birth (the default)"
  "names salted with the full date of birth"
  "no salt, balanced filters"
  "no salt, XOR-folded filters"
  "no salt, no name tokens or field filters: one record-level filter of the three names"
  "default salt and balanced filters"
)
echo "| variant | what | F1 | precision | recall | attack on whole names: re-identified (column, how) | partial: initial or Soundex recovered | name filters: unique share |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for i in "${!names[@]}"; do
  name="${names[$i]}"; filter="${filters[$i]}"; what="${whats[$i]}"
  # VARIANTS="record default" runs only those variants (default: all).
  if [ -n "${VARIANTS:-}" ] && [[ " $VARIANTS " != *" $name "* ]]; then continue; fi
  S="$DIR/variant.$name.json"
  jq "$filter" "$DIR/default.json" > "$S"
  for a in agency_a agency_b; do
    "$PL" encode --schema "$S" --secret-file "$DIR/bench.secret.hex" --input "$DIR/p$PEOPLE/$a.csv" \
      --output "$DIR/$name.$a.csv" --rejects "$DIR/$name.$a.rejects.csv" >/dev/null
  done
  f1="n/a"; prec="n/a"; rec="n/a"
  if "$PL" link --help >/dev/null 2>&1; then
    "$PL" link --schema "$S" --left "$DIR/$name.agency_a.csv" --right "$DIR/$name.agency_b.csv" \
      --output "$DIR/$name.links.csv" >/dev/null
    "$PL" evaluate --links "$DIR/$name.links.csv" --truth "$DIR/p$PEOPLE/truth.csv" > "$DIR/$name.eval.json"
    read -r f1 prec rec < <(jq -r '"\(.f1 * 10000 | round / 10000) \(.precision * 10000 | round / 10000) \(.recall * 10000 | round / 10000)"' "$DIR/$name.eval.json")
  fi
  set +e
  "$PL" audit --input "$DIR/$name.agency_a.csv" --schema "$S" --cleartext "$DIR/p$PEOPLE/agency_a.csv" --json \
    > "$DIR/$name.audit.json"
  set -e
  attack=$(jq -r '[.attacks[] | select(.full_name)] | max_by(.measured_share)
    | if . == null then "no name column attackable" else "\(.measured_share * 1000 | round / 10)% (\(.column), \(.measured_by))" end' "$DIR/$name.audit.json")
  partial=$(jq -r '[.attacks[] | select(.full_name | not)] | max_by(.measured_share)
    | if . == null then "none" else "\(.measured_share * 1000 | round / 10)% (\(.column))" end' "$DIR/$name.audit.json")
  uniq=$(jq -r '[.filters[] | select(.column | test("name|record")) | "\(.column) \(.concentration.unique_share * 1000 | round / 10)%"] | join(", ")' "$DIR/$name.audit.json")
  echo "| $name | $what | $f1 | $prec | $rec | $attack | $partial | $uniq |"
done
