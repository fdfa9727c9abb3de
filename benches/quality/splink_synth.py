"""Splink (cleartext, DuckDB) on the synthetic extracts, set up as Splink's documentation says.

Each choice below follows a page or example of Splink's own documentation (benches/quality/
README.md lists which, and what was tried first); no threshold, level or stated recall was
picked with the truth:

- data standardised by clean.py (case, accents, ISO dates, M/F, postcodes, NHS numbers), plus
  the derived columns the docs' feature-engineering guide suggests (a phonetic code of each name,
  the house number of the address);
- names: first and last name each with exact (term-frequency adjusted), a level for first and
  last names swapped, Jaro-Winkler 0.92 / 0.88, a phonetic match and Jaro-Winkler 0.7 (the levels
  of `NameComparison`); the first name also with a first/middle name crossing level; middle name
  exact with term frequencies;
- date of birth: the levels of `DateOfBirthComparison` (exact, Damerau-Levenshtein 1, within a
  month, a year, ten years) plus a day/month swap level, which `DateOfBirthComparison` lacks;
- postcode and address in one comparison (they are strongly correlated): `PostcodeComparison`'s
  levels (full, sector, district, area) with the address's (exact, term-frequency adjusted; same
  house number; same house number and Jaro-Winkler >= 0.88);
- NHS number: `DamerauLevenshteinAtThresholds` 1; sex: exact;
- prediction blocking rules: ten strict rules (the docs: "many strict rules"), their cumulative
  comparison counts printed with `count_comparisons_from_blocking_rules`;
- lambda from deterministic rules with a stated recall (0.8, as the FEBRL4 example); u by random
  sampling (max_pairs 1e8, seeded; SPLINK_U_MAX_PAIRS overrides it while developing); m by EM in
  three sessions blocked on different rules, without term frequencies.

SPLINK_DEBUG=1 keeps the comparison columns and writes the predictions (Parquet) and the model
(JSON) beside OUT.json.

links = match probability >= the threshold (0.9 by default, chosen without looking at the truth);
the best F1 over every cut of the match weight is reported too, labelled as needing the truth.

Usage: splink_synth.py LEFT.csv RIGHT.csv TRUTH.csv OUT.json [THRESHOLD]
"""

import json
import logging
import os
import re
import sys
import time

import clean
import jellyfish
import pandas as pd
from evaluate import evaluate_scored_duckdb

# The deterministic rules' recall as a user would state it without the truth: Splink's FEBRL4
# example uses 0.8 for "ID or (first, last name and date of birth)".
DETERMINISTIC_RECALL = 0.8
U_MAX_PAIRS = float(os.environ.get("SPLINK_U_MAX_PAIRS", "1e8"))
HOUSE_NUMBER = re.compile(r"(\d+)[a-z]?\b")


def house_number(address):
    """The house number: the last number of the first line of address ('flat 3 45 x street' ->
    '45', '3/45 x street' -> '45')."""
    nums = HOUSE_NUMBER.findall(address or "")
    return nums[-1] if nums else None


def frame(path):
    df = pd.DataFrame(clean.read_clean(path)).rename(columns={"record_id": "unique_id"})
    df = df.replace("", None)
    for col in ("first_name", "last_name"):
        df[f"{col}_mp"] = df[col].map(lambda v: [jellyfish.metaphone(v)] if v else None)
    df["house_number"] = df["address_line_1"].map(house_number)
    return df


def name_comparison(cl, cll, col, other, middle=None):
    """`NameComparison`'s levels (docs: out-of-the-box comparisons) with crossing levels."""
    levels = [
        cll.NullLevel(col),
        cll.ExactMatchLevel(col).configure(tf_adjustment_column=col),
        cll.ColumnsReversedLevel(col, other, symmetrical=True).configure(
            label_for_charts="first and last names swapped"
        ),
    ]
    if middle is not None:
        levels.append(
            cll.CustomLevel(
                f'"{col}_l" = "{middle}_r" OR "{middle}_l" = "{col}_r"',
                label_for_charts=f"{col} equals the other's {middle}",
            )
        )
    levels += [
        cll.JaroWinklerLevel(col, 0.92),
        cll.JaroWinklerLevel(col, 0.88),
        cll.ArrayIntersectLevel(f"{col}_mp", min_intersection=1).configure(
            label_for_charts="phonetic (metaphone) match"
        ),
        cll.JaroWinklerLevel(col, 0.7),
        cll.ElseLevel(),
    ]
    return cl.CustomComparison(output_column_name=col, comparison_levels=levels)


