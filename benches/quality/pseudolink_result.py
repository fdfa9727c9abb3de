"""Collects one pseudolink run of the quality benchmark into a result JSON.

Reads the links file and its summary, the output of `pseudolink evaluate` (the official numbers at
the run's threshold, which this script cross-checks) and the measured wall time.

Usage: pseudolink_result.py LINKS.csv EVALUATE.json TRUTH.csv SECONDS MODE OUT.json
"""

import csv
import json
import sys

from evaluate import best_over_thresholds, read_truth, score_pairs


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
            official["true_positives"] + official["false_positives"]):
        raise SystemExit(f"pseudolink evaluate {official} disagrees with {at}")
    best = best_over_thresholds(
        [(r["left_id"], r["right_id"], float(r["match_weight"])) for r in rows], truth)
    model = summary["model"]
    result = {
        "tool": "pseudolink",
        "version": summary["library_version"],
        "mode": mode,
        "threshold": f"match probability {summary['thresholds']['match']}",
        "at_threshold": at,
        "best": best,
        "best_threshold": f"match weight {best['threshold']:.2f}" if best["threshold"] is not None else "",
        "candidate_pairs": summary["blocking"]["candidate_pairs"],
        "lambda": model["lambda"],
        "em_iterations": model["training"]["em_iterations"],
        "em_converged": model["training"]["em_converged"],
        "resolution": summary["resolution"]["method"],
        "link_timings": summary["timings"],
        "warnings": summary["warnings"],
        "seconds": float(seconds),
    }
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
    a = result["at_threshold"]
    print(f"pseudolink {mode}: P {a['precision']:.4f} R {a['recall']:.4f} F1 {a['f1']:.4f} "
          f"(best over cuts {best['f1']:.4f}), lambda {model['lambda']:.6f}, {float(seconds):.1f} s")


if __name__ == "__main__":
    main()
