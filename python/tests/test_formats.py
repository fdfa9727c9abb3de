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