def date_of_birth_comparison(cl, cll):
    """`DateOfBirthComparison(input_is_string=True)`'s levels plus a day/month swap level."""
    dob = "date_of_birth"
    levels = cl.DateOfBirthComparison(dob, input_is_string=True).create_comparison_levels()
    swap = cll.CustomLevel(
        'substr("date_of_birth_l", 1, 4) = substr("date_of_birth_r", 1, 4) AND '
        'substr("date_of_birth_l", 6, 2) = substr("date_of_birth_r", 9, 2) AND '
        'substr("date_of_birth_l", 9, 2) = substr("date_of_birth_r", 6, 2)',
        label_for_charts="day and month swapped",
    )
    # after null, exact and Damerau-Levenshtein <= 1; before the date differences
    levels.insert(3, swap)
    return cl.CustomComparison(output_column_name=dob, comparison_levels=levels)


def location_comparison(cl, cll):
    """Postcode and address in one comparison: `PostcodeComparison`'s levels (full postcode,
    sector, district, area) with the address's (exact, term-frequency adjusted; same house
    number). The two are strongly correlated (one household, one postcode and address), and
    Fellegi-Sunter assumes comparisons are independent, so the docs compare correlated columns
    in one comparison (ForenameSurnameComparison's rationale) or drop one (FEBRL4 example)."""
    pc, addr, num = "postcode", "address_line_1", "house_number"
    pcx = cl.PostcodeComparison(pc).create_comparison_levels()
    # [null, full, sector, district, area, else] of PostcodeComparison
    null_pc, full_pc, sector, district, area = pcx[:5]
    full_pc_alone = cl.PostcodeComparison(pc).create_comparison_levels()[1]
    return cl.CustomComparison(
        output_column_name="location",
        comparison_levels=[
            cll.And(null_pc, cll.NullLevel(addr)),
            cll.And(full_pc, cll.ExactMatchLevel(addr)).configure(
                tf_adjustment_column=addr, label_for_charts="same postcode and address"
            ),
            cll.And(full_pc, cll.ExactMatchLevel(num)).configure(
                label_for_charts="same postcode and house number"
            ),
            cll.ExactMatchLevel(addr).configure(
                tf_adjustment_column=addr, label_for_charts="same address, postcode differs"
            ),
            cll.And(cll.ExactMatchLevel(num), cll.JaroWinklerLevel(addr, 0.88)).configure(
                label_for_charts="same house number, similar address"
            ),
            full_pc_alone.configure(label_for_charts="same postcode, address differs"),
            sector,
            district,
            area,
            cll.ElseLevel(),
        ],
    )


