"""clkhash + anonlink on the synthetic extracts, scored pairwise against truth.csv.

- data standardised by clean.py, as for Splink;
- one CLK of 1024 bits per record (clkhash schema v3, clkhash_synth.schema.json): bigrams of
  first, middle and last name, address, postcode and NHS number; positional unigrams of the
  ISO date of birth; sex as an exact token; BLAKE2 hashing; empty values add nothing;
- anonlink: all-pairs candidate generation above a Dice threshold (0.8 by default, a common
  choice made without looking at the truth), then anonlink's greedy one-to-one solver. With
  within-file duplicates a one-to-one solver cannot recover every true pair: that is the point.
- The best F1 over thresholds (labelled as such) uses the greedy solution at a low threshold
  (0.65), cut at each similarity: greedy takes pairs in descending similarity, so its pairs at
  or above t are exactly those it returns when run at threshold t.

Usage: clk_anonlink.py LEFT.csv RIGHT.csv TRUTH.csv OUT.json [THRESHOLD]
"""

import csv
import io
import json
import sys
import time
from pathlib import Path

import anonlink
import clean
import clkhash
from clkhash import clk
from clkhash.schema import from_json_file
from evaluate import best_over_thresholds, read_truth, score_pairs

SCHEMA = Path(__file__).with_name("clkhash_synth.schema.json")
# The shared secret of the two agencies (a benchmark constant, as for pseudolink's keygen).
SECRET = "pseudolink benchmark secret, not for real data"
COLUMNS = ["record_id", *clean.CLEANERS]


def clks(path, schema):
    rows = clean.read_clean(path)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow([r[c] for c in COLUMNS])
    buf.seek(0)
    filters = clk.generate_clk_from_csv(
        buf, SECRET, schema, validate=True, header=True, progress_bar=False
    )
    return [r["record_id"] for r in rows], filters


def solve(filters, threshold):
    cands = anonlink.candidate_generation.find_candidate_pairs(
        filters, anonlink.similarities.dice_coefficient, threshold
    )
    sims, (dset0, dset1), (rec0, rec1) = cands
    sim = {}
    for s, d0, _d1, r0, r1 in zip(sims, dset0, dset1, rec0, rec1):
        key = (r0, r1) if d0 == 0 else (r1, r0)
        sim[key] = float(s)
    groups = anonlink.solving.greedy_solve(cands)
    pairs = []
    for g in groups:
        g = sorted(g)
        if len(g) == 2 and g[0][0] == 0 and g[1][0] == 1:
            pairs.append((g[0][1], g[1][1]))
    return pairs, sim, len(sims)


def main():
    left, right, truth_path, out = sys.argv[1:5]
    threshold = float(sys.argv[5]) if len(sys.argv) > 5 else 0.8
    low = min(0.65, threshold)
    with open(SCHEMA) as f:
        schema = from_json_file(f)
    truth = read_truth(truth_path)

    t0 = time.perf_counter()
    ids_l, f_l = clks(left, schema)
    ids_r, f_r = clks(right, schema)
    t_enc = time.perf_counter() - t0
    pairs, _sim, n_cand = solve([f_l, f_r], threshold)
    elapsed = time.perf_counter() - t0
    at = score_pairs([(ids_l[a], ids_r[b]) for a, b in pairs], truth)

    low_pairs, low_sim, _ = solve([f_l, f_r], low)
    best = best_over_thresholds(
        [(ids_l[a], ids_r[b], low_sim[(a, b)]) for a, b in low_pairs], truth
    )
    result = {
        "tool": "clkhash + anonlink",
        "version": f"clkhash {clkhash.__version__}, anonlink {anonlink.__version__}",
        "mode": "encoded (1024-bit CLK), greedy one-to-one",
        "threshold": f"Dice {threshold}",
        "at_threshold": at,
        "best": best,
        "best_threshold": f"Dice {best['threshold']:.3f}" if best["threshold"] is not None else "",
        "candidate_pairs": n_cand,
        "encode_seconds": t_enc,
        "seconds": elapsed,
    }
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps({k: result[k] for k in ("tool", "at_threshold", "best", "seconds")}, indent=1))


if __name__ == "__main__":
    main()
