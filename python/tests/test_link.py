"""Linking: the same links as `pseudolink link` / `dedupe` / `evaluate` on a synthetic pair."""

from __future__ import annotations

import json
import shutil
import warnings

import pytest

import pseudolink
from conftest import run_cli, write_secret_and_schema


@pytest.fixture(scope="module")
def setup(tmp_path_factory, synth, cli, vectors):
    """Both agencies' extracts encoded by the CLI, plus the schema and secret files."""
    d = tmp_path_factory.mktemp("link")
    secret_file, schema_file = write_secret_and_schema(d, vectors)
    for agency in ("agency_a", "agency_b"):
        run_cli(
            cli, "encode", "--schema", schema_file, "--secret-file", secret_file,
            "--input", synth / f"{agency}.csv", "--output", d / f"{agency}.enc.csv",
            "--rejects", d / f"{agency}.rej.csv",
        )  # fmt: skip
    return d, schema_file, secret_file


def test_links_match_the_cli_byte_for_byte(setup, cli, synth, tmp_path):
    d, schema_file, secret_file = setup
    run_cli(
        cli, "link", "--left", d / "agency_a.enc.csv", "--right", d / "agency_b.enc.csv",
        "--schema", schema_file, "--output", tmp_path / "cli.links.csv",
        "--save-model", tmp_path / "cli.model.json",
    )  # fmt: skip
    schema = pseudolink.Schema.from_file(schema_file)
    secret = pseudolink.Secret.from_file(secret_file)
    # Encoded in Python from the raw CSVs, linked in memory.
    left = pseudolink.encode(synth / "agency_a.csv", schema, secret)
    right = pseudolink.encode(synth / "agency_b.csv", schema, secret)
    links = pseudolink.link(left, right, schema)
    links.write_csv(tmp_path / "py.links.csv")
    assert (tmp_path / "py.links.csv").read_bytes() == (tmp_path / "cli.links.csv").read_bytes()
    assert json.loads(links.model.to_json()) == json.loads(
        (tmp_path / "cli.model.json").read_text()
    )

    cli_summary = json.loads((tmp_path / "cli.links.csv.summary.json").read_text())
    s = links.summary
    assert s["mode"] == "link"
    assert (s["links"], s["match"], s["review"]) == (
        cli_summary["counts"]["links"], cli_summary["counts"]["match"],
        cli_summary["counts"]["review"],
    )  # fmt: skip
    assert s["candidate_pairs"] == cli_summary["blocking"]["candidate_pairs"]
    assert len(links) == s["links"] > 50

    table = links.to_arrow()
    assert table.column_names == [
        "left_id", "right_id", "match_weight", "match_probability", "band", "cluster_id",
    ]  # fmt: skip
    frame = links.to_pandas()
    assert len(frame) == len(links)
    assert set(frame["band"]) <= {"match", "review"}

    # Reusing the model gives the same links without training.
    again = pseudolink.link(
        left, right, schema, model=pseudolink.Model.from_json(links.model.to_json())
    )
    again.write_csv(tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_bytes() == (tmp_path / "py.links.csv").read_bytes()
    assert again.summary["trained"] is False


def test_evaluate_and_explain_match_the_cli(setup, cli, synth, tmp_path):
    d, schema_file, _ = setup
    schema = pseudolink.Schema.from_file(schema_file)
    left = pseudolink.read_encoded(d / "agency_a.enc.csv", schema)
    right = pseudolink.read_encoded(d / "agency_b.enc.csv", schema)
    links = pseudolink.link(left, right, schema, threshold=0.8, review_threshold=0.3)
    links.write_csv(tmp_path / "links.csv")
    truth_file = synth / "truth.csv"
    result = run_cli(cli, "evaluate", "--links", tmp_path / "links.csv", "--truth", truth_file)
    cli_eval = json.loads(result.stdout)
    pd = pytest.importorskip("pandas")
    truth = pd.read_csv(truth_file, dtype=str)
    for got in (
        pseudolink.evaluate(links, truth),
        pseudolink.evaluate(links, list(zip(truth["left_id"], truth["right_id"]))),
        pseudolink.evaluate(tmp_path / "links.csv", truth),
    ):
        for key in ("precision", "recall", "f1", "true_positives", "false_positives"):
            assert got[key] == cli_eval[key], key
    assert got["f1"] > 0.8

    first = links.to_arrow().to_pylist()[0]
    explained = links.explain(first["left_id"], first["right_id"])
    assert explained["match_weight"] == pytest.approx(first["match_weight"])
    assert explained["band"] == first["band"]
    assert [c["comparison"] for c in explained["comparisons"]]
    # The default schema weighs competing links: a linked pair has a standing, counted in.
    assert explained["competition"]["standing"] in ("alone", "ahead", "outranked")
    parts = explained["prior_weight"] + sum(c["weight"] for c in explained["comparisons"])
    assert parts + explained["competition"]["weight"] == pytest.approx(first["match_weight"])
    with pytest.raises(pseudolink.InvalidArgumentError):
        links.explain("no-such-id", first["right_id"])


def test_dedupe_and_clear_mode(setup, cli, synth, tmp_path):
    d, schema_file, _ = setup
    schema = pseudolink.Schema.from_file(schema_file)
    run_cli(
        cli, "dedupe", "--input", d / "agency_b.enc.csv", "--schema", schema_file,
        "--output", tmp_path / "cli.dedupe.csv",
    )  # fmt: skip
    links = pseudolink.dedupe(pseudolink.read_encoded(d / "agency_b.enc.csv", schema), schema)
    links.write_csv(tmp_path / "py.dedupe.csv")
    assert (tmp_path / "py.dedupe.csv").read_bytes() == (tmp_path / "cli.dedupe.csv").read_bytes()
    assert links.summary["mode"] == "dedupe"

    clear = pseudolink.link(synth / "agency_a.csv", synth / "agency_b.csv", schema, clear=True)
    assert clear.model.to_json()
    assert len(clear) > 50


def test_linking_refuses_extracts_that_do_not_belong_together(setup, synth):
    d, schema_file, _ = setup
    schema = pseudolink.Schema.from_file(schema_file)
    left = pseudolink.read_encoded(d / "agency_a.enc.csv", schema)
    other = pseudolink.encode(synth / "agency_b.csv", schema, pseudolink.Secret.generate())
    with pytest.raises(pseudolink.MismatchError, match="secret"):
        pseudolink.link(left, other, schema)
    with pytest.raises(pseudolink.InvalidArgumentError):
        pseudolink.link(left, left, schema, threshold=1.5)
    with pytest.raises(TypeError, match="not int"):
        pseudolink.link(3, left, schema)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="clear=True"):
        pseudolink.link(left, left, schema, clear=True)
    with pytest.raises(pseudolink.ModelError):
        pseudolink.Model.from_json("{}")