def main():
    left, right, truth_path, out = sys.argv[1:5]
    threshold = float(sys.argv[5]) if len(sys.argv) > 5 else 0.9
    logging.basicConfig(format="%(message)s")
    logging.getLogger("splink").setLevel(logging.WARNING)
    import splink
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    t0 = time.perf_counter()
    df_l, df_r = frame(left), frame(right)
    t_prep = time.perf_counter() - t0
    print(f"read and cleaned {len(df_l)} + {len(df_r)} records in {t_prep:.1f} s", flush=True)

    dob = "date_of_birth"
    blocking_rules = [
        block_on("nhs_number"),
        block_on("first_name", "last_name"),
        block_on("first_name", dob),
        block_on("last_name", dob),
        block_on("postcode", "first_name"),
        block_on("postcode", dob),
        block_on("substr(first_name, 1, 3)", "substr(last_name, 1, 4)"),
        "l.first_name = r.last_name and l.last_name = r.first_name",
        block_on("substr(postcode, 1, 3)", dob),
        block_on("postcode", "house_number", "substr(first_name, 1, 1)"),
    ]
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            name_comparison(cl, cll, "first_name", "last_name", middle="middle_name"),
            name_comparison(cl, cll, "last_name", "first_name"),
            cl.ExactMatch("middle_name").configure(term_frequency_adjustments=True),
            date_of_birth_comparison(cl, cll),
            location_comparison(cl, cll),
            cl.DamerauLevenshteinAtThresholds("nhs_number", [1]),
            cl.ExactMatch("sex"),
        ],
        blocking_rules_to_generate_predictions=blocking_rules,
        retain_intermediate_calculation_columns=bool(os.environ.get("SPLINK_DEBUG")),
        retain_matching_columns=bool(os.environ.get("SPLINK_DEBUG")),
    )
    db = DuckDBAPI()
    sdf_l = db.register(df_l, table_name="agency_a")
    sdf_r = db.register(df_r, table_name="agency_b")
    counts = count_comparisons_from_blocking_rules(
        [sdf_l, sdf_r],
        blocking_rules=blocking_rules,
        link_type="link_only",
        record_sample_proportion=1.0 if len(df_l) * len(df_r) < 1e11 else 0.2,
    )
    for c in counts:
        print(
            f"  blocking rule {c['blocking_rule']}: +{c['marginal_comparison_count']:,} "
            f"(cumulative {c['cumulative_comparison_count']:,})",
            flush=True,
        )
    linker = Linker([sdf_l, sdf_r], settings, log_level=logging.WARNING)
    deterministic = [
        block_on("nhs_number"),
        block_on("first_name", "last_name", dob),
        block_on(dob, "postcode", "house_number"),
    ]
    linker.training.estimate_probability_two_random_records_match(
        deterministic, recall=DETERMINISTIC_RECALL
    )
    lam = linker._settings_obj._probability_two_random_records_match
    print(f"lambda {lam:.3e} (implied matches {lam * len(df_l) * len(df_r):,.0f})", flush=True)
    print(f"lambda estimated at {time.perf_counter() - t0:.1f} s", flush=True)
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=1)
    print(f"u estimated at {time.perf_counter() - t0:.1f} s", flush=True)
    training_rules = [
        block_on(dob),
        block_on("first_name", "last_name"),
        block_on("nhs_number"),
    ]
    for rule in training_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True
        )
    print(f"trained in {time.perf_counter() - t0:.1f} s", flush=True)
    preds = linker.inference.predict(threshold_match_probability=None)
    con = db.duckdb_con
    con.execute(f"""
        create or replace temp view splink_scored as
        select case when source_dataset_l = 'agency_a' then unique_id_l else unique_id_r end
                   as left_id,
               case when source_dataset_l = 'agency_a' then unique_id_r else unique_id_l end
                   as right_id,
               match_weight as score, match_probability as prob
        from {preds.physical_name}""")
    con.execute("create or replace temp table splink_scored_t as select * from splink_scored")
    if os.environ.get("SPLINK_DEBUG"):
        preds.as_duckdbpyrelation().write_parquet(out + ".predictions.parquet")
        linker.misc.save_model_to_json(out + ".model.json", overwrite=True)
    elapsed = time.perf_counter() - t0
    at, best, cand = evaluate_scored_duckdb(con, "splink_scored_t", truth_path, threshold)
    # Diagnostic (needs the truth): the real recall of the deterministic rules, against the
    # DETERMINISTIC_RECALL stated above.
    con.register("det_l", df_l)
    con.register("det_r", df_r)
    det_sql = " or ".join(
        f"({r.get_blocking_rule('duckdb').blocking_rule_sql})" for r in deterministic
    )
    det_query = f"""
        select avg(coalesce({det_sql}, false)::int) from bench_truth t
        join det_l l on l.unique_id = t.left_id join det_r r on r.unique_id = t.right_id"""
    det_recall = con.execute(det_query).fetchall()[0][0]
    print(f"deterministic rules' real recall {det_recall:.3f} (stated {DETERMINISTIC_RECALL})")
    result = {
        "tool": "Splink",
        "version": f"splink {splink.__version__}",
        "mode": "cleartext (DuckDB)",
        "threshold": f"match probability {threshold}",
        "at_threshold": at,
        "best": best,
        "best_threshold": f"match weight {best['threshold']:.2f}"
        if best["threshold"] is not None
        else "",
        **cand,
        "lambda": lam,
        "implied_matches": lam * len(df_l) * len(df_r),
        "deterministic_recall_stated": DETERMINISTIC_RECALL,
        "deterministic_recall_real": det_recall,
        "blocking_counts": [
            {k: c[k] for k in ("blocking_rule", "marginal_comparison_count")} for c in counts
        ],
        "prepare_seconds": t_prep,
        "seconds": elapsed,
    }
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps({k: result[k] for k in ("tool", "at_threshold", "best", "seconds")}, indent=1))


if __name__ == "__main__":
    main()
