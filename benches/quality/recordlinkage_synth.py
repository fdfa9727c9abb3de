"""Python Record Linkage Toolkit (recordlinkage) on the synthetic extracts, as its docs say.

The toolkit's documented pipeline (benches/quality/README.md cites the pages):

- data standardised by clean.py, as for Splink;
- indexing: `recordlinkage.Index` with several `block` calls, whose union is taken ("repeating the
  process with different blocking variables", docs: Performance), the same strict rules as the
  Splink set-up: NHS number; first + last name; first name + date of birth; last name + date of
  birth; postcode + first name; postcode + date of birth; first three letters of the first name
  + first four of the last; first and last names swapped; postcode district + date of birth;
- comparison: `recordlinkage.Compare` with binary features as in the docs' "Link two datasets"
  guide: Jaro-Winkler >= 0.85 for first, middle and last names, Levenshtein >= 0.85 for the
  address, `date` for the date of birth (a day/month swap counts as agreement), exact postcode
  and sex, Damerau-Levenshtein >= 0.85 for the NHS number (one edit in ten digits); a missing
  value disagrees (the toolkit's default, "widely used in record linkage applications");
- classification: the unsupervised `ECMClassifier` (Fellegi-Sunter with EM, docs:
  Classification algorithms), fitted on all candidate pairs. Its own `predict` (posterior match
  probability > 0.5) is the user's threshold; the best F1 over every cut of its probability is
  reported too, labelled as needing the truth.

Usage: recordlinkage_synth.py LEFT.csv RIGHT.csv TRUTH.csv OUT.json
"""

import json
import logging
import sys
import time

import clean
import duckdb
import numpy as np
import pandas as pd
import recordlinkage as rl
from evaluate import evaluate_scored_duckdb

STRING_FEATURES = [
    ("first_name", "jarowinkler"),
    ("middle_name", "jarowinkler"),
    ("last_name", "jarowinkler"),
    ("address_line_1", "levenshtein"),
    ("nhs_number", "damerau_levenshtein"),
]


def frame(path):
    df = pd.DataFrame(clean.read_clean(path)).set_index("record_id")
    df = df.replace("", np.nan)
    df["dob"] = pd.to_datetime(df["date_of_birth"], format="%Y-%m-%d", errors="coerce")
    df["first3"] = df["first_name"].str[:3]
    df["last4"] = df["last_name"].str[:4]
    df["district"] = df["postcode"].str.split(" ").str[0]
    return df


def main():
    left, right, truth_path, out = sys.argv[1:5]
    logging.basicConfig(format="%(message)s", level=logging.WARNING)
    t0 = time.perf_counter()
    df_l, df_r = frame(left), frame(right)
    t_prep = time.perf_counter() - t0
    print(f"read and cleaned {len(df_l)} + {len(df_r)} records in {t_prep:.1f} s", flush=True)

    indexer = rl.Index()
    for cols in (
        ["nhs_number"],
        ["first_name", "last_name"],
        ["first_name", "date_of_birth"],
        ["last_name", "date_of_birth"],
        ["postcode", "first_name"],
        ["postcode", "date_of_birth"],
        ["first3", "last4"],
        ["district", "date_of_birth"],
    ):
        indexer.block(cols)
    indexer.block(left_on=["first_name", "last_name"], right_on=["last_name", "first_name"])
    pairs = indexer.index(df_l, df_r)
    t_index = time.perf_counter() - t0
    print(f"{len(pairs):,} candidate pairs ({t_index:.1f} s)", flush=True)

    compare = rl.Compare()
    for col, method in STRING_FEATURES:
        compare.string(col, col, method=method, threshold=0.85, label=col)
    compare.date("dob", "dob", swap_month_day=1.0, label="date_of_birth")
    compare.exact("postcode", "postcode", label="postcode")
    compare.exact("sex", "sex", label="sex")
    features = compare.compute(pairs, df_l, df_r)
    t_compare = time.perf_counter() - t0
    print(f"compared in {t_compare - t_index:.1f} s", flush=True)

    # Binary features for the 'jaro' initialisation: the date's partial agreements (0.5 for the
    # months the toolkit treats as commonly confused) count as agreement.
    ecm = rl.ECMClassifier(binarize=0.4)
    matches = ecm.fit_predict(features)
    prob = ecm.prob(features)
    elapsed = time.perf_counter() - t0
    print(f"ECM: p {ecm.p:.3e}, {len(matches):,} predicted matches ({elapsed:.1f} s)", flush=True)

    scored = pd.DataFrame(
        {
            "left_id": features.index.get_level_values(0),
            "right_id": features.index.get_level_values(1),
            "score": prob.to_numpy(),
            "prob": 0.0,
        }
    )
    scored.loc[features.index.isin(matches), "prob"] = 1.0
    con = duckdb.connect()
    con.register("rl_scored", scored)
    at, best, cand = evaluate_scored_duckdb(con, "rl_scored", truth_path, 0.5)
    result = {
        "tool": "recordlinkage",
        "version": f"recordlinkage {rl.__version__}",
        "mode": "cleartext, ECM on binary features",
        "threshold": "ECM's own predict (posterior > 0.5)",
        "at_threshold": at,
        "best": best,
        "best_threshold": f"ECM probability {best['threshold']:.4g}"
        if best["threshold"] is not None
        else "",
        **cand,
        "lambda": float(ecm.p),
        "implied_matches": float(ecm.p) * len(features),
        "m": {k: {str(a): float(b) for a, b in v.items()} for k, v in ecm.m_probs.items()},
        "u": {k: {str(a): float(b) for a, b in v.items()} for k, v in ecm.u_probs.items()},
        "prepare_seconds": t_prep,
        "index_seconds": t_index - t_prep,
        "compare_seconds": t_compare - t_index,
        "seconds": elapsed,
    }
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps({k: result[k] for k in ("tool", "at_threshold", "best", "seconds")}, indent=1))


if __name__ == "__main__":
    main()
