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
        # The driver is the executor in local mode: 1 GB (the default) ran out building a
        # broadcast late in the module once earlier tests' checkpoints held memory.
        .config("spark.driver.memory", "2g")
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


def assert_same_model(got: dict[str, Any], want: dict[str, Any]) -> None:
    """The model Spark trained is the CLI's field for field, but for the competing links' m, u
    and weights, which Spark sums over the pairs in an order of its own: to 1e-9."""
    got, want = dict(got), dict(want)
    g, w = got.pop("competition"), want.pop("competition")
    assert got == want
    assert w is not None, "the default schema weighs competing links"
    assert g["pairs"] == w["pairs"]
    assert [x["standing"] for x in g["levels"]] == [x["standing"] for x in w["levels"]]
    for x, y in zip(g["levels"], w["levels"], strict=True):
        for k in ("m", "u", "weight"):
            assert abs(x[k] - y[k]) < 1e-9, (x, y)


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
        assert m["pair_stats"] == cli_manifest["pair_stats"]
        assert result.rejected.count() == 0
    finally:
        result.unpersist()


def test_pair_statistics_of_many_partitions_are_the_whole_extracts(session, files):
    """More rows than the random sample holds, in partitions of unequal sizes: the statistics
    the driver counts from the partitions' samples are those of encoding every row at once."""
    schema = pseudolink.Schema.example()
    firsts, lasts = ["Ann", "Bob", "Cat", "Dan", "Eve", "Fay"], ["Lee", "Kay", "Roe", "Poe"]
    rows = [
        {
            "record_id": f"R{i}",
            "first_name": firsts[i % 6],
            "last_name": lasts[(i // 6) % 4],
            "date_of_birth": f"19{50 + i % 50}-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "postcode": f"CV{1 + i // 3 % 9} {i // 3 % 10}AB",
            "address_line_1": f"{i // 3} High Street",
        }
        for i in range(6000)
    ]
    ddl = ", ".join(f"{c} string" for c in rows[0])
    df = session.createDataFrame(rows, ddl).repartition(5)
    result = pls.encode(df, schema, secret_file=str(files / "k.hex"))
    try:
        secret = pseudolink.Secret.from_file(str(files / "k.hex"))
        whole = pseudolink.encode(rows, schema, secret).manifest["pair_stats"]
        stats = result.manifest["pair_stats"]
        assert whole["random_records"] == pseudolink._native.RANDOM_SAMPLE
        assert whole["household_pairs"] > 0
        assert stats == whole
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
    """With the CLI's model (which weighs competing links, as the default schema does): the
    CLI's links pair for pair, band for band, cluster for cluster, weights to 1e-9."""
    schema = pseudolink.Schema.from_file(files / "schema.json")
    assert json.loads((files / "model.json").read_text())["competition"] is not None
    # In file order (one partition each), so that clusters are numbered as the CLI numbers them.
    left = read_csv(session, files / "agency_a.enc.csv", 1)
    right = read_csv(session, files / "agency_b.enc.csv", 1)
    result = pls.link(
        left, right, schema, model=str(files / "model.json"), threshold=0.9,
        review_threshold=0.3, cluster_support=0,
    )  # fmt: skip
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
    compared = 0
    for row in table:
        pair = (row["left_id"], row["right_id"])
        if pair in got:
            compared += 1
            assert abs(got[pair]["match_weight"] - row["match_weight"]) < 1e-9
            assert abs(got[pair]["match_probability"] - row["match_probability"]) < 1e-9
    assert compared == len(got)
    result.unpersist()


def test_a_model_without_competing_links_links_as_before(session, files, cli, tmp_path):
    """A model without competing links (trained before them, or with them off): the pairs keep
    the weights the comparisons give, as the CLI keeps them; with them, some weights move."""
    model = json.loads((files / "model.json").read_text())
    model["competition"] = None
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(model))
    a, b = files / "agency_a.enc.csv", files / "agency_b.enc.csv"
    out = tmp_path / "cli.csv"
    run_cli(cli, "link", "--left", a, "--right", b, "--schema", files / "schema.json",
            "--output", out, "--model", bare, "--review-threshold", "0.3")  # fmt: skip
    want = cli_rows(out)
    assert len(want) > 100
    schema = pseudolink.Schema.from_file(files / "schema.json")
    left, right = read_csv(session, a, 2), read_csv(session, b, 2)
    got = spark_rows(pls.link(left, right, schema, model=str(bare), review_threshold=0.3))
    assert {p: v[:2] for p, v in got.items()} == {p: v[:2] for p, v in want.items()}
    assert clusters_of(got) == clusters_of(want)
    weighed = spark_rows(
        pls.link(left, right, schema, model=str(files / "model.json"), review_threshold=0.3)
    )
    moved = [p for p in set(got) & set(weighed) if got[p][1] != weighed[p][1]]
    assert len(moved) > 10


def test_skipped_blocks_are_reported_as_the_cli_reports_them(session, files, cli, tmp_path):
    """Blocks over ``max_block_size`` are skipped: the report per rule, the list of the largest
    skipped blocks and the links equal the CLI's (the pairs of a skipped block come from later
    rules, each pair still once). Agency a's first records are repeated under new ids, 2 to 4
    times, so that their tokens' blocks hold 3 to 5 records of it (the limit here is 3)."""
    small = json.loads((files / "schema.json").read_text())
    small["link"]["max_block_size"] = 3
    schema_file = tmp_path / "small.json"
    schema_file.write_text(json.dumps(small))
    schema = pseudolink.Schema.from_file(schema_file)
    with open(files / "agency_a.enc.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    for i, row in enumerate(rows[1:9]):
        rows += [[f"copy{k}-{row[0]}", *row[1:]] for k in range(2 + i % 3)]
    a, b = tmp_path / "a.enc.csv", files / "agency_b.enc.csv"
    with open(a, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    out = tmp_path / "cli.csv"
    run_cli(cli, "link", "--left", a, "--right", b, "--schema", schema_file, "--output", out,
            "--model", files / "model.json", "--cluster-support", "0",
            "--allow-unverified")  # fmt: skip
    summary = json.loads((tmp_path / "cli.csv.summary.json").read_text())["blocking"]
    assert summary["skipped_blocks"] > 3
    result = pls.link(
        read_csv(session, a, 2), read_csv(session, b, 2), schema, model=str(files / "model.json"),
        cluster_support=0, skipped_listed=3,
    )  # fmt: skip
    try:
        assert result.blocking["candidate_pairs"] == summary["candidate_pairs"]
        keys = ("rule", "pairs", "new_pairs", "blocks", "skipped_blocks")
        assert [[r[k] for k in keys] for r in result.blocking["rules"]] == [
            [r[k] for k in keys] for r in summary["rules"]
        ]
        # The CLI lists the 100 largest: its first three are Spark's three.
        assert result.blocking["skipped"] == summary["largest_skipped"][:3]
        assert {p: v[:2] for p, v in spark_rows(result).items()} == {
            p: v[:2] for p, v in cli_rows(out).items()
        }
    finally:
        result.unpersist()


def test_a_parquet_extract_links_as_the_csv_one(session, files, tmp_path):
    """A Parquet encoded extract read by ``spark.read.parquet`` (binary columns) links to the
    links of its CSV form."""
    schema = pseudolink.Schema.from_file(files / "schema.json")
    out = tmp_path / "agency_a.enc.parquet"
    pseudolink.read_encoded(files / "agency_a.enc.csv", schema).write_csv(out)
    left = session.read.parquet(str(out))
    assert dict(left.dtypes)[left.columns[1]] == "binary"
    result = pls.link(
        left, read_csv(session, files / "agency_b.enc.csv", 1), schema,
        model=str(files / "model.json"), threshold=0.9, review_threshold=0.3, cluster_support=0,
    )  # fmt: skip
    assert spark_rows(result) == cli_rows(files / "cli.csv")


def spark_rows(result: Any) -> dict[tuple[str, str], tuple[str, str, int | None]]:
    """The links of a Spark result by pair; the result's persisted tables are then released, as
    docs/spark.md asks (in local mode they share the one JVM's memory with every later test)."""
    rows = {
        (r["left_id"], r["right_id"]): (
            r["band"],
            f"{r['match_weight']:.6f}",
            r["cluster_id"],
        )
        for r in result.links.collect()
    }
    result.unpersist()
    return rows


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
    # The default resolution (the guard against chaining, cluster support 0.5) on both sides.
    options = ["--model", model, "--threshold", "0.9"]
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
    frames = [read_csv(session, i, 1) for i in inputs]
    got = spark_rows(pls.link(frames, schema, model=str(model)))
    assert got == want
    # Training on the three (competing links estimated per record and other input): the
    # CLI's model and links.
    run_cli(cli, "link", *[x for i in inputs for x in ("--input", i)],
            "--schema", files / "schema.json", "--output", tmp_path / "three_trained.csv",
            "--save-model", tmp_path / "three_model.json")  # fmt: skip
    manifests = [str(i) + ".manifest.json" for i in inputs]
    trained = pls.link(frames, schema, manifests=manifests)
    assert_same_model(
        json.loads(trained.model_json), json.loads((tmp_path / "three_model.json").read_text())
    )
    want = cli_rows(tmp_path / "three_trained.csv")
    assert len(want) > 50
    assert spark_rows(trained) == want


def links_csv(rows: list[dict[str, Any]], path: Path) -> Path:
    """Spark's links as a links file (the columns `pseudolink evaluate` reads)."""
    names = ["left_id", "right_id", "match_weight", "match_probability", "band", "cluster_id"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=names, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else r[k]) for k in names})
    return path


def test_training_on_spark_gives_the_cli_model_and_links(session, files, synth, tmp_path):
    """Without a model, the pattern counts aggregated on Spark and fitted by the core give the
    model `pseudolink link` trains, field for field (the same candidate pairs and manifests), so
    the links (default guard, cluster_support 0.5) are the CLI's and so is F1."""
    schema = pseudolink.Schema.from_file(files / "schema.json")
    left = read_csv(session, files / "agency_a.enc.csv", 1)
    right = read_csv(session, files / "agency_b.enc.csv", 1)
    manifests = [str(files / f"agency_{x}.enc.csv.manifest.json") for x in "ab"]
    result = pls.link(left, right, schema, manifests=manifests)
    assert result.trained
    got_model = json.loads(result.model_json)
    want_model = json.loads((files / "model.json").read_text())
    # The competing links estimated on Spark: the CLI's, to 1e-9.
    assert_same_model(got_model, want_model)
    rows = [r.asDict() for r in result.links.collect()]
    got = {(r["left_id"], r["right_id"]): (r["band"], f"{r['match_weight']:.6f}", r["cluster_id"])
           for r in rows}  # fmt: skip
    want = cli_rows(files / "trained.csv")
    assert len(want) > 100
    assert got == want
    truth = synth / "truth.csv"
    f1_spark = pseudolink.evaluate(links_csv(rows, tmp_path / "spark.csv"), truth)["f1"]
    f1_cli = pseudolink.evaluate(files / "trained.csv", truth)["f1"]
    assert f1_cli > 0.9
    assert abs(f1_spark - f1_cli) <= 0.002
    # A manifest given as a dict does the same; no manifest at all is refused.
    as_dict = [json.loads(Path(m).read_text()) for m in manifests]
    again = pls.link(left, right, schema, manifests=as_dict)
    assert_same_model(json.loads(again.model_json), want_model)
    again.unpersist()
    result.unpersist()
    with pytest.raises(pseudolink.InvalidArgumentError, match="manifests"):
        pls.link(left, right, schema)
    with pytest.raises(pseudolink.FileError):
        pls.link(left, right, schema, manifests=[str(tmp_path / "none.json"), None])


def test_the_guard_and_one_to_one_equal_the_cli(session, files, cli, tmp_path):
    """With a model: the default guard against chaining, a stricter one and one-to-one give
    the CLI's links pair for pair, band for band, cluster for cluster."""
    schema = pseudolink.Schema.from_file(files / "schema.json")
    left = read_csv(session, files / "agency_a.enc.csv", 2)
    right = read_csv(session, files / "agency_b.enc.csv", 2)
    a, b = files / "agency_a.enc.csv", files / "agency_b.enc.csv"
    model = files / "model.json"
    cases: list[tuple[list[str], dict[str, Any]]] = [
        ([], {}),
        (["--cluster-support", "0.95"], {"cluster_support": 0.95}),
        # No merge passes the guard: the components of two records (resolved in Spark, not by
        # the core's resolve_component) are not clusters either.
        (["--cluster-support", "1"], {"cluster_support": 1.0}),
        (["--one-to-one"], {"one_to_one": True}),
    ]
    for n, (flags, kwargs) in enumerate(cases):
        out = tmp_path / f"cli{n}.csv"
        run_cli(cli, "link", "--left", a, "--right", b, "--schema", files / "schema.json",
                "--output", out, "--model", model, "--review-threshold", "0.3",
                *flags)  # fmt: skip
        want = cli_rows(out)
        assert len(want) > 100
        got = spark_rows(
            pls.link(left, right, schema, model=str(model), review_threshold=0.3, **kwargs)
        )
        # Clusters are numbered in the order of their first record; Spark's inputs here are in
        # another order (two partitions), so compare the partition into clusters.
        assert {p: v[:2] for p, v in got.items()} == {p: v[:2] for p, v in want.items()}, flags
        assert clusters_of(got) == clusters_of(want), flags
    with pytest.raises(pseudolink.InvalidArgumentError, match="two"):
        pls.link([left, right, left], schema, model=str(model), one_to_one=True)
    with pytest.raises(pseudolink.InvalidArgumentError, match="cluster_support"):
        pls.link(left, right, schema, model=str(model), cluster_support=2)


def test_spark_35s_pandas_resolution_equals_the_cli(session, files, cli, tmp_path, monkeypatch):
    """Spark 3.5 has no ``applyInArrow``: the components then go through ``applyInPandas``.
    With ``applyInArrow`` taken away, that path gives the CLI's links and clusters."""
    from pyspark.sql.pandas.group_ops import PandasGroupedOpsMixin

    calls = []
    apply_in_pandas = PandasGroupedOpsMixin.applyInPandas

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return apply_in_pandas(self, *args, **kwargs)

    monkeypatch.delattr(PandasGroupedOpsMixin, "applyInArrow", raising=False)  # none on 3.5
    monkeypatch.setattr(PandasGroupedOpsMixin, "applyInPandas", counted)
    schema = pseudolink.Schema.from_file(files / "schema.json")
    a, b = files / "agency_a.enc.csv", files / "agency_b.enc.csv"
    out = tmp_path / "cli.csv"
    run_cli(cli, "link", "--left", a, "--right", b, "--schema", files / "schema.json",
            "--output", out, "--model", files / "model.json", "--review-threshold", "0.3",
            "--cluster-support", "0.95")  # fmt: skip
    want = cli_rows(out)
    got = spark_rows(
        pls.link(
            read_csv(session, a, 2), read_csv(session, b, 2), schema,
            model=str(files / "model.json"), review_threshold=0.3, cluster_support=0.95,
        )
    )  # fmt: skip
    assert calls, "the components went through applyInPandas"
    assert any(len(c) > 2 for c in clusters_of(want)), "a component that needs the resolution"
    assert {p: v[:2] for p, v in got.items()} == {p: v[:2] for p, v in want.items()}
    assert clusters_of(got) == clusters_of(want)


def clusters_of(rows: dict[tuple[str, str], tuple[str, str, int | None]]) -> set[frozenset[str]]:
    """The clusters of links rows, as sets of (side, id), whatever their numbers."""
    members: dict[int, set[str]] = {}
    for (left, right), (_, _, c) in rows.items():
        if c is not None:
            members.setdefault(c, set()).update({"l" + left, "r" + right})
    return {frozenset(m) for m in members.values()}


CONNECT_SCRIPT = r"""
import json, sys
from pyspark.sql import SparkSession
import pseudolink
from pseudolink import spark as pls

d = sys.argv[1]
# A local Spark Connect server (the spark-connect jar ships with pyspark 4), and a client.
spark = (
    SparkSession.builder.remote("local[2]")
    .config("spark.sql.shuffle.partitions", "4")
    .config("spark.ui.enabled", "false")
    .getOrCreate()
)
assert type(spark).__module__.startswith("pyspark.sql.connect"), type(spark)
schema = pseudolink.Schema.from_file(f"{d}/schema.json")
read = lambda p: spark.read.csv(p, header=True, multiLine=True, escape='"')
extract = pls.encode(read(sys.argv[2]), schema, secret_file=f"{d}/k.hex")
encoded = sorted(tuple(r) for r in extract.encoded.collect())
# Linked as encoded on Spark, trained with the pair statistics of pls.encode's manifest.
left, right = extract.encoded, read(f"{d}/agency_b.enc.csv")
manifests = [extract.manifest, f"{d}/agency_b.enc.csv.manifest.json"]
linked = pls.link(left, right, schema, manifests=manifests)
links = sorted(
    (r["left_id"], r["right_id"], r["band"], f"{r['match_weight']:.6f}")
    for r in linked.links.collect()
)
print(json.dumps({"encoded": encoded, "model": json.loads(linked.model_json), "links": links}))
spark.stop()
"""


def test_spark_connect_runs_encode_and_training(files, synth, tmp_path):
    """Under Spark Connect (a local server, started from the jars pyspark ships): no
    sparkContext, no JVM code of ours; encoding, then training on that encoding with its
    manifest's pair statistics, give what the CLI gives."""
    pytest.importorskip("grpc")
    pytest.importorskip("google.rpc")
    import subprocess

    env = dict(os.environ, PYSPARK_PYTHON=sys.executable)
    result = subprocess.run(
        [sys.executable, "-c", CONNECT_SCRIPT, str(files), str(synth / "agency_a.csv")],
        capture_output=True, text=True, env=env, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    want_encoded = sorted(tuple(r.values()) for r in csv_rows(files / "agency_a.enc.csv"))
    assert [tuple(r) for r in out["encoded"]] == want_encoded
    assert_same_model(out["model"], json.loads((files / "model.json").read_text()))
    want = sorted(
        (r["left_id"], r["right_id"], r["band"], r["match_weight"])
        for r in csv_rows(files / "trained.csv")
    )
    assert [tuple(r) for r in out["links"]] == want
