"""The bad-input corpus (tests/bad_inputs/cases.json) through the Python package.

Each case runs in a child Python process with a time limit, so a hang, an abort or a crash fails
its case instead of the whole session. The child calls the public API (``encode``,
``read_encoded``, ``link``, ``evaluate``, ``Schema.from_file``, ``Secret.from_file``) and reports
what happened; this process then checks the exception class against the case's kind, the message
(the core's; for a case that succeeds, the warning that carries it), the line, that a failed call
left no file behind, and, where rows were read, that the counts add up across the manifest, the
written extract and the rejects file.

A case this binding cannot express names ``python`` in its ``skip`` (with the reason) in
cases.json; every other case must run, so a new case is never silently untested.

Run one case: ``BAD_INPUT_CASE=raw-nul-byte pytest python/tests/test_bad_inputs.py``.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import traceback
import warnings
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "tests" / "bad_inputs"
MANIFEST = json.loads((CORPUS / "cases.json").read_text(encoding="utf-8"))
CASES = MANIFEST["cases"]
DEFAULTS = MANIFEST["defaults"]
BINDING = "python"
# Bindings that may be named in a case's `skip` (the CLI runs every case).
BINDINGS = {"python", "c"}
# The operations this runner knows how to express with the Python API.
OPS = {"encode", "schema_check", "check_key", "link", "evaluate"}
# Longest a case may run (the generated 10 MB and million-row files included, in a debug build).
TIME_LIMIT = 300
# The exception class of each error kind (all in `pseudolink`, all PseudolinkError).
EXCEPTION = {
    "invalid": "InvalidArgumentError",
    "input": "InputError",
    "schema": "SchemaError",
    "secret": "SecretError",
    "mismatch": "MismatchError",
    "io": "FileError",
    "model": "ModelError",
}
OUTPUTS = ("out.csv", "rejects.csv", "links.csv")
# The Python warnings that carry the core's warnings (what the CLI prints as "warning: ...").
CORE_WARNINGS = {"SecretPermissionWarning", "UnverifiedExtractWarning"}


def generate(recipe: list[dict[str, Any]], path: Path) -> None:
    """Writes a `generate` recipe (text parts, each repeated `repeat` times) to `path`, as the CLI
    runner does."""
    chunk = 1 << 20
    with path.open("wb") as f:
        for part in recipe:
            text = part["text"].encode("utf-8")
            left = int(part.get("repeat", 1))
            per_write = max(1, chunk // max(1, len(text)))
            while left > 0:
                n = min(left, per_write)
                f.write(text * n)
                left -= n


def file_arg(value: Any, name: str, work: Path) -> str:
    """A file argument: a path in the corpus, or a file generated into `work`."""
    if isinstance(value, str):
        return str(CORPUS / value)
    if isinstance(value, dict) and "generate" in value:
        path = work / f"{name}.generated.csv"
        generate(value["generate"], path)
        return str(path)
    raise AssertionError(f"bad file argument {value!r}")


def prepare(case: dict[str, Any], work: Path) -> dict[str, Any]:
    """The case's arguments with defaults filled in and files resolved (generated files written,
    the secret copied and given its mode): what the child process is given."""
    args = {**DEFAULTS, **case["args"]}
    plan: dict[str, Any] = {"op": case["op"], "work": str(work)}
    for key in ("schema", "input", "left", "right", "model", "links", "truth"):
        if key in args:
            plan[key] = file_arg(args[key], key, work)
    if "secret" in args:
        src = Path(file_arg(args["secret"], "secret", work))
        if src.is_file():
            dst = work / "secret.hex"
            dst.write_bytes(src.read_bytes())
            os.chmod(dst, int(args.get("secret_mode", "0600"), 8))
            src = dst
        plan["secret"] = str(src)
    plan["rejects"] = bool(args.get("rejects"))
    plan["allow_unverified"] = bool(args.get("allow_unverified"))
    return plan


# ---- the child: one case through the API --------------------------------------------------


def run_plan(plan: dict[str, Any]) -> dict[str, Any]:
    """Runs one case through the public API and reports the outcome (never raises)."""
    import pseudolink

    work = Path(plan["work"])
    report: dict[str, Any] = {"error": None, "warnings": []}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            op = plan["op"]
            if op == "encode":
                schema = pseudolink.Schema.from_file(plan["schema"])
                secret = pseudolink.Secret.from_file(plan["secret"])
                extract = pseudolink.encode(
                    plan["input"], schema, secret, strict=not plan["rejects"]
                )
                report["len"] = len(extract)
                report["rejected_rows"] = len(extract.rejected)
                rejects = work / "rejects.csv" if plan["rejects"] else None
                extract.write_csv(work / "out.csv", rejects=rejects)
            elif op == "schema_check":
                pseudolink.Schema.from_file(plan["schema"])
            elif op == "check_key":
                report["check_value"] = pseudolink.Secret.from_file(plan["secret"]).check_value
            elif op == "link":
                schema = pseudolink.Schema.from_file(plan["schema"])
                unverified = plan["allow_unverified"]
                left = pseudolink.read_encoded(plan["left"], schema, allow_unverified=unverified)
                right = pseudolink.read_encoded(plan["right"], schema, allow_unverified=unverified)
                model = None
                if "model" in plan:
                    text = Path(plan["model"]).read_text(encoding="utf-8")
                    model = pseudolink.Model.from_json(text)
                links = pseudolink.link(left, right, schema, model=model)
                report["links"] = len(links)
                links.write_csv(work / "links.csv")
            elif op == "evaluate":
                # The truth file is read by the core, as `pseudolink evaluate --truth` reads it.
                report["evaluation"] = pseudolink.evaluate(plan["links"], plan["truth"])
            else:
                raise AssertionError(f"unknown op {op}")
        except Exception as e:
            report["error"] = {
                "class": type(e).__name__,
                "module": type(e).__module__,
                "pseudolink": isinstance(e, pseudolink.PseudolinkError),
                "message": str(e),
                "line": getattr(e, "line", None),
                "traceback": traceback.format_exc(),
            }
        report["warnings"] = [
            {"category": w.category.__name__, "message": str(w.message)} for w in caught
        ]
    return report


# ---- this process: run a case in a child and check what it reports ------------------------


def csv_rows(path: Path) -> int:
    """Data rows of a CSV file with a header."""
    with path.open(newline="", encoding="utf-8") as f:
        return max(0, sum(1 for _ in csv.reader(f)) - 1)


def leftovers(work: Path) -> list[str]:
    """Output files (complete or partial) in the work folder."""
    found = []
    for p in work.rglob("*"):
        if p.name.endswith(".partial") or any(p.name.startswith(o) for o in OUTPUTS):
            found.append(p.name)
    return sorted(found)


def check(case: dict[str, Any], report: dict[str, Any], work: Path) -> list[str]:
    """What is wrong with a case's outcome, if anything."""
    problems: list[str] = []
    expect = case["expect"]
    kind = expect["kind"]
    error = report["error"]
    is_ok = kind.startswith("ok")
    if error is not None and not error["pseudolink"]:
        problems.append(f"raised {error['module']}.{error['class']}: {error['traceback']}")
    if error is not None and error["class"] == "InternalError":
        problems.append(f"a panic in the core: {error['message']}")
    if is_ok:
        if error is not None:
            problems.append(f"expected {kind}, raised {error['class']}: {error['message']}")
            return problems
    else:
        want = EXCEPTION[kind]
        if error is None:
            return [*problems, f"expected {want}, nothing raised"]
        if error["class"] != want:
            problems.append(f"raised {error['class']}, expected {want}: {error['message']}")
        if "message" in expect and expect["message"] not in error["message"]:
            problems.append(f"message lacks {expect['message']!r}: {error['message']}")
        if "line" in expect and error["line"] != expect["line"]:
            problems.append(f"line {error['line']}, expected {expect['line']}: {error['message']}")
        left = leftovers(work)
        if left:
            problems.append(f"a failed call left {left}")
        return problems
    partial = [n for n in leftovers(work) if n.endswith(".partial")]
    if partial:
        problems.append(f"partial files left: {partial}")
    # An ok case's message is a warning the CLI prints: here the same core warning issued as a
    # Python warning (SecretPermissionWarning, UnverifiedExtractWarning). Without a message, none
    # of those may be issued.
    core_warnings = [w for w in report["warnings"] if w["category"] in CORE_WARNINGS]
    if "message" in expect:
        if not any(expect["message"] in w["message"] for w in core_warnings):
            problems.append(f"no warning contains {expect['message']!r}: {report['warnings']}")
    elif core_warnings:
        problems.append(f"unexpected warnings: {core_warnings}")
    if case["op"] == "encode":
        problems += check_encoded(case, report, work)
    if case["op"] == "evaluate":
        got = report.get("evaluation") or {}
        for k, v in expect.get("evaluation", {}).items():
            if got.get(k) != v:
                problems.append(f"evaluation {k} = {got.get(k)}, expected {v}")
    if case["op"] == "link" and not (work / "links.csv").is_file():
        problems.append("no links file written")
    return problems


