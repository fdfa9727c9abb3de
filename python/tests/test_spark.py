"""pseudolink.spark: encoding and linking on Spark (local[2]) give what the CLI gives."""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

import pseudolink
from conftest import run_cli, write_secret_and_schema

if os.environ.get("PSEUDOLINK_REQUIRE_EXTRAS"):
    import pyspark  # noqa: F401
pytest.importorskip("pyspark")

from pseudolink import spark as pls


@pytest.fixture(scope="module")
def session():
    from pyspark.sql import SparkSession

    # The executors' Python is this one (the venv with the wheel), not the first on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("pseudolink-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "200")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    yield spark
    spark.stop()


@pytest.fixture(scope="module")
def files(tmp_path_factory, synth, cli, vectors):
    """The schema and secret files, both agencies encoded by the CLI, a model it trained and the
    links it makes with that model as plain connected components (`--cluster-support 0`)."""
    d = tmp_path_factory.mktemp("spark")
    secret, schema = write_secret_and_schema(d, vectors)
    for agency in ("agency_a", "agency_b"):
        run_cli(
            cli, "encode", "--schema", schema, "--secret-file", secret,
            "--input", synth / f"{agency}.csv", "--output", d / f"{agency}.enc.csv",
            "--rejects", d / f"{agency}.rej.csv",
        )  # fmt: skip
    run_cli(
        cli, "link", "--left", d / "agency_a.enc.csv", "--right", d / "agency_b.enc.csv",
        "--schema", schema, "--output", d / "trained.csv", "--save-model", d / "model.json",
    )  # fmt: skip
    run_cli(
        cli, "link", "--left", d / "agency_a.enc.csv", "--right", d / "agency_b.enc.csv",
        "--schema", schema, "--output", d / "cli.csv", "--model", d / "model.json",
        "--cluster-support", "0", "--threshold", "0.9", "--review-threshold", "0.3",
    )  # fmt: skip
    return d


def read_csv(session: Any, path: Path, partitions: int = 3) -> Any:
    """A CSV file as Spark reads one (every column a string), in several partitions."""
    df = session.read.csv(str(path), header=True, multiLine=True, escape='"')
    return df.repartition(partitions) if partitions > 1 else df


def csv_rows(path: Path) -> list[dict[str, str | None]]:
    with open(path, newline="", encoding="utf-8") as f:
        return [{k: (v or None) for k, v in row.items()} for row in csv.DictReader(f)]


def test_encode_equals_the_cli_value_for_value(session, files, synth):
    schema = pseudolink.Schema.from_file(files / "schema.json")
    df = read_csv(session, synth / "agency_a.csv")
    result = pls.encode(df, schema, secret_file=str(files / "k.hex"))
    try:
        cli_rows = csv_rows(files / "agency_a.enc.csv")
        assert result.columns == list(cli_rows[0])
        got = sorted((r.asDict() for r in result.encoded.collect()), key=lambda r: r["record_id"])
        want = sorted(cli_rows, key=lambda r: r["record_id"] or "")
        assert len(got) == len(want) > 100
        assert got == want
        cli_manifest = json.loads((files / "agency_a.enc.csv.manifest.json").read_text())
        m = result.manifest
        assert m["counts"] == cli_manifest["counts"]
        assert m["missing"] == cli_manifest["missing"]
        for key in ("schema_fingerprint", "key_check_value", "encoding_version", "columns"):
            assert m[key] == cli_manifest[key], key
        assert result.rejected.count() == 0
    finally:
        result.unpersist()


