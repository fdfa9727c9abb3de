#!/usr/bin/env python3
"""Rewrites the case tables of docs/robustness.md from cases.json (between the markers
<!-- cases:start --> and <!-- cases:end -->). Run from anywhere: python3 tests/bad_inputs/table.py"""
import json
import os

here = os.path.dirname(os.path.abspath(__file__))
doc_path = os.path.join(here, "..", "..", "docs", "robustness.md")
d = json.load(open(os.path.join(here, "cases.json")))
groups = [("encode", "Raw extracts (`encode`)"), ("schema_check", "Schema files (`schema check`)"),
          ("check_key", "Secret files (`check-key`)"), ("link", "Encoded extracts and models (`link`)"),
          ("evaluate", "Links and truth files (`evaluate`)")]
out = []
for op, title in groups:
    out += [f"\n### {title}\n", "| case | input | outcome | decision |", "| --- | --- | --- | --- |"]
    for c in d["cases"]:
        if c["op"] != op:
            continue
        e = c["expect"]
        res = f"{e['kind']} (exit {e['exit']})"
        if "counts" in e:
            k = e["counts"]
            res += f"; {k['rows_read']} read = {k['encoded']} encoded + {k['rejected']} rejected"
        if "rejected_by_reason" in e:
            res += "; " + ", ".join(f"`{r}` {n}" for r, n in e["rejected_by_reason"].items())
        if "missing" in e:
            res += "; missing " + ", ".join(f"{f}: {r}" for f, rs in e["missing"].items() for r in rs)
        what = c["what"].replace("|", "/")
        extra = []
        if c["args"].get("rejects"):
            extra.append("with `--rejects`")
        if c["args"].get("allow_unverified"):
            extra.append("`--allow-unverified`")
        if extra:
            what += " (" + ", ".join(extra) + ")"
        out.append(f"| `{c['id']}` | {what} | {res} | {c['decision'].replace('|', '/')} |")
doc = open(doc_path).read()
start, end = "<!-- cases:start -->", "<!-- cases:end -->"
head, rest = doc.split(start)
_, tail = rest.split(end)
open(doc_path, "w").write(head + start + "\n" + "\n".join(out) + "\n\n" + end + tail)
print(f"{len(d['cases'])} cases written to {os.path.normpath(doc_path)}")
