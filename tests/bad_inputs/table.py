#!/usr/bin/env python3
"""Rewrites the case tables of docs/robustness.md from cases.json (between the markers
<!-- cases:start --> and <!-- cases:end -->), with the cases each binding skips. Run from anywhere:
python3 tests/bad_inputs/table.py; with --check it only fails if the page is out of date."""
import json
import os
import sys

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
bindings = [("python", "Python"), ("c", "C")]
skipped = [c for c in d["cases"] if c.get("skip")]
out.append("\n### Cases a binding skips\n")
if skipped:
    out += ["Every case runs through the CLI. The Python and C runners run every other case too; "
            "these they cannot express, for the reason given (the `skip` of the case in "
            "`cases.json`):\n",
            "| case | " + " | ".join(name for _, name in bindings) + " |",
            "| --- |" + " --- |" * len(bindings)]
    for c in skipped:
        cells = [c["skip"].get(b, "runs").replace("|", "/") for b, _ in bindings]
        out.append(f"| `{c['id']}` | " + " | ".join(cells) + " |")
else:
    out.append("None: every case runs through the CLI, the Python package and the C library.")
counts = ", ".join(
    f"{name} {sum(1 for c in d['cases'] if b not in c.get('skip', {}))}" for b, name in bindings)
out.append(f"\nCases run: CLI {len(d['cases'])}, {counts}.")
doc = open(doc_path).read()
start, end = "<!-- cases:start -->", "<!-- cases:end -->"
head, rest = doc.split(start)
_, tail = rest.split(end)
new = head + start + "\n" + "\n".join(out) + "\n\n" + end + tail
if "--check" in sys.argv[1:]:
    if new != doc:
        sys.exit(f"{os.path.normpath(doc_path)} is out of date: run python3 tests/bad_inputs/table.py")
    print(f"{os.path.normpath(doc_path)} lists the {len(d['cases'])} cases")
else:
    open(doc_path, "w").write(new)
    print(f"{len(d['cases'])} cases written to {os.path.normpath(doc_path)}")
