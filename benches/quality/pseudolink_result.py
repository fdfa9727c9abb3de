"""Collects one pseudolink run of the quality benchmark into a result JSON.

Reads the links file and its summary, the output of `pseudolink evaluate` (the official numbers at
the run's threshold, which this script cross-checks) and the measured wall time. Adds the share of
true pairs among the output rows per match-probability band (calibration) and the number of
matches the model implies (lambda times the possible pairs) against the true number.

Usage: pseudolink_result.py LINKS.csv EVALUATE.json TRUTH.csv SECONDS MODE OUT.json
"""

import csv
import json
import sys

from evaluate import best_over_thresholds, read_truth, score_pairs

# Match-probability bands of the calibration table: [lo, hi); the last one includes 1.
BANDS = [(0.5, 0.9), (0.9, 0.99), (0.99, 0.9999), (0.9999, 1.01)]


def main():
    links, evaluate_json, truth_path, seconds, mode, out = sys.argv[1:7]
    truth = read_truth(truth_path)
    with open(links, newline="") as f:
        rows = list(csv.DictReader(f))
    with open(evaluate_json) as f:
        official = json.load(f)
    with open(links + ".summary.json") as f:
        summary = json.load(f)
    at = score_pairs([(r["left_id"], r["right_id"]) for r in rows if r["band"] == "match"], truth)
    if at["true_positives"] != official["true_positives"] or at["returned"] != (
        official["true_positives"] + official["false_positives"]
    ):
        raise SystemExit(f"pseudolink evaluate {official} disagrees with {at}")
    best = best_over_thresholds(
        [(r["left_id"], r["right_id"], float(r["match_weight"])) for r in rows], truth
    )
    model = summary["model"]
    bands = []
    for lo, hi in BANDS:
        in_band = [
            (r["left_id"], r["right_id"]) in truth
            for r in rows
            if lo <= float(r["match_probability"]) < hi
        ]
        bands.append({"band": [lo, min(hi, 1.0)], "rows": len(in_band), "true": sum(in_band)})
    possible = 1
    for i in summary["inputs"]:
        possible *= i["records"]
    result = {
        "tool": "pseudolink",
        "version": summary["library_version"],
        "mode": mode,
        "threshold": f"match probability {summary['thresholds']['match']}",
        "at_threshold": at,
        "best": best,
        "best_threshold": f"match weight {best['threshold']:.2f}"
        if best["threshold"] is not None
        else "",
        "candidate_pairs": summary["blocking"]["candidate_pairs"],
        "lambda": model["lambda"],
        # The model's total (the matches among the candidate pairs and its estimate of those
        # blocking missed); λ times the possible pairs for a model without it.
        "implied_matches": model["training"].get("implied_matches", model["lambda"] * possible),
        "candidate_matches": model["training"].get("candidate_matches", model["lambda"] * possible),
        "true_pairs": len(truth),
        "bands": bands,
        "em_iterations": model["training"]["em_iterations"],
        "em_converged": model["training"]["em_converged"],
        "resolution": summary["resolution"]["method"],
        "link_timings": summary["timings"],
        "warnings": summary["warnings"],
        "seconds": float(seconds),
    }
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
    print(
        f"pseudolink {mode}: implied matches {result['implied_matches']:,.0f} "
        f"(true {len(truth):,}); share of true pairs among rows with p in "
        + ", ".join(
            f"[{b['band'][0]}, {b['band'][1]}{']' if b['band'][1] == 1.0 else ')'}: "
            f"{b['true'] / b['rows'] if b['rows'] else float('nan'):.3f} of {b['rows']}"
            for b in bands
        )
    )


if __name__ == "__main__":
    main()