def test_rejected_rows_come_back_with_their_reasons(session, files):
    schema = pseudolink.Schema.example()
    rows = [
        {"record_id": f"R{i}", "first_name": "Ann", "date_of_birth": "2001-02-03"}
        for i in range(10)
    ]
    rows[6]["record_id"] = "R1"  # a duplicate, in another partition than its first row
    rows[8]["record_id"] = ""  # empty
    df = session.createDataFrame(rows, "record_id string, first_name string, date_of_birth string")
    df = df.coalesce(1).repartition(1)
    result = pls.encode(df, schema, secret_file=str(files / "k.hex"))
    try:
        c = result.manifest["counts"]
        assert c == {"rows_read": 10, "encoded": 8, "rejected": 2}
        rejected = sorted((r.asDict() for r in result.rejected.collect()), key=lambda r: r["line"])
        assert [(r["line"], r["reason"], r["field"]) for r in rejected] == [
            (8, "duplicate_record_id", "record_id"),
            (10, "empty_record_id", "record_id"),
        ]
        assert result.manifest["rejected_by_reason"] == {
            "duplicate_record_id": 1,
            "empty_record_id": 1,
        }
        # The same rows encoded in one process reject the same lines for the same reasons.
        local = pseudolink.encode(rows, schema, pseudolink.Secret.from_file(files / "k.hex"))
        assert [(r["line"], r["reason"]) for r in local.rejected] == [
            (r["line"], r["reason"]) for r in rejected
        ]
    finally:
        result.unpersist()


def error_of(call: Any) -> type[BaseException]:
    try:
        call()
    except Exception as e:
        return type(e)
    raise AssertionError("no error")


def test_bad_input_raises_the_error_kinds_used_elsewhere(session, files, tmp_path):
    schema = pseudolink.Schema.example()
    secret = str(files / "k.hex")
    # A secret file missing on the executors: what Secret.from_file raises.
    df = session.createDataFrame([("A1", "Ann")], "record_id string, first_name string")
    missing = str(tmp_path / "no-such.hex")
    want = error_of(lambda: pseudolink.Secret.from_file(missing))
    assert issubclass(want, pseudolink.PseudolinkError)
    with pytest.raises(want, match=r"no-such\.hex"):
        pls.encode(df, schema, secret_file=missing)
    # No record id column: what encode raises for the same table.
    import pyarrow as pa

    no_id = session.createDataFrame([("Ann",)], "first_name string")
    want = error_of(
        lambda: pseudolink.encode(
            pa.table({"first_name": ["Ann"]}), schema, pseudolink.Secret.from_file(secret)
        )
    )
    assert issubclass(want, pseudolink.PseudolinkError)
    with pytest.raises(want):
        pls.encode(no_id, schema, secret_file=secret)
    # A column of a type that is not a value (a map): InputError, naming the column.
    mapped = session.createDataFrame(
        [("A1", {"a": "b"})], "record_id string, first_name map<string,string>"
    )
    with pytest.raises(pseudolink.InputError, match="first_name"):
        pls.encode(mapped, schema, secret_file=secret)
    # Linking: an extract without a column, and a model file that does not exist.
    enc = read_csv(session, files / "agency_a.enc.csv", 1)
    with pytest.raises(pseudolink.InputError, match="first_name"):
        pls.link(enc.drop("first_name+date_of_birth"), enc, schema, model=str(files / "model.json"))
    with pytest.raises(pseudolink.FileError):
        pls.link(enc, enc, schema, model=str(tmp_path / "none.json"))
    with pytest.raises(pseudolink.InvalidArgumentError):
        pls.link(enc, enc, schema, model=str(files / "model.json"), threshold=1.5)