def test_paths_are_encoded_extracts_unless_clear(setup, tmp_path):
    """Without clear=True a path is read as read_encoded() reads it; with clear=True it is a raw
    CSV file (test_dedupe_and_clear_mode)."""
    d, schema_file, _ = setup
    schema = pseudolink.Schema.from_file(schema_file)
    a, b = d / "agency_a.enc.csv", d / "agency_b.enc.csv"
    in_memory = pseudolink.link(
        pseudolink.read_encoded(a, schema), pseudolink.read_encoded(b, schema), schema
    )
    in_memory.write_csv(tmp_path / "memory.csv")
    for left, right in ((a, b), (str(a), str(b)), (a, pseudolink.read_encoded(b, schema))):
        links = pseudolink.link(left, right, schema)
        links.write_csv(tmp_path / "paths.csv")
        assert (tmp_path / "paths.csv").read_bytes() == (tmp_path / "memory.csv").read_bytes()
    deduped = pseudolink.dedupe(str(b), schema)
    assert deduped.summary["mode"] == "dedupe"
    assert len(deduped) == len(pseudolink.dedupe(pseudolink.read_encoded(b, schema), schema))
    # A path is checked against its manifest and the schema, exactly as read_encoded() checks it.
    with pytest.raises(pseudolink.InputError, match="must travel with its manifest"):
        pseudolink.link(tmp_path / "missing.csv", b, schema)
    other = json.loads(schema.to_json())
    other["tokens"].append(["first_name", "sex"])
    with pytest.raises(pseudolink.MismatchError, match="was encoded under schema"):
        pseudolink.link(a, b, pseudolink.Schema.from_json(json.dumps(other)))


def copy_extract(src, dst, manifest=True):
    shutil.copy(src, dst)
    if manifest:
        shutil.copy(f"{src}.manifest.json", f"{dst}.manifest.json")
    return dst


def test_allow_unverified_reads_an_extract_without_its_manifest(setup, tmp_path):
    d, schema_file, _ = setup
    schema = pseudolink.Schema.from_file(schema_file)
    bare = copy_extract(d / "agency_a.enc.csv", tmp_path / "bare.enc.csv", manifest=False)
    right = d / "agency_b.enc.csv"
    with pytest.raises(pseudolink.InputError, match="must travel with its manifest"):
        pseudolink.read_encoded(bare, schema)
    with pytest.warns(pseudolink.UnverifiedExtractWarning, match="manifest not used for"):
        extract = pseudolink.read_encoded(bare, schema, allow_unverified=True)
    assert not extract.verified
    assert extract.manifest == {}
    assert "unverified" in repr(extract)
    assert len(extract) == len(pseudolink.read_encoded(d / "agency_a.enc.csv", schema))
    assert pseudolink.read_encoded(right, schema).verified
    # It is never given a manifest that vouches for it.
    with pytest.raises(pseudolink.InvalidArgumentError, match="allow_unverified"):
        extract.write_csv(tmp_path / "laundered.csv")
    assert not (tmp_path / "laundered.csv").exists()
    # Linking it says its schema and secret could not be confirmed, as the CLI's summary does.
    with pytest.warns(pseudolink.UnverifiedExtractWarning, match="has no usable manifest"):
        unverified = pseudolink.link(extract, right, schema)
    verified = pseudolink.link(d / "agency_a.enc.csv", right, schema)
    # Without its manifest the extract brings no pair statistics: u comes from the other's.
    assert any("no pair statistics" in w for w in unverified.summary["warnings"])
    assert abs(len(unverified) - len(verified)) <= len(verified) // 20
    # Given as paths: refused unless allowed.
    with pytest.raises(pseudolink.InputError, match="must travel with its manifest"):
        pseudolink.link(bare, right, schema)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        links = pseudolink.link(bare, right, schema, allow_unverified=True)
    messages = [str(w.message) for w in caught if w.category is pseudolink.UnverifiedExtractWarning]
    assert any("manifest not used" in m for m in messages), messages
    assert any("has no usable manifest" in m for m in messages), messages
    # The same records without a manifest, as a path or in memory: the same links.
    assert len(links) == len(unverified)