def check_encoded(case: dict[str, Any], report: dict[str, Any], work: Path) -> list[str]:
    problems = []
    expect = case["expect"]
    manifest_path = work / "out.csv.manifest.json"
    if not manifest_path.is_file():
        return ["no manifest written"]
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    counts = manifest["counts"]
    read, encoded, rejected = counts["rows_read"], counts["encoded"], counts["rejected"]
    if read != encoded + rejected:
        problems.append(f"counts do not add up: {counts}")
    if "counts" in expect and counts != expect["counts"]:
        problems.append(f"counts {counts}, expected {expect['counts']}")
    if csv_rows(work / "out.csv") != encoded or report["len"] != encoded:
        problems.append(
            f"{csv_rows(work / 'out.csv')} rows written, len() {report['len']}, "
            f"manifest says {encoded}"
        )
    rejects = work / "rejects.csv"
    listed = csv_rows(rejects) if rejects.is_file() else 0
    if listed != rejected or report["rejected_rows"] != rejected:
        problems.append(
            f"{listed} rows in the rejects file, {report['rejected_rows']} in .rejected, "
            f"manifest says {rejected}"
        )
    if (expect["kind"] == "ok_with_rejections") != (rejected > 0):
        problems.append(f"kind {expect['kind']} but {rejected} rows rejected")
    warned = any(w["category"] == "RejectedRowsWarning" for w in report["warnings"])
    if warned != (rejected > 0):
        problems.append(f"RejectedRowsWarning {warned}, {rejected} rows rejected")
    if manifest["rejected_by_reason"] != expect.get("rejected_by_reason", {}):
        problems.append(
            f"rejected_by_reason {manifest['rejected_by_reason']}, "
            f"expected {expect.get('rejected_by_reason', {})}"
        )
    for field, reasons in expect.get("missing", {}).items():
        if manifest["missing"].get(field) != reasons:
            problems.append(f"missing.{field} is {manifest['missing'].get(field)}, not {reasons}")
    if "ignored_columns" in expect and manifest["ignored_columns"] != expect["ignored_columns"]:
        problems.append(f"ignored_columns {manifest['ignored_columns']}")
    return problems


