"""Golden vectors (tests/vectors/encode.json): the same bytes as the Rust and C tests expect,
whatever the input type."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import pseudolink
from conftest import write_csv


def expected_rows(vectors: dict[str, Any]) -> list[str]:
    return [case["row"] for case in vectors["cases"]]


def written_rows(extract: pseudolink.EncodedExtract, path: Path) -> tuple[str, list[str]]:
    extract.write_csv(path)
    lines = path.read_bytes().decode("utf-8").split("\n")
    assert lines[-1] == ""
    return lines[0], lines[1:-1]


def test_schema_and_secret_match_the_vectors(vectors, vector_schema, vector_secret):
    assert vector_schema.fingerprint == vectors["schema_fingerprint"]
    assert pseudolink.Schema.example().fingerprint == vectors["schema_fingerprint"]
    assert vector_secret.check_value == vectors["key_check_value"]


def test_list_of_dicts_gives_the_vector_bytes(
    vectors, vector_schema, vector_secret, vector_rows, tmp_path
):
    # The vectors are generated with "today" = 2026-01-01; no case has a date between then and
    # now, so encoding with the real today gives the same bytes.
    extract = pseudolink.encode(vector_rows, vector_schema, vector_secret)
    header, rows = written_rows(extract, tmp_path / "out.csv")
    assert header == vectors["header"]
    assert rows == expected_rows(vectors)
    assert extract.columns == vectors["header"].split(",")


def test_csv_path_gives_the_vector_bytes(
    vectors, vector_schema, vector_secret, vector_rows, tmp_path
):
    source = write_csv(tmp_path / "in.csv", vector_rows)
    for data in (source, str(source)):
        extract = pseudolink.encode(data, vector_schema, vector_secret)
        _, rows = written_rows(extract, tmp_path / "out.csv")
        assert rows == expected_rows(vectors)


def test_missing_reasons_match_the_vectors(vectors, vector_schema, vector_secret, vector_rows):
    extract = pseudolink.encode(vector_rows, vector_schema, vector_secret)
    expected: dict[str, Counter[str]] = {}
    for case in vectors["cases"]:
        for field, reason in case["missing"].items():
            expected.setdefault(field, Counter())[reason] += 1
    got = {f: Counter(r) for f, r in extract.manifest["missing"].items() if r}
    assert got == expected


def cells(row: str) -> list[str]:
    return next(csv.reader(io.StringIO(row)))


@pytest.mark.parametrize("kind", ["pandas", "polars", "pyarrow"])
def test_tables_give_the_vector_cells(kind, vectors, vector_schema, vector_secret, vector_rows):
    columns = {c: [r[c] for r in vector_rows] for c in vector_rows[0]}
    if kind == "pandas":
        pd = pytest.importorskip("pandas")
        data: Any = pd.DataFrame(columns)
    elif kind == "polars":
        pl = pytest.importorskip("polars")
        data = pl.DataFrame(columns)
    else:
        pa = pytest.importorskip("pyarrow")
        data = pa.table(columns)
    extract = pseudolink.encode(data, vector_schema, vector_secret)
    table = extract.to_arrow()
    assert table.column_names == vectors["header"].split(",")
    got = [[cell if cell is not None else "" for cell in row.values()] for row in table.to_pylist()]
    assert got == [cells(r) for r in expected_rows(vectors)]


def test_to_pandas_gives_the_vector_cells(vectors, vector_schema, vector_secret, vector_rows):
    pytest.importorskip("pandas")
    frame = pseudolink.encode(vector_rows, vector_schema, vector_secret).to_pandas()
    assert list(frame.columns) == vectors["header"].split(",")
    got = [["" if v is None or v != v else v for v in row] for row in frame.itertuples(index=False)]
    assert got == [cells(r) for r in expected_rows(vectors)]
