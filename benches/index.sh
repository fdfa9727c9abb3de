#!/usr/bin/env bash
# Person index benchmark (issue 19), two parts, on the synthetic population:
#
#  1. quality: agency b arrives in MONTHS monthly extracts. "all at once" creates an index from
#     agency a and all of b; "month by month" creates one from a and b's first month and adds the
#     other months one by one (`pseudolink index add`). Both use one model (trained by `link`
#     on a and all of b), and both are scored by the a-b pairs their persons imply against the
#     synthetic truth: precision, recall, F1.
#  2. speed: an index of agencies a and b of a population of PEOPLE, then `index add` of
#     ASSIGN records of a third agency (wall-clock time, as `index add` prints it).
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
echo "== speed: index of $PEOPLE people (agencies a and b), then $ASSIGN records of agency c"
"$PL" synth --people "$PEOPLE" --seed 42 --agencies 3 --out s >/dev/null
enc s/agency_a.csv s/a.enc.csv
enc s/agency_b.csv s/b.enc.csv
head -n "$((ASSIGN + 1))" s/agency_c.csv > s/c_month.csv
enc s/c_month.csv s/c_month.enc.csv
/usr/bin/time -f "create: %e s wall, %U s user, %S s sys, %M KB peak" "$PL" index create --schema schema.json \
    --input s/a.enc.csv --input s/b.enc.csv --source a --source b --output s/index
du -sh s/index/index.redb
/usr/bin/time -f "add: %e s wall, %U s user, %S s sys, %M KB peak" "$PL" index add --index s/index \
    --input s/c_month.enc.csv --source c --output s/assigned.csv
cut -d, -f5 s/assigned.csv | tail -n +2 | sort | uniq -c
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
