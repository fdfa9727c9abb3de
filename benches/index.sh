#!/usr/bin/env bash
# Person index benchmark (issue 19), two parts, on the synthetic population:
#
#  1. quality: agency b arrives in MONTHS monthly extracts. "all at once" creates an index from
#     agency a and all of b; "month by month" creates one from a and b's first month and adds the
#     other months one by one (`pseudolink index add`). Both use one model (trained by `link`
#     on a and all of b), and both are scored by the a-b pairs their persons imply against the
#     synthetic truth: precision, recall, F1.
#  2. speed: an index of agencies a and b of a population of PEOPLE, then `index add` of
#     months of ASSIGN records of a third agency, before and after an `index compact` (wall and
#     CPU time, peak memory and load average of every step).
#
# Usage: bash benches/index.sh [PEOPLE] [QUALITY_PEOPLE]   (defaults 1000000 and 20000)
# Environment: MONTHS (6), ASSIGN (10000), OUT (target/bench-index), SPEED=0 to skip part 2,
# PL=path/to/pseudolink to use that binary instead of building the release one (quality figures
# do not depend on the build; times do).
set -euo pipefail
cd "$(dirname "$0")/.."
PEOPLE="${1:-1000000}"
QPEOPLE="${2:-20000}"
MONTHS="${MONTHS:-6}"
ASSIGN="${ASSIGN:-10000}"
OUT="${OUT:-target/bench-index}"
if [ -z "${PL:-}" ]; then
  cargo build --release --locked -q -p pseudolink-cli
  PL="$PWD/target/release/pseudolink"
fi
PL="$(realpath "$PL")"
rm -rf "$OUT"; mkdir -p "$OUT"; cd "$OUT"
"$PL" schema example > schema.json
"$PL" keygen --output secret.hex >/dev/null
enc() { "$PL" encode --schema schema.json --secret-file secret.hex --input "$1" --output "$2" >/dev/null; }

echo "== quality: $QPEOPLE people, agency b in $MONTHS months"
"$PL" synth --people "$QPEOPLE" --seed 42 --out q >/dev/null
enc q/agency_a.csv q/a.enc.csv
enc q/agency_b.csv q/b.enc.csv
python3 - "$MONTHS" <<'PY'
import sys
months = int(sys.argv[1])
lines = open("q/agency_b.csv", encoding="utf-8").read().splitlines(True)
header, rows = lines[0], lines[1:]
size = -(-len(rows) // months)
for m in range(months):
    with open(f"q/b_{m + 1}.csv", "w", encoding="utf-8") as f:
        f.write(header)
        f.writelines(rows[m * size:(m + 1) * size])
PY
for m in $(seq 1 "$MONTHS"); do enc "q/b_$m.csv" "q/b_$m.enc.csv"; done
"$PL" link --schema schema.json --left q/a.enc.csv --right q/b.enc.csv --output q/links.csv \
    --save-model q/model.json >/dev/null
"$PL" index create --schema schema.json --model q/model.json --input q/a.enc.csv \
    --input q/b.enc.csv --source a --source b --output q/all
"$PL" index export --index q/all --output q/all.csv >/dev/null
"$PL" index create --schema schema.json --model q/model.json --input q/a.enc.csv \
    --input q/b_1.enc.csv --source a --source b --output q/monthly
for m in $(seq 2 "$MONTHS"); do
  "$PL" index add --index q/monthly --input "q/b_$m.enc.csv" --source b --output "q/assigned_$m.csv"
done
"$PL" index export --index q/monthly --output q/monthly.csv >/dev/null
python3 - <<'PY'
import csv
from collections import defaultdict
truth = {(r["left_id"], r["right_id"]) for r in csv.DictReader(open("q/truth.csv"))}
def score(path):
    persons = defaultdict(lambda: ([], []))
    for r in csv.DictReader(open(path)):
        persons[r["person_id"]][0 if r["source"] == "a" else 1].append(r["record_id"])
    found = {(x, y) for a, b in persons.values() for x in a for y in b}
    tp = len(found & truth)
    p, r = tp / max(len(found), 1), tp / max(len(truth), 1)
    return p, r, 2 * p * r / max(p + r, 1e-12)
for name, path in [("all at once", "q/all.csv"), ("month by month", "q/monthly.csv")]:
    p, r, f = score(path)
    print(f"{name}: precision {p:.4f} recall {r:.4f} F1 {f:.4f}")
PY
echo "merges logged month by month: $(($(wc -l < q/monthly/merges.csv) - 1))," \
     "splits listed: $(($(wc -l < q/monthly/splits.csv) - 1))"

[ "${SPEED:-1}" = 0 ] && exit 0
# Part 2, step by step: an index of agencies a and b; ASSIGN records of agency c added to a
# fresh copy; 50,000 more (which fill `recent_blocks` past its bound); ASSIGN more before and
# after `index compact`; ASSIGN more again. Each step prints wall, CPU and peak memory and the
# load average before it.
echo "== speed: index of $PEOPLE people (agencies a and b), then months of $ASSIGN records of agency c"
T() {
  local name=$1; shift
  echo "load average before $name: $(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/time -f "$name: %e s wall, %U s user, %S s sys, %M KB peak" "$@"
}
"$PL" synth --people "$PEOPLE" --seed 42 --agencies 3 --out s >/dev/null
enc s/agency_a.csv s/a.enc.csv
enc s/agency_b.csv s/b.enc.csv
# Rows of agency c: month 1, then 50,000, then months 2 and 3.
rows() { { head -n 1 s/agency_c.csv; tail -n +2 s/agency_c.csv | sed -n "$1,$2p"; } > "s/$3.csv"; }
rows 1 "$ASSIGN" c1
rows "$((ASSIGN + 1))" "$((ASSIGN + 50000))" c50
rows "$((ASSIGN + 50001))" "$((2 * ASSIGN + 50000))" c2
rows "$((2 * ASSIGN + 50001))" "$((3 * ASSIGN + 50000))" c3
for f in c1 c50 c2 c3; do enc "s/$f.csv" "s/$f.enc.csv"; done
T create "$PL" index create --schema schema.json --input s/a.enc.csv --input s/b.enc.csv \
    --source a --source b --output s/index
du -sh s/index/index.redb
add() { T "$1" "$PL" index add --index "s/$2" --input "s/$3.enc.csv" --source c --output "s/$4.csv"; }
cp -r s/index s/i1 && sync
add "add month 1 (fresh copy)" i1 c1 assigned1
cut -d, -f5 s/assigned1.csv | tail -n +2 | sort | uniq -c
add "add 50,000 (fills recent_blocks)" i1 c50 assigned50
cp -r s/i1 s/i2 && sync
add "add month 2 before compact (copy)" i2 c2 assigned2_before
T compact "$PL" index compact --index s/i1
add "add month 2 right after compact" i1 c2 assigned2
add "add month 3" i1 c3 assigned3
du -sh s/i1/index.redb
