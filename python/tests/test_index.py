"""The person index (pseudolink.Index): the same ids and answers as `pseudolink index`."""

from __future__ import annotations

import csv

import pytest

import pseudolink
from conftest import run_cli, write_secret_and_schema


@pytest.fixture(scope="module")
def setup(tmp_path_factory, synth, cli, vectors):
    """Agency a encoded whole and agency b in two halves, by the CLI."""
    d = tmp_path_factory.mktemp("index")
    secret_file, schema_file = write_secret_and_schema(d, vectors)
    lines = (synth / "agency_b.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    half = (len(lines) - 1) // 2
    (d / "b1.csv").write_text("".join(lines[: half + 1]), encoding="utf-8")
    (d / "b2.csv").write_text(lines[0] + "".join(lines[half + 1 :]), encoding="utf-8")
    (d / "a.csv").write_text((synth / "agency_a.csv").read_text(encoding="utf-8"), encoding="utf-8")
    for name in ("a", "b1", "b2"):
        run_cli(
            cli, "encode", "--schema", schema_file, "--secret-file", secret_file,
            "--input", d / f"{name}.csv", "--output", d / f"{name}.enc.csv",
        )  # fmt: skip
    return d, schema_file


def test_index_gives_the_cli_s_ids_and_assignments(setup, cli, tmp_path):
    d, schema_file = setup
    inputs = [d / "a.enc.csv", d / "b1.enc.csv"]
    run_cli(
        cli, "index", "create", "--schema", schema_file, "--input", inputs[0], "--input",
        inputs[1], "--source", "a", "--source", "b", "--output", tmp_path / "cli",
    )  # fmt: skip
    run_cli(
        cli, "index", "add", "--index", tmp_path / "cli", "--input", d / "b2.enc.csv",
        "--source", "b", "--output", tmp_path / "cli.assigned.csv",
    )  # fmt: skip
    run_cli(cli, "index", "export", "--index", tmp_path / "cli", "--output", tmp_path / "cli.csv")

    schema = pseudolink.Schema.from_file(schema_file)
    with pseudolink.Index.create(tmp_path / "py", schema, inputs, sources=["a", "b"]) as index:
        assert index.sources == ["a", "b"]
        n = len(index)
        assigned = index.add(d / "b2.enc.csv", source="b", output=tmp_path / "py.assigned.csv")
        assert len(index) == n + len(assigned)
        index.write_export(tmp_path / "py.csv")
        exported = index.export()
        merges = index.merges()
    assert (tmp_path / "py.csv").read_bytes() == (tmp_path / "cli.csv").read_bytes()
    assert (tmp_path / "py.assigned.csv").read_bytes() == (
        tmp_path / "cli.assigned.csv"
    ).read_bytes()
    with open(tmp_path / "cli.csv", newline="") as f:
        assert exported == list(csv.DictReader(f))
    bands = {a["band"] for a in assigned}
    assert "match" in bands
    for a in assigned:
        assert a["person_id"].startswith("P")
        if a["band"] == "match":
            assert a["match_probability"] >= 0.9
    for m in merges:
        assert m["surviving"] < m["retired"]
        assert m["evidence"]


def test_match_row_remove_and_errors(setup, tmp_path):
    d, schema_file = setup
    schema = pseudolink.Schema.from_file(schema_file)
    index = pseudolink.Index.create(
        tmp_path / "idx", schema, [d / "a.enc.csv", d / "b1.enc.csv"], sources=["a", "b"]
    )
    row = (d / "b2.enc.csv").read_text(encoding="utf-8").splitlines()[1]
    asked = index.match_row("b", row)
    assert asked["band"] in ("match", "review", "new")
    assert index.match_row("b", row) == asked  # nothing was stored
    added = index.add(d / "b2.enc.csv", source="b")
    first = next(a for a in added if a["record_id"] == asked["record_id"])
    if asked["person_id"] is not None:
        assert first["person_id"] == asked["person_id"]
    # The same extract again is refused, naming the file, line and field.
    with pytest.raises(pseudolink.InputError, match=r"b2\.enc\.csv, line 2"):
        index.add(d / "b2.enc.csv", source="b")
    with pytest.raises(pseudolink.InputError):
        index.match_row("b", "x,not-hex")
    n = len(index)
    removed = index.remove("b", [first["record_id"]])
    assert removed["removed"] == 1
    assert removed["splits"] == []  # a single record of b: no person of a depends on it
    assert len(index) == n - 1
    gone = first["record_id"]
    assert not any(m["record_id"] == gone and m["source"] == "b" for m in index.export())
    with pytest.raises(pseudolink.InvalidArgumentError, match="not in the index"):
        index.remove("b", [first["record_id"]])
    # One process at a time.
    with pytest.raises(pseudolink.FileError, match="in use"):
        pseudolink.Index(tmp_path / "idx")
    index.close()
    index.close()
    with pytest.raises(pseudolink.InvalidArgumentError, match="closed"):
        len(index)
    with pseudolink.Index(tmp_path / "idx") as again:
        assert len(again) == n - 1
    with pytest.raises(pseudolink.InvalidArgumentError, match="holds no person index"):
        pseudolink.Index(tmp_path / "nothing")


def test_remove_returns_the_splits_it_lists(cli, vectors, tmp_path):
    """Duplicates within agency a joined only through agency b's record: withdrawing it lists
    their person for a split review, and `remove` returns that split as `splits()` lists it."""
    synth = tmp_path / "synth"
    run_cli(
        cli, "synth", "--people", "600", "--seed", "11", "--duplicate-rate", "0.1",
        "--out", synth,
    )  # fmt: skip
    secret_file, schema_file = write_secret_and_schema(tmp_path, vectors)
    for name in ("a", "b"):
        run_cli(
            cli, "encode", "--schema", schema_file, "--secret-file", secret_file,
            "--input", synth / f"agency_{name}.csv", "--output", tmp_path / f"{name}.enc.csv",
        )  # fmt: skip
    schema = pseudolink.Schema.from_file(schema_file)
    inputs = [tmp_path / "a.enc.csv", tmp_path / "b.enc.csv"]
    with pseudolink.Index.create(tmp_path / "idx", schema, inputs, sources=["a", "b"]) as index:
        persons: dict[str, list[dict[str, str]]] = {}
        for m in index.export():
            persons.setdefault(m["person_id"], []).append(m)
        person, records = next(
            (p, r)
            for p, r in persons.items()
            if sum(m["source"] == "a" for m in r) == 2 and sum(m["source"] == "b" for m in r) == 1
        )
        bridge = next(m for m in records if m["source"] == "b")
        rest = sorted(f"a:{m['record_id']}" for m in records if m["source"] == "a")
        result = index.remove("b", [bridge["record_id"]])
        assert result["removed"] == 1
        assert len(result["splits"]) == 1, result
        split = result["splits"][0]
        assert split["person"] == person
        assert split["parts"] == [[rest[0]], [rest[1]]]
        assert split in index.splits()


def test_add_sets_bad_rows_aside_in_a_rejects_file(setup, cli, tmp_path):
    d, schema_file = setup
    secret_file = d / "k.hex"
    # A month whose first three rows are already in the index (from b1), then b2.
    b1 = (d / "b1.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    b2 = (d / "b2.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "month.csv").write_text("".join(b1[:4] + b2[1:]), encoding="utf-8")
    run_cli(
        cli, "encode", "--schema", schema_file, "--secret-file", secret_file,
        "--input", tmp_path / "month.csv", "--output", tmp_path / "month.enc.csv",
    )  # fmt: skip
    schema = pseudolink.Schema.from_file(schema_file)
    with pseudolink.Index.create(
        tmp_path / "idx", schema, [d / "a.enc.csv", d / "b1.enc.csv"], sources=["a", "b"]
    ) as index:
        n = len(index)
        with pytest.raises(pseudolink.InputError, match=r"month\.enc\.csv, line 2"):
            index.add(tmp_path / "month.enc.csv", source="b")
        assert len(index) == n
        rejects = tmp_path / "month.rejects.csv"
        added = index.add(tmp_path / "month.enc.csv", source="b", rejects=rejects)
        assert len(added) == len(b2) - 1
        assert len(index) == n + len(added)
    with open(rejects, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["line"] for r in rows] == ["2", "3", "4"]
    assert {r["reason"] for r in rows} == {"duplicate_record_id"}
    assert {r["field"] for r in rows} == {"record_id"}
    first = [r["record_id"] for r in csv.DictReader(b1[:4])]
    assert [r["record_id"] for r in rows] == first
    assert all("already in the index" in r["message"] for r in rows)


def test_compact_moves_recent_keys_and_changes_no_person(setup, tmp_path):
    d, schema_file = setup
    schema = pseudolink.Schema.from_file(schema_file)
    with pseudolink.Index.create(
        tmp_path / "idx", schema, [d / "a.enc.csv", d / "b1.enc.csv"], sources=["a", "b"]
    ) as index:
        assert index.compact()["moved"] == 0  # nothing added yet
        index.add(d / "b2.enc.csv", source="b")
        before = index.export()
        done = index.compact()
        assert done["moved"] > 0
        assert done["blocks"] > done["moved"]
        assert index.export() == before
        assert index.compact() == {"moved": 0, "blocks": done["blocks"]}