def skip_reason(case: dict[str, Any]) -> str | None:
    reason = case.get("skip", {}).get(BINDING)
    return str(reason) if reason is not None else None


ONLY = os.environ.get("BAD_INPUT_CASE")


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if ONLY is None or c["id"] == ONLY],
    ids=lambda c: str(c["id"]),
)
def test_case(case: dict[str, Any], tmp_path: Path) -> None:
    reason = skip_reason(case)
    if reason is not None:
        pytest.skip(f"the Python API cannot express it: {reason}")
    assert case["op"] in OPS, f"{case['id']}: op {case['op']} is neither run nor skipped"
    work = tmp_path / "work"
    work.mkdir()
    plan = prepare(case, work)
    plan_path = tmp_path / "plan.json"
    report_path = tmp_path / "report.json"
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    try:
        child = subprocess.run(
            [sys.executable, __file__, str(plan_path), str(report_path)],
            capture_output=True,
            text=True,
            timeout=TIME_LIMIT,
            cwd=work,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{case['id']}: still running after {TIME_LIMIT} s: a hang")
    if child.returncode != 0 or not report_path.is_file():
        pytest.fail(
            f"{case['id']}: the child process died (exit {child.returncode}: "
            f"a crash or abort)\n{child.stdout}\n{child.stderr}"
        )
    if "panicked" in child.stderr:
        pytest.fail(f"{case['id']}: a panic was printed:\n{child.stderr}")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    problems = check(case, report, work)
    assert not problems, f"{case['id']}:\n" + "\n".join(problems)


def test_every_case_is_run_or_skipped_with_a_reason() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)), "a case id is used twice"
    for c in CASES:
        skip = c.get("skip", {})
        assert isinstance(skip, dict), f"{c['id']}: skip must map a binding to a reason"
        unknown = set(skip) - BINDINGS
        assert not unknown, f"{c['id']}: skip names unknown bindings {unknown}"
        for binding, reason in skip.items():
            assert isinstance(reason, str), f"{c['id']}: the reason for {binding} is not text"
            assert reason.strip(), f"{c['id']}: no reason for skipping {binding}"
        assert c["op"] in OPS or BINDING in skip, f"{c['id']}: op {c['op']} not run, not skipped"
        assert c["expect"]["kind"] in MANIFEST["kinds"], f"{c['id']}: unknown kind"
        assert c["expect"]["kind"].startswith("ok") or c["expect"]["kind"] in EXCEPTION


def test_docs_list_what_each_binding_skips() -> None:
    """docs/robustness.md's tables, skips included, are what table.py makes of cases.json."""
    table = subprocess.run(
        [sys.executable, str(CORPUS / "table.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert table.returncode == 0, table.stderr


if __name__ == "__main__":
    # The child: python test_bad_inputs.py PLAN_JSON REPORT_JSON
    plan_arg = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    outcome = run_plan(plan_arg)
    Path(sys.argv[2]).write_text(json.dumps(outcome), encoding="utf-8")
