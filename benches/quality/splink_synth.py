"""Splink (cleartext, DuckDB backend) on the synthetic extracts, scored pairwise against truth.csv.

The model a competent user would build (see docs/benchmarks-quality.md):
- data standardised by clean.py (case, accents, ISO dates, M/F, postcodes, NHS numbers);
- comparisons: first and last name (exact, Jaro-Winkler 0.92 / 0.88 / 0.7, term-frequency
  adjusted), middle name (exact, Jaro-Winkler 0.88), date of birth (exact, one edit, same
  year-month, same year), postcode (exact, sector, district, area), address (exact, Jaro-Winkler
  0.9 / 0.8), NHS number (exact), sex (exact);
- blocking rules as in pseudolink's default schema: NHS number; date of birth; postcode + first
  initial; first name + year of birth; last name + year of birth; Soundex of first and last names;
- lambda from deterministic rules (NHS number; first name + last name + date of birth) with an
  assumed recall of 0.8; u by random sampling (1e7 pairs, seeded); m by EM over three training
  blocking rules (date of birth; first + last name; postcode);
- predict, then links = match probability >= the threshold (0.9 by default, chosen without looking
  at the truth). The best F1 over all thresholds is also reported, labelled as such.

Usage: splink_synth.py LEFT.csv RIGHT.csv TRUTH.csv OUT.json [THRESHOLD]
"""

import json
import logging
import sys
import time

import jellyfish
import pandas as pd

import clean
from evaluate import best_over_thresholds, read_truth, score_pairs


def frame(path):
    df = pd.DataFrame(clean.read_clean(path))
    df = df.rename(columns={"record_id": "unique_id"})
    df = df.replace("", None)
    sx = lambda v: jellyfish.soundex(v) if v else None  # noqa: E731
    df["first_name_soundex"] = df["first_name"].map(sx)
    df["last_name_soundex"] = df["last_name"].map(sx)
    df["first_initial"] = df["first_name"].str[:1]
    df["year"] = df["date_of_birth"].str[:4]
    return df


def main():
    left, right, truth_path, out = sys.argv[1:5]
    threshold = float(sys.argv[5]) if len(sys.argv) > 5 else 0.9
    logging.getLogger("splink").setLevel(logging.WARNING)
    import splink
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import ColumnExpression, DuckDBAPI, Linker, SettingsCreator, block_on

    t0 = time.perf_counter()
    df_l, df_r = frame(left), frame(right)
    dob = "date_of_birth"
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("last_name").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("middle_name", [0.88]),
            cl.CustomComparison(
                output_column_name=dob,
                comparison_levels=[
                    cll.NullLevel(dob),
                    cll.ExactMatchLevel(dob),
                    cll.DamerauLevenshteinLevel(dob, 1),
                    cll.ExactMatchLevel(ColumnExpression(dob).substr(1, 7)),
                    cll.ExactMatchLevel(ColumnExpression(dob).substr(1, 4)),
                    cll.ElseLevel(),
                ],
            ),
            cl.PostcodeComparison("postcode"),
            cl.JaroWinklerAtThresholds("address_line_1", [0.9, 0.8]),
            cl.ExactMatch("nhs_number"),
            cl.ExactMatch("sex"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("nhs_number"),
            block_on(dob),
            block_on("postcode", "first_initial"),
            block_on("first_name", "year"),
            block_on("last_name", "year"),
            block_on("first_name_soundex", "last_name_soundex"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    db = DuckDBAPI()
    sdf_l = db.register(df_l, table_name="agency_a")
    sdf_r = db.register(df_r, table_name="agency_b")
    linker = Linker([sdf_l, sdf_r], settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("nhs_number"), block_on("first_name", "last_name", dob)], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    for rule in (block_on(dob), block_on("first_name", "last_name"), block_on("postcode")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    preds = linker.inference.predict(threshold_match_probability=None).as_pandas_dataframe()
    elapsed = time.perf_counter() - t0

    a_ids = set(df_l["unique_id"])
    scored = []
    for l, r, p, w in zip(preds["unique_id_l"], preds["unique_id_r"],
                          preds["match_probability"], preds["match_weight"]):
        if l not in a_ids:
            l, r = r, l
        scored.append((l, r, float(p), float(w)))
    truth = read_truth(truth_path)
    at = score_pairs([(l, r) for l, r, p, _ in scored if p >= threshold], truth)
    best = best_over_thresholds([(l, r, w) for l, r, _, w in scored], truth)
    result = {
        "tool": "Splink",
        "version": splink.__version__,
        "mode": "cleartext (DuckDB)",
        "threshold": f"match probability {threshold}",
        "at_threshold": at,
        "best": best,
        "best_threshold": f"match weight {best['threshold']:.2f}" if best["threshold"] is not None else "",
        "candidate_pairs": len(scored),
        "lambda": linker._settings_obj._probability_two_random_records_match,
        "seconds": elapsed,
    }
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps({k: result[k] for k in ("tool", "at_threshold", "best", "seconds")}, indent=1))


if __name__ == "__main__":
    main()