def test_link_with_a_model_equals_the_cli_pair_for_pair(session, files):
    schema = pseudolink.Schema.from_file(files / "schema.json")
    # In file order (one partition each), so that clusters are numbered as the CLI numbers them.
    left = read_csv(session, files / "agency_a.enc.csv", 1)
    right = read_csv(session, files / "agency_b.enc.csv", 1)
    result = pls.link(
        left, right, schema, model=str(files / "model.json"), threshold=0.9, review_threshold=0.3
    )
    got = {(r["left_id"], r["right_id"]): r.asDict() for r in result.links.collect()}
    want = {(r["left_id"], r["right_id"]): r for r in csv_rows(files / "cli.csv")}
    assert len(want) > 100
    assert set(got) == set(want)
    for pair, w in want.items():
        g = got[pair]
        assert g["band"] == w["band"], pair
        assert f"{g['match_weight']:.6f}" == w["match_weight"], pair
    # Clusters: the same ones, numbered alike (in order of each cluster's first record).
    assert {p: got[p]["cluster_id"] for p in got} == {
        p: (int(w["cluster_id"]) if w["cluster_id"] else None) for p, w in want.items()
    }
    summary = json.loads((files / "cli.csv.summary.json").read_text())
    assert result.blocking["candidate_pairs"] == summary["blocking"]["candidate_pairs"]
    assert [
        (r["rule"], r["pairs"], r["new_pairs"], r["blocks"], r["skipped_blocks"])
        for r in result.blocking["rules"]
    ] == [
        (r["rule"], r["pairs"], r["new_pairs"], r["blocks"], r["skipped_blocks"])
        for r in summary["blocking"]["rules"]
    ]
    # Weights to 1e-9 against the in-process engine (the CLI's file has 6 decimals).
    model = pseudolink.Model.from_json((files / "model.json").read_text())
    inproc = pseudolink.link(
        str(files / "agency_a.enc.csv"), str(files / "agency_b.enc.csv"), schema, model=model,
        threshold=0.9, review_threshold=0.3,
    )  # fmt: skip
    table = inproc.to_arrow().to_pylist()
    assert len(table) > 100
    for row in table:
        pair = (row["left_id"], row["right_id"])
        if pair in got:
            assert abs(got[pair]["match_weight"] - row["match_weight"]) < 1e-9


def spark_rows(result: Any) -> dict[tuple[str, str], tuple[str, str, int | None]]:
    return {
        (r["left_id"], r["right_id"]): (
            r["band"],
            f"{r['match_weight']:.6f}",
            r["cluster_id"],
        )
        for r in result.links.collect()
    }


def cli_rows(path: Path) -> dict[tuple[str, str], tuple[str, str, int | None]]:
    return {
        (r["left_id"] or "", r["right_id"] or ""): (
            r["band"] or "",
            r["match_weight"] or "",
            int(r["cluster_id"]) if r["cluster_id"] else None,
        )
        for r in csv_rows(path)
    }


def test_dedupe_and_three_inputs_equal_the_cli(session, files, cli, tmp_path):
    schema = pseudolink.Schema.from_file(files / "schema.json")
    model = files / "model.json"
    options = ["--model", model, "--cluster-support", "0", "--threshold", "0.9"]
    # Deduplicating one extract (the synthetic agencies hold some people twice).
    a = files / "agency_a.enc.csv"
    run_cli(cli, "dedupe", "--input", a, "--schema", files / "schema.json",
            "--output", tmp_path / "dedupe.csv", *options)  # fmt: skip
    want = cli_rows(tmp_path / "dedupe.csv")
    assert len(want) > 0
    got = spark_rows(pls.dedupe(read_csv(session, a, 1), schema, model=str(model)))
    assert got == want
    # Three inputs: every pair across two of them.
    run_cli(cli, "synth", "--people", "150", "--seed", "3", "--agencies", "3",
            "--out", tmp_path / "s3")  # fmt: skip
    inputs = []
    for agency in sorted(p.stem for p in (tmp_path / "s3").glob("agency_*.csv")):
        out = tmp_path / f"{agency}.enc.csv"
        run_cli(
            cli, "encode", "--schema", files / "schema.json", "--secret-file", files / "k.hex",
            "--input", tmp_path / "s3" / f"{agency}.csv", "--output", out,
            "--rejects", tmp_path / f"{agency}.rej.csv",
        )  # fmt: skip
        inputs.append(out)
    assert len(inputs) == 3
    run_cli(cli, "link", *[x for i in inputs for x in ("--input", i)],
            "--schema", files / "schema.json", "--output", tmp_path / "three.csv",
            *options)  # fmt: skip
    want = cli_rows(tmp_path / "three.csv")
    assert len(want) > 50
    got = spark_rows(pls.link([read_csv(session, i, 1) for i in inputs], schema, model=str(model)))
    assert got == want
