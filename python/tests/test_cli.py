"""Results identical to the command-line tool's: same files byte for byte (manifest timestamps
and the input/output names aside)."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path

import pytest

import pseudolink
from conftest import run_cli, without_times, write_csv


@pytest.fixture
def secret_file(tmp_path: Path, vectors) -> Path:
    path = tmp_path / "test.secret.hex"
    path.write_text(vectors["secret_hex"] + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def schema_file(tmp_path: Path, vectors) -> Path:
    path = tmp_path / "schema.json"
    path.write_text(vectors["schema_json"])
    return path


def cli_encode(cli, tmp_path, schema_file, secret_file, source, name, *extra):
    out = tmp_path / f"{name}.cli.csv"
    rejects = tmp_path / f"{name}.cli.rejects.csv"
    run_cli(
        cli,
        "encode",
        "--schema",
        schema_file,
        "--secret-file",
        secret_file,
        "--input",
        source,
        "--output",
        out,
        "--rejects",
        rejects,
        "--agreement",
        "ISA-1",
        "--purpose",
        "tests",
        *extra,
    )
    return out, rejects


def py_encode(tmp_path, schema_file, secret_file, source, name):
    schema = pseudolink.Schema.from_file(schema_file)
    secret = pseudolink.Secret.from_file(secret_file)
    expect = pytest.warns(pseudolink.RejectedRowsWarning) if name == "bad" else nullcontext()
    with expect:
        extract = pseudolink.encode(source, schema, secret, agreement="ISA-1", purpose="tests")
    out = tmp_path / f"{name}.py.csv"
    rejects = tmp_path / f"{name}.py.rejects.csv"
    extract.write_csv(out, rejects=rejects)
    return extract, out, rejects


def compare(cli_files, py_files):
    (cli_out, cli_rejects), (py_out, py_rejects) = cli_files, py_files
    assert py_out.read_bytes() == cli_out.read_bytes()
    assert py_rejects.read_bytes() == cli_rejects.read_bytes()
    cli_m = without_times(json.loads(Path(f"{cli_out}.manifest.json").read_text()))
    py_m = without_times(json.loads(Path(f"{py_out}.manifest.json").read_text()))
    for m, out, rejects in ((cli_m, cli_out, cli_rejects), (py_m, py_out, py_rejects)):
        assert m["output"]["path"] == str(out)
        assert m["rejects"] == str(rejects)
        m["output"]["path"] = m["rejects"] = ""
    assert py_m == cli_m


@pytest.mark.parametrize("agency", ["agency_a", "agency_b"])
def test_synthetic_extracts_encode_as_the_cli_does(
    cli, synth, tmp_path, schema_file, secret_file, agency
):
    source = synth / f"{agency}.csv"
    cli_files = cli_encode(cli, tmp_path, schema_file, secret_file, source, agency)
    extract, *py_files = py_encode(tmp_path, schema_file, secret_file, source, agency)
    compare(cli_files, tuple(py_files))
    assert len(extract) == extract.manifest["counts"]["encoded"] > 100


def test_rejected_rows_match_the_cli(cli, tmp_path, schema_file, secret_file, vector_rows):
    rows = [*vector_rows, dict(vector_rows[0]), {**vector_rows[1], "record_id": " "}]
    source = write_csv(tmp_path / "bad.csv", rows)
    with source.open("a", encoding="utf-8") as f:
        f.write("short,row\n")
    cli_files = cli_encode(cli, tmp_path, schema_file, secret_file, source, "bad")
    extract, *py_files = py_encode(tmp_path, schema_file, secret_file, source, "bad")
    compare(cli_files, tuple(py_files))
    reasons = [r["reason"] for r in extract.rejected]
    assert reasons == ["duplicate_record_id", "empty_record_id", "wrong_field_count"]
    assert [r["line"] for r in extract.rejected] == [
        len(vector_rows) + 2,
        len(vector_rows) + 3,
        len(vector_rows) + 4,
    ]


def test_dataframe_of_a_csv_encodes_as_the_cli_does(cli, synth, tmp_path, schema_file, secret_file):
    pd = pytest.importorskip("pandas")
    source = synth / "agency_b.csv"
    cli_out, _ = cli_encode(cli, tmp_path, schema_file, secret_file, source, "frame")
    schema = pseudolink.Schema.from_file(schema_file)
    secret = pseudolink.Secret.from_file(secret_file)
    # Default pandas parsing: NHS numbers with blanks become floats, ids stay text.
    frame = pd.read_csv(source)
    extract = pseudolink.encode(frame, schema, secret)
    out = tmp_path / "frame.py.csv"
    extract.write_csv(out)
    assert out.read_bytes() == cli_out.read_bytes()
    m = extract.manifest["input"]
    assert (m["bytes"], m["blake3"], len(m["path_keyed"])) == (0, "", 32)
    assert "path" not in m


def test_cli_output_reads_back(cli, synth, tmp_path, schema_file, secret_file):
    out, _ = cli_encode(cli, tmp_path, schema_file, secret_file, synth / "agency_a.csv", "read")
    extract = pseudolink.read_encoded(out, pseudolink.Schema.from_file(schema_file))
    assert extract.manifest == json.loads(Path(f"{out}.manifest.json").read_text())
    assert pseudolink.read_encoded(out).manifest == extract.manifest  # the example schema
    again = tmp_path / "again.csv"
    extract.write_csv(again)
    assert again.read_bytes() == out.read_bytes()


def test_encode_file_writes_what_the_cli_writes(
    cli, tmp_path, schema_file, secret_file, vector_rows
):
    rows = [*vector_rows, dict(vector_rows[0]), {**vector_rows[1], "record_id": " "}]
    source = write_csv(tmp_path / "bad.csv", rows)
    cli_files = cli_encode(cli, tmp_path, schema_file, secret_file, source, "bad")
    schema = pseudolink.Schema.from_file(schema_file)
    secret = pseudolink.Secret.from_file(secret_file)
    out, rejects = tmp_path / "bad.file.csv", tmp_path / "bad.file.rejects.csv"
    with pytest.warns(pseudolink.RejectedRowsWarning):
        manifest = pseudolink.encode_file(
            source, out, schema, secret, rejects=rejects, agreement="ISA-1", purpose="tests"
        )
    compare(cli_files, (out, rejects))
    assert manifest == json.loads(Path(f"{out}.manifest.json").read_text())
    assert manifest["counts"]["rows_read"] == len(rows)
    assert manifest["counts"]["rejected"] == 2


def test_encode_file_without_rejects_fails_on_the_first_bad_row_and_writes_nothing(
    tmp_path, schema_file, secret_file, vector_rows
):
    rows = [*vector_rows, dict(vector_rows[0])]
    source = write_csv(tmp_path / "dup.csv", rows)
    schema = pseudolink.Schema.from_file(schema_file)
    secret = pseudolink.Secret.from_file(secret_file)
    out = tmp_path / "dup.out.csv"
    with pytest.raises(pseudolink.InputError) as info:
        pseudolink.encode_file(source, out, schema, secret)
    assert info.value.line == len(rows) + 1
    assert "record_id" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dup.csv",
        "schema.json",
        "test.secret.hex",
    ]


def _tables(rows):
    """The rows as every kind of table encode_file takes (the optional ones when installed)."""
    columns = {c: [r[c] for r in rows] for c in rows[0]}
    tables = {"list of dicts": rows, "dict of columns": columns}
    try:
        import pandas as pd

        tables["pandas"] = pd.DataFrame(columns, dtype=str)
        tables["pandas, object cells mixing types"] = pd.DataFrame(
            {**columns, "sex": [1 if r["sex"] == "M" else r["sex"] for r in rows]}
        )
    except ImportError:
        pass
    try:
        import polars as pl

        tables["polars"] = pl.DataFrame(columns)
    except ImportError:
        pass
    try:
        import pyarrow as pa

        tables["pyarrow"] = pa.table(columns)
    except ImportError:
        pass
    return tables


def test_encode_file_takes_tables_and_writes_what_encode_then_write_csv_writes(
    tmp_path, schema_file, secret_file, vector_rows
):
    rows = [*vector_rows, dict(vector_rows[0]), {**vector_rows[1], "record_id": " "}]
    schema = pseudolink.Schema.from_file(schema_file)
    secret = pseudolink.Secret.from_file(secret_file)
    for i, (kind, table) in enumerate(_tables(rows).items()):
        two_steps = (tmp_path / f"{i}.csv", tmp_path / f"{i}.rejects.csv")
        with pytest.warns(pseudolink.RejectedRowsWarning):
            extract = pseudolink.encode(table, schema, secret, agreement="ISA-1", purpose="t")
        extract.write_csv(two_steps[0], rejects=two_steps[1])
        direct = (tmp_path / f"{i}.direct.csv", tmp_path / f"{i}.direct.rejects.csv")
        with pytest.warns(pseudolink.RejectedRowsWarning):
            manifest = pseudolink.encode_file(
                table, direct[0], schema, secret, rejects=direct[1], agreement="ISA-1", purpose="t"
            )
        compare(two_steps, direct)
        assert manifest == json.loads(Path(f"{direct[0]}.manifest.json").read_text()), kind
        assert manifest["counts"]["rejected"] == 2, kind
        assert len(manifest["input"]["path_keyed"]) == 32, kind
    # Without rejects the first bad row raises and nothing is written; the id check's CSV
    # options are refused for a table.
    out = tmp_path / "never.csv"
    with pytest.raises(pseudolink.InputError) as info:
        pseudolink.encode_file(rows, out, schema, secret)
    assert info.value.line == len(vector_rows) + 2
    with pytest.raises(pseudolink.InvalidArgumentError, match="CSV files"):
        pseudolink.encode_file(rows, out, schema, secret, rejects=tmp_path / "r.csv", id_memory=8)
    with pytest.raises(TypeError, match="encode_file"):
        pseudolink.encode_file(42, out, schema, secret)
    assert not out.exists()
    assert not (tmp_path / "r.csv").exists()


def test_encode_file_with_a_small_id_memory_writes_what_the_cli_writes(
    cli, tmp_path, schema_file, secret_file, vector_rows
):
    # 60,000 rows, every third repeating an earlier id (from far back): past 1 MiB (about 28,000
    # ids) the duplicate check goes to disk, in the CLI and in Python alike, with the same result.
    rows = []
    for i in range(60_000):
        row = dict(vector_rows[i % len(vector_rows)])
        row["record_id"] = f"R{i // 3 * 2 if i % 3 == 2 else i}"
        rows.append(row)
    source = write_csv(tmp_path / "many.csv", rows)
    out, rejects = cli_encode(
        cli, tmp_path, schema_file, secret_file, source, "many", "--id-memory", "1"
    )
    schema = pseudolink.Schema.from_file(schema_file)
    secret = pseudolink.Secret.from_file(secret_file)
    temp = tmp_path / "temp"
    temp.mkdir()
    py_out, py_rejects = tmp_path / "many.py.csv", tmp_path / "many.py.rejects.csv"
    with pytest.warns(pseudolink.RejectedRowsWarning):
        manifest = pseudolink.encode_file(
            source,
            py_out,
            schema,
            secret,
            rejects=py_rejects,
            agreement="ISA-1",
            purpose="tests",
            id_memory=1,
            temp_dir=temp,
        )
    compare((out, rejects), (py_out, py_rejects))
    seen: set[str] = set()
    repeats = sum(r["record_id"] in seen or seen.add(r["record_id"]) is not None for r in rows)
    assert manifest["counts"]["rejected"] == repeats > 10_000
    assert list(temp.iterdir()) == []  # temporary files are gone
    # The default budget (no spill) gives the same extract.
    plain = tmp_path / "many.plain.csv"
    with pytest.warns(pseudolink.RejectedRowsWarning):
        pseudolink.encode_file(
            source, plain, schema, secret, rejects=tmp_path / "many.plain.rejects.csv"
        )
    assert plain.read_bytes() == py_out.read_bytes()
    for bad in (0, 1 << 21):
        with pytest.raises(pseudolink.InvalidArgumentError, match="id memory"):
            pseudolink.encode_file(source, tmp_path / "never.csv", schema, secret, id_memory=bad)
    assert not (tmp_path / "never.csv").exists()
