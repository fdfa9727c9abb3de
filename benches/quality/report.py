"""Prints the quality benchmark's Markdown tables from the result JSONs and checks the targets.

Usage: report.py RESULTS_DIR OUT.md
  reads RESULTS_DIR/<dataset>__<tool>.json, <dataset>.dataset.json and meta.json
"""

import json
import sys
from pathlib import Path

ORDER = [
    "pseudolink_encoded",
    "pseudolink_cleartext",
    "splink",
    "recordlinkage",
    "clkhash_anonlink",
]
PROFILES = ["realistic", "heavy"]


def load(d):
    runs, datasets = {}, {}
    for p in sorted(Path(d).glob("*.json")):
        if p.name == "meta.json":
            continue
        if p.name.endswith(".dataset.json"):
            datasets[p.name[: -len(".dataset.json")]] = json.loads(p.read_text())
        elif "__" in p.stem:
            ds, name = p.stem.split("__", 1)
            runs.setdefault(ds, {})[name] = json.loads(p.read_text())
    meta_path = Path(d) / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    return runs, datasets, meta


def ds_key(ds, datasets):
    if ds == "febrl4":
        return (0, 0, 0)
    info = datasets.get(ds, {})
    profile = info.get("profile", "")
    rank = PROFILES.index(profile) if profile in PROFILES else 99
    return (1, int(info.get("people", 0)), rank)


def ds_label(ds, datasets):
    if ds == "febrl4":
        return "FEBRL4 (5,000 x 5,000)"
    i = datasets.get(ds)
    if not i:
        return ds
    return (
        f"synth {int(i['people']):,} people, {i['profile']} (error rate {i['error_rate']}), "
        f"{int(i['records_a']):,} x {int(i['records_b']):,}"
    )


def fmt(x):
    return f"{x:.4f}"


def tool_order(name):
    return ORDER.index(name) if name in ORDER else 99


def main():
    runs, datasets, meta = load(sys.argv[1])
    out = sys.argv[2]
    at_rows = [
        "| data | tool | mode | precision | recall | F1 | threshold | wall time | peak RSS |",
        "| --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    best_rows = [
        "| data | tool | mode | precision | recall | best F1 | at "
        "| recall ceiling of the candidates |",
        "| --- | --- | --- | ---: | ---: | ---: | --- | ---: |",
    ]
    cal_rows = [
        "| data | mode | implied matches | true pairs | [0.5, 0.9) | [0.9, 0.99) | [0.99, 0.9999) "
        "| [0.9999, 1] |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    skipped, targets = [], []
    for ds in sorted(runs, key=lambda d: ds_key(d, datasets)):
        label = ds_label(ds, datasets)
        for name in sorted(runs[ds], key=tool_order):
            r = runs[ds][name]
            if "skipped" in r:
                skipped.append(f"- {label}: {r['tool']} skipped: {r['skipped']}")
                continue
            a, b = r["at_threshold"], r["best"]
            wall = r.get("wall_seconds", r.get("seconds", 0.0))
            rss = f"{r['peak_rss_mb']:,.0f} MB" if "peak_rss_mb" in r else ""
            at_rows.append(
                f"| {label} | {r['tool']} | {r['mode']} | {fmt(a['precision'])} "
                f"| {fmt(a['recall'])} | **{fmt(a['f1'])}** | {r['threshold']} | {wall:,.1f} s "
                f"| {rss} |"
            )
            ceiling = f"{r['recall_ceiling']:.4f}" if "recall_ceiling" in r else ""
            best_rows.append(
                f"| {label} | {r['tool']} | {r['mode']} | {fmt(b['precision'])} "
                f"| {fmt(b['recall'])} | {fmt(b['f1'])} | {r['best_threshold']} | {ceiling} |"
            )
            if "bands" in r:
                shares = [
                    f"{x['true'] / x['rows']:.3f} ({x['rows']:,})" if x["rows"] else "-"
                    for x in r["bands"]
                ]
                cal_rows.append(
                    f"| {label} | {r['mode']} | {r['implied_matches']:,.0f} "
                    f"| {r['true_pairs']:,} | " + " | ".join(shares) + " |"
                )
        targets += check_targets(ds, label, runs[ds])
    head = [
        f"Machine: {meta.get('machine', '?')}; load average {meta.get('load_start', '?')} at the "
        f"start, {meta.get('load_end', '?')} at the end. pseudolink {meta.get('pseudolink', '?')} "
        f"at `{meta.get('commit', '?')}`, {meta.get('date', '?')}; synth seed "
        f"{meta.get('seed', '?')}. Peers: {meta.get('peers', '?')}.",
        "",
    ]
    text = "\n".join(
        [
            *head,
            "### At the threshold a user would choose (no truth used)",
            "",
            "pseudolink: its default, match probability 0.9. Splink: match probability 0.9. "
            "recordlinkage: the ECM classifier's own prediction (posterior > 0.5). clkhash + "
            "anonlink: Dice 0.8 and anonlink's greedy one-to-one solver. Wall time and peak RSS: "
            "/usr/bin/time of the tool's processes (pseudolink: encoding both extracts and "
            "linking; "
            "the peers: the whole script, reading and cleaning the CSVs included).",
            "",
            *at_rows,
            "",
            "### Best F1 over all cuts of each tool's pair scores (needs the truth: not a user's "
            "choice)",
            "",
            "pseudolink and Splink: cuts of the pairwise match weight before any resolution "
            "(pseudolink's clusters can add pairs that no cut gives, so its F1 at the threshold "
            "may exceed this); recordlinkage: cuts of the ECM match probability; clkhash + "
            "anonlink: cuts of the Dice similarity of the greedy solution. Recall ceiling: the "
            "share of true pairs among the candidate pairs the tool scored (its blocking).",
            "",
            *best_rows,
            "",
            "### pseudolink: implied matches and calibration",
            "",
            "Share of true pairs among pseudolink's output rows per match-probability band (rows "
            "in brackets); implied matches: the model's lambda times the possible pairs.",
            "",
            *cal_rows,
            "",
        ]
        + (["### Skipped", "", *skipped, ""] if skipped else [])
        + ["### Targets (at the user's threshold)", "", *targets, ""]
    )
    Path(out).write_text(text)
    print(text)


def check_targets(ds, label, runs):
    def f1(name):
        r = runs.get(name, {})
        return r.get("at_threshold", {}).get("f1")

    out = []
    pl = f1("pseudolink_encoded")
    if ds == "febrl4" and pl is not None:
        out.append(
            f"- FEBRL4 encoded F1 >= 0.995: {fmt(pl)} -> {'MET' if pl >= 0.995 else 'MISSED'}"
        )
        return out
    for name, label_peer, op in (
        ("splink", "Splink", ">="),
        ("recordlinkage", "recordlinkage", ">="),
        ("clkhash_anonlink", "clkhash + anonlink", ">"),
    ):
        peer = f1(name)
        if pl is None or peer is None:
            continue
        met = pl >= peer if op == ">=" else pl > peer
        out.append(
            f"- {label}: pseudolink encoded F1 {op} {label_peer} F1: {fmt(pl)} vs {fmt(peer)} "
            f"-> {'MET' if met else 'MISSED'}"
        )
    return out


if __name__ == "__main__":
    main()
