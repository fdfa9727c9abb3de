"""Input formats: the council-style corpus of tests/formats (encodings, delimiters, renamed
columns) encodes to the same bytes as the UTF-8 CSV of the same records, as from the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

import pseudolink
from conftest import REPO

CORPUS = REPO / "tests" / "formats"
RENAMED: dict[str, str] = json.loads((CORPUS / "columns.json").read_text(encoding="utf-8"))

# (file, keyword arguments, encoding and delimiter the manifest records)
CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("people-windows-1252.csv", {"encoding": "windows-1252"}, "windows-1252", ","),
    ("people-excel-unicode.txt", {"delimiter": "tab"}, "utf-16le", "tab"),
    ("people-excel-unicode.txt", {"encoding": "utf-16", "delimiter": "\t"}, "utf-16le", "tab"),
    ("people-utf16be.csv", {"encoding": "utf-16be"}, "utf-16be", ","),
    ("people-semicolon.csv", {"delimiter": ";"}, "utf-8", ";"),
    ("people-pipe.csv", {"delimiter": "|"}, "utf-8", "|"),
    ("people-bom-crlf.csv", {}, "utf-8", ","),
    ("people-renamed.csv", {"columns": RENAMED}, "utf-8", ","),
]


@pytest.fixture(scope="module")
def schema() -> pseudolink.Schema:
    return pseudolink.Schema.example()


@pytest.fixture(scope="module")
def secret() -> pseudolink.Secret:
    return pseudolink.Secret.from_bytes(bytes(range(32)))


@pytest.fixture(scope="module")
def reference(tmp_path_factory, schema, secret) -> bytes:
    out = tmp_path_factory.mktemp("ref") / "ref.csv"
    pseudolink.encode_file(CORPUS / "people.csv", out, schema, secret, source="council")
    return out.read_bytes()


@pytest.mark.parametrize(("name", "kwargs", "encoding", "delimiter"), CASES)
def test_every_form_encodes_to_the_bytes_of_the_utf8_csv(
    tmp_path: Path, schema, secret, reference, name, kwargs, encoding, delimiter
):
    out = tmp_path / "o.csv"
    manifest = pseudolink.encode_file(CORPUS / name, out, schema, secret, **kwargs)
    assert out.read_bytes() == reference
    assert manifest["input"]["text_encoding"] == encoding
    assert manifest["input"]["delimiter"] == delimiter
    assert manifest["counts"] == {"rows_read": 8, "encoded": 8, "rejected": 0}
    # In memory, then written: the same bytes.
    extract = pseudolink.encode(CORPUS / name, schema, secret, strict=True, **kwargs)
    extract.write_csv(tmp_path / "m.csv")
    assert (tmp_path / "m.csv").read_bytes() == reference


def test_columns_map_a_table_and_the_source_is_recorded(tmp_path, schema, secret, reference):
    with (CORPUS / "people.csv").open(encoding="utf-8", newline="") as f:
        rows = [{RENAMED.get(k, k): v for k, v in row.items()} for row in csv.DictReader(f)]
    out = tmp_path / "t.csv"
    manifest = pseudolink.encode_file(rows, out, schema, secret, columns=RENAMED, source="council")
    assert out.read_bytes() == reference
    assert manifest["source"] == "council"
    assert manifest["input"]["column_map"] == RENAMED


def test_bad_settings_raise_clear_errors(schema, secret):
    renamed = CORPUS / "people-renamed.csv"
    with pytest.raises(pseudolink.InputError, match="--column record_id=<column>") as e:
        pseudolink.encode(renamed, schema, secret)
    assert e.value.line == 1
    with pytest.raises(pseudolink.InvalidArgumentError, match="unknown text encoding 'ebcdic'"):
        pseudolink.encode(renamed, schema, secret, encoding="ebcdic")
    with pytest.raises(pseudolink.InvalidArgumentError, match="unknown delimiter ':'"):
        pseudolink.encode(renamed, schema, secret, delimiter=":")
    with pytest.raises(pseudolink.InputError, match="which is not in the header") as e:
        pseudolink.encode(renamed, schema, secret, columns={"record_id": "Nope"})
    with pytest.raises(pseudolink.InvalidArgumentError, match="apply to CSV files"):
        pseudolink.encode([{"record_id": "1"}], schema, secret, encoding="windows-1252")
    with pytest.raises(pseudolink.InputError, match="encoding windows-1252") as e:
        pseudolink.encode(CORPUS / "people-windows-1252.csv", schema, secret, strict=True)
    assert (e.value.line, e.value.field) == (2, "first_name")


@pytest.mark.parametrize(
    ("name", "kwargs", "fmt", "sheet"),
    [
        ("people.xlsx", {}, "xlsx", "People"),
        ("people.xlsx", {"sheet": "People"}, "xlsx", "People"),
        ("people.parquet", {}, "parquet", None),
    ],
)
def test_the_workbook_and_the_parquet_file_encode_to_the_bytes_of_the_csv(
    tmp_path: Path, schema, secret, reference, name, kwargs, fmt, sheet
):
    out = tmp_path / "o.csv"
    manifest = pseudolink.encode_file(CORPUS / name, out, schema, secret, **kwargs)
    assert out.read_bytes() == reference
    assert manifest["input"]["format"] == fmt
    assert manifest["input"].get("sheet") == sheet
    assert "text_encoding" not in manifest["input"]
    assert manifest["counts"] == {"rows_read": 8, "encoded": 8, "rejected": 0}
    extract = pseudolink.encode(CORPUS / name, schema, secret, strict=True, **kwargs)
    extract.write_csv(tmp_path / "m.csv")
    assert (tmp_path / "m.csv").read_bytes() == reference


def test_parquet_as_pandas_and_polars_write_it_encodes_to_the_bytes_of_the_csv(
    tmp_path: Path, schema, secret, reference
):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    pl = pytest.importorskip("polars")
    # pandas' own reading: NHS numbers become floats (NaN where missing), written as DOUBLE.
    frame = pd.read_csv(CORPUS / "people.csv")
    assert frame["nhs_number"].dtype == "float64"
    frame.to_parquet(tmp_path / "pandas.parquet", index=False)
    # polars: strings with nulls, zstd (its default codec).
    pl.read_csv(CORPUS / "people.csv", infer_schema=False).write_parquet(
        tmp_path / "polars.parquet"
    )
    for name in ["pandas.parquet", "polars.parquet"]:
        out = tmp_path / f"{name}.csv"
        manifest = pseudolink.encode_file(tmp_path / name, out, schema, secret)
        assert out.read_bytes() == reference, name
        assert manifest["counts"]["encoded"] == 8


def test_bad_workbooks_and_parquet_files_raise_clear_errors(tmp_path: Path, schema, secret):
    with pytest.raises(pseudolink.InputError, match="no sheet 'Nope' in the workbook"):
        pseudolink.encode(CORPUS / "people.xlsx", schema, secret, sheet="Nope")
    with pytest.raises(pseudolink.InvalidArgumentError, match="a sheet applies to Excel"):
        pseudolink.encode(CORPUS / "people.csv", schema, secret, sheet="People")
    with pytest.raises(pseudolink.InvalidArgumentError, match="apply to CSV text"):
        pseudolink.encode(CORPUS / "people.parquet", schema, secret, delimiter=";")
    cut = tmp_path / "cut.parquet"
    cut.write_bytes((CORPUS / "people.parquet").read_bytes()[:300])
    with pytest.raises(pseudolink.InputError, match=r"cut\.parquet") as e:
        pseudolink.encode(cut, schema, secret)
    assert e.value.line == 1
    fake = tmp_path / "fake.xlsx"
    fake.write_text("record_id\nc1\n", encoding="utf-8")
    with pytest.raises(pseudolink.InputError, match="not an Excel workbook"):
        pseudolink.encode(fake, schema, secret)
