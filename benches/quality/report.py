"""Prints the quality benchmark's Markdown tables from the result JSONs and checks the targets.

Usage: report.py RESULTS_DIR OUT.md   (reads RESULTS_DIR/<dataset>__<name>.json)
"""

import json
import sys
from pathlib import Path

DATASETS = {"febrl4": "FEBRL4 (5,000 x 5,000)", "synth20k": "synth 20,000 people, seed 42"}


def load(d):
    out = {}
    for p in sorted(Path(d).glob("*__*.json")):
        ds, name = p.stem.split("__", 1)
        out.setdefault(ds, {})[name] = json.loads(p.read_text())
    return out


def fmt(x):
    return f"{x:.4f}"


def main():
    results, out = load(sys.argv[1]), sys.argv[2]
    lines = ["| data | tool | mode | precision | recall | F1 | threshold | wall time |",
             "| --- | --- | --- | ---: | ---: | ---: | --- | ---: |"]
    best = ["| data | tool | mode | precision | recall | best F1 | at |",
            "| --- | --- | --- | ---: | ---: | ---: | --- |"]
    order = ["pseudolink_encoded", "pseudolink_cleartext", "splink", "clkhash_anonlink"]
    for ds in sorted(results, key=lambda d: list(DATASETS).index(d) if d in DATASETS else 99):
        runs = results[ds]
        for name in sorted(runs, key=lambda n: order.index(n) if n in order else 99):
            r = runs[name]
            a, b = r["at_threshold"], r["best"]
            lines.append(f"| {DATASETS.get(ds, ds)} | {r['tool']} | {r['mode']} | {fmt(a['precision'])} "
                         f"| {fmt(a['recall'])} | **{fmt(a['f1'])}** | {r['threshold']} | {r['seconds']:.1f} s |")
            best.append(f"| {DATASETS.get(ds, ds)} | {r['tool']} | {r['mode']} | {fmt(b['precision'])} "
                        f"| {fmt(b['recall'])} | {fmt(b['f1'])} | {r['best_threshold']} |")
    targets = []
    f = lambda ds, n: results.get(ds, {}).get(n, {}).get("at_threshold", {}).get("f1")  # noqa: E731
    febrl = f("febrl4", "pseudolink_encoded")
    if febrl is not None:
        targets.append(f"- FEBRL4 encoded F1 >= 0.995: {fmt(febrl)} -> {'MET' if febrl >= 0.995 else 'MISSED'}")
    pl, sp, ca = f("synth20k", "pseudolink_encoded"), f("synth20k", "splink"), f("synth20k", "clkhash_anonlink")
    if pl is not None and sp is not None:
        targets.append(f"- synth 20k: pseudolink encoded F1 >= Splink F1: {fmt(pl)} vs {fmt(sp)} -> "
                       f"{'MET' if pl >= sp else 'MISSED'}")
    if pl is not None and ca is not None:
        targets.append(f"- synth 20k: pseudolink encoded F1 > clkhash + anonlink F1: {fmt(pl)} vs {fmt(ca)} -> "
                       f"{'MET' if pl > ca else 'MISSED'}")
    text = "\n".join([
        "### At the threshold a user would choose (no truth used)", "", *lines, "",
        "### Best F1 over all cuts of each tool's pair scores (needs the truth: not a user's choice)", "",
        "pseudolink and Splink: cuts of the pairwise match weight before any resolution (pseudolink's "
        "clusters can add pairs that no cut gives, so its F1 at the threshold may exceed this); "
        "clkhash + anonlink: cuts of the Dice similarity of the greedy solution.", "",
        *best, "", "### Targets (issue 3, at the user's threshold)", "", *targets, ""])
    Path(out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