def test_allow_unverified_reads_an_altered_extract_with_a_warning(setup, synth, tmp_path):
    d, schema_file, _ = setup
    schema = pseudolink.Schema.from_file(schema_file)
    cut = copy_extract(d / "agency_a.enc.csv", tmp_path / "cut.enc.csv")
    lines = cut.read_bytes().splitlines(keepends=True)
    cut.write_bytes(b"".join(lines[:-2]))  # two whole rows lost: every row still parses
    with pytest.raises(pseudolink.MismatchError, match="does not match its manifest"):
        pseudolink.read_encoded(cut, schema)
    with pytest.warns(pseudolink.UnverifiedExtractWarning, match="does not match its manifest"):
        extract = pseudolink.read_encoded(cut, schema, allow_unverified=True)
    assert not extract.verified
    assert extract.manifest["counts"]["encoded"] == len(extract) + 2
    # A row cut in the middle cannot be read, allowed or not.
    cut.write_bytes(b"".join(lines[:-1]) + lines[-1][:40])
    with pytest.raises(pseudolink.InputError, match="truncated row"):
        pseudolink.read_encoded(cut, schema, allow_unverified=True)
    # Nor can a raw extract given as an encoded one.
    with pytest.raises(pseudolink.MismatchError, match="header does not match"):
        pseudolink.link(
            synth / "agency_a.csv", d / "agency_b.enc.csv", schema, allow_unverified=True
        )


def test_evaluate_refuses_truth_of_the_wrong_shape(setup, synth, tmp_path):
    d, schema_file, _ = setup
    schema = pseudolink.Schema.from_file(schema_file)
    links = pseudolink.link(d / "agency_a.enc.csv", d / "agency_b.enc.csv", schema)
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    truth_file = synth / "truth.csv"
    frame = pd.read_csv(truth_file, dtype=str)
    want = pseudolink.evaluate(links, frame)
    # The same pairs in every accepted shape give the same figures.
    pairs = list(zip(frame["left_id"], frame["right_id"]))
    for truth in (
        pairs, [list(p) for p in pairs], iter(pairs), truth_file, str(truth_file),
        pl.read_csv(truth_file), pa.Table.from_pandas(frame),
        {"left_id": list(frame["left_id"]), "right_id": list(frame["right_id"])},
    ):  # fmt: skip
        assert pseudolink.evaluate(links, truth) == want, type(truth)
    # Integer ids (a truth file read without dtype=str) are their text.
    numeric = pd.DataFrame({"left_id": [1, 2], "right_id": [3, 4]})
    assert pseudolink.evaluate(links, numeric)["false_negatives"] == 2

    bad = {
        "a DataFrame without right_id": (frame[["left_id"]], "no 'right_id' column"),
        "a polars DataFrame without left_id": (
            pl.read_csv(truth_file).drop("left_id"), "no 'left_id' column",
        ),
        "a dict without either": ({"a": [1]}, "no 'left_id' or 'right_id' column"),
        "a pair of three": ([pairs[0], (*pairs[1], "x")], "true pair 1 has 3 values, not 2"),
        "a pair of one": ([("a",)], "true pair 0 has 1 values, not 2"),
        "a string for a pair": (["ab"], "true pair 0 is of type str"),
        "a None id": ([("a", None)], "true pair 0: right_id is missing (None)"),
        "a NaN id": ([(float("nan"), "b")], "true pair 0: left_id is missing (NaN)"),
        "a float id": ([(1.5, "b")], "true pair 0: left_id is of type float"),
        "a NaN id in a DataFrame": (
            pd.DataFrame({"left_id": ["a", None], "right_id": ["b", "c"]}),
            "true pair 1: left_id is missing",
        ),
        "an empty id": ([("a", " ")], "true pair 0: empty record id"),
        "None": (None, "truth is None"),
        "a number": (3, "truth is of type int"),
    }  # fmt: skip
    for what, (truth, message) in bad.items():
        with pytest.raises(pseudolink.InvalidArgumentError) as e:
            pseudolink.evaluate(links, truth)
        assert message in str(e.value), (what, str(e.value))
    # A truth file is read by the core, as `pseudolink evaluate --truth` reads it.
    (tmp_path / "t.csv").write_text("left_id\nA1\n")
    with pytest.raises(pseudolink.InputError, match="no 'right_id' column") as e:
        pseudolink.evaluate(links, tmp_path / "t.csv")
    assert e.value.line == 1
