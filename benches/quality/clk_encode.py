"""clkhash encoding speed on a synthetic extract (for benches/encode_peers.sh).

The extract is standardised first by clean.py, as for the quality benchmark (untimed: pseudolink
normalises inside its own timed run, so this favours clkhash), then encoded by clkhash into one
1024-bit CLK per record with the quality benchmark's schema (clkhash_synth.schema.json: bigrams of
the names, address, postcode and NHS number, positional unigrams of the date of birth, sex as a
token), the best of ROUNDS runs. clkhash spreads the work over every core itself.

Usage: clk_encode.py INPUT.csv [ROUNDS]
Prints one line: rows, best seconds, rows per second, the cleaning time, clkhash's version.
"""

import csv
import io
import sys
import time
from pathlib import Path

import clean
import clkhash
from clkhash import clk
from clkhash.schema import from_json_file

SCHEMA = Path(__file__).with_name("clkhash_synth.schema.json")
SECRET = "pseudolink benchmark secret, not for real data"
COLUMNS = ["record_id", *clean.CLEANERS]


def main():
    path = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with open(SCHEMA) as f:
        schema = from_json_file(f)
    t0 = time.perf_counter()
    rows = clean.read_clean(path)
    cleaning = time.perf_counter() - t0
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow([r[c] for c in COLUMNS])
    text = buf.getvalue()
    best = None
    for _ in range(rounds):
        t0 = time.perf_counter()
        filters = clk.generate_clk_from_csv(
            io.StringIO(text), SECRET, schema, validate=True, header=True, progress_bar=False
        )
        secs = time.perf_counter() - t0
        assert len(filters) == len(rows)
        best = secs if best is None else min(best, secs)
    print(
        f"clkhash {clkhash.__version__}: {len(rows)} rows, best of {rounds} {best:.2f} s, "
        f"{len(rows) / best:,.0f} rows/s (cleaning, untimed above: {cleaning:.2f} s)"
    )


if __name__ == "__main__":
    main()
