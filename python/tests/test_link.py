"""Linking: the same links as `pseudolink link` / `dedupe` / `evaluate` on a synthetic pair."""

from __future__ import annotations

import json

import pytest

import pseudolink
from conftest import run_cli


@pytest.fixture(scope="module")
def setup(tmp_path_factory, synth, cli, vectors):
    """Both agencies' extracts encoded by the CLI, plus the schema and secret files."""
    d = tmp_path_factory.mktemp("link")
    secret_file = d / "k.hex"
    secret_file.write_text(vectors["secret_hex"] + "\n")
    secret_file.chmod(0o600)
    schema_file = d / "schema.json"
    schema_file.write_text(pseudolink.Schema.example().to_json())
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
    assert [f["field"] for f in explained["fields"]]
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
    with pytest.raises(TypeError):
        pseudolink.link(str(d / "agency_a.enc.csv"), left, schema)
    with pytest.raises(pseudolink.ModelError):
        pseudolink.Model.from_json("{}")
