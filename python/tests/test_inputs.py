"""Every input type gives the same encoding; column types are read as a CSV would give them."""

from __future__ import annotations

import datetime as dt
import sys

import pytest

import pseudolink
from conftest import write_csv

ROWS = [
    {
        "record_id": "1",
        "first_name": "Zoë",
        "last_name": "Smith",
        "date_of_birth": "2014-03-09",
        "sex": "F",
        "postcode": "CV1 2AB",
        "nhs_number": "9434765919",
        "extra": "ignored",
    },
    {
        "record_id": "2",
        "first_name": "John",
        "last_name": "O'Neil",
        "date_of_birth": "1980-02-29",
        "sex": "M",
        "postcode": "",
        "nhs_number": "",
        "extra": "",
    },
]


@pytest.fixture(scope="module")
def schema():
    return pseudolink.Schema.example()


@pytest.fixture(scope="module")
def secret():
    return pseudolink.Secret.from_bytes(b"k" * 32)


def table(extract):
    return [list(r.values()) for r in extract.to_arrow().to_pylist()]


@pytest.fixture(scope="module")
def reference(schema, secret, tmp_path_factory):
    pytest.importorskip("pyarrow")
    path = write_csv(tmp_path_factory.mktemp("ref") / "ref.csv", ROWS)
    return table(pseudolink.encode(path, schema, secret))


def as_columns(rows):
    return {k: [r[k] for r in rows] for k in rows[0]}


def test_each_input_type_gives_the_same_encoding(schema, secret, reference):
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    inputs = {
        "list of dicts": ROWS,
        "tuple of dicts": tuple(ROWS),
        "generator of dicts": (dict(r) for r in ROWS),
        "dict of columns": as_columns(ROWS),
        "pandas": pd.DataFrame(ROWS),
        "pandas object dtype": pd.DataFrame(ROWS, dtype=object),
        "polars": pl.DataFrame(ROWS),
        "pyarrow table": pa.Table.from_pylist(ROWS),
        "pyarrow large_string": pa.Table.from_pylist(ROWS).cast(
            pa.schema([(k, pa.large_string()) for k in ROWS[0]])
        ),
        "pyarrow string_view": pa.Table.from_pylist(ROWS).cast(
            pa.schema([(k, pa.string_view()) for k in ROWS[0]])
        ),
        "pyarrow dictionary": pa.Table.from_pylist(ROWS).cast(
            pa.schema([(k, pa.dictionary(pa.int32(), pa.string())) for k in ROWS[0]])
        ),
        "pyarrow record batch reader": pa.Table.from_pylist(ROWS).to_reader(max_chunksize=1),
    }
    for name, data in inputs.items():
        assert table(pseudolink.encode(data, schema, secret)) == reference, name


def test_manifest_names_the_input_and_its_columns(schema, secret):
    pl = pytest.importorskip("polars")
    extract = pseudolink.encode(pl.DataFrame(ROWS), schema, secret, agreement="ISA-7", purpose="p")
    m = extract.manifest
    # The input's name ("<polars.DataFrame>") only as a keyed hash: the manifest goes to the
    # linkage unit.
    named = pseudolink.encode(pl.DataFrame(ROWS), schema, secret).manifest["input"]["path_keyed"]
    assert m["input"]["path_keyed"] == named
    assert m["input"]["path_keyed"] != (
        pseudolink.encode(ROWS, schema, secret).manifest["input"]["path_keyed"]
    )
    assert m["ignored_columns"] == ["extra"]
    assert m["absent_columns"] == ["middle_name", "address_line_1"]
    assert m["counts"] == {"rows_read": 2, "encoded": 2, "rejected": 0}
    assert m["run"]["agreement"] == "ISA-7"
    assert m["output"] == {"path": "", "bytes": 0, "blake3": ""}


def test_typed_columns_read_as_their_csv_text(schema, secret, reference):
    """pandas' own parsing of the CSV: integer ids, float NHS numbers (a blank makes the column
    float), datetime dates, None/NaN/NaT for blanks; all encode as the CSV text does."""
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "record_id": [1, 2],
            "first_name": ["Zoë", "John"],
            "last_name": ["Smith", "O'Neil"],
            "date_of_birth": pd.to_datetime(["2014-03-09", "1980-02-29"]),
            "sex": ["F", "M"],
            "postcode": ["CV1 2AB", None],
            "nhs_number": [9434765919.0, float("nan")],
            "extra": ["ignored", None],
        }
    )
    assert table(pseudolink.encode(frame, schema, secret)) == reference
    rows = [
        {
            "record_id": 1,
            "first_name": "Zoë",
            "last_name": "Smith",
            "date_of_birth": dt.date(2014, 3, 9),
            "sex": "F",
            "postcode": "CV1 2AB",
            "nhs_number": 9434765919,
        },
        {
            "record_id": 2,
            "first_name": "John",
            "last_name": "O'Neil",
            "date_of_birth": dt.datetime(1980, 2, 29),
            "sex": "M",
            "postcode": None,
            "nhs_number": float("nan"),
        },
    ]
    assert table(pseudolink.encode(rows, schema, secret)) == reference
    assert table(pseudolink.encode(frame.astype(object), schema, secret)) == reference


def test_pandas_without_pyarrow_is_read_column_by_column(schema, secret, reference, monkeypatch):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(ROWS)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    extract = pseudolink.encode(frame, schema, secret)
    frame_out = extract.to_pandas()
    monkeypatch.undo()
    assert table(extract) == reference
    assert frame_out.fillna("").values.tolist() == [
        ["" if c is None else c for c in row] for row in reference
    ]


def test_a_mixed_object_column_falls_back_to_python_values(schema, secret):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"record_id": ["a", 2], "first_name": ["Ann", "Bob"]})
    extract = pseudolink.encode(frame, schema, secret)
    assert [r["record_id"] for r in extract.to_arrow().to_pylist()] == ["a", "2"]


def test_extract_exports_arrow_to_polars_and_pyarrow(schema, secret):
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    extract = pseudolink.encode(ROWS, schema, secret)
    via_capsule = pa.table(extract)
    assert via_capsule.equals(extract.to_arrow())
    frame = pl.DataFrame(extract)
    assert frame.columns == extract.columns
    assert frame.height == len(extract) == 2
    assert frame["middle_name+date_of_birth"].null_count() == 2


def test_unsupported_inputs_are_type_errors(schema, secret):
    for bad in (42, b"bytes", [1, 2], [{"record_id": "1"}, "row"], [{1: "x"}]):
        with pytest.raises(TypeError):
            pseudolink.encode(bad, schema, secret)


def test_binary_columns_are_refused_naming_the_column(schema, secret):
    pa = pytest.importorskip("pyarrow")
    data = pa.table({"record_id": ["1"], "first_name": pa.array([b"x"], pa.binary())})
    with pytest.raises(pseudolink.InputError) as err:
        pseudolink.encode(data, schema, secret)
    assert err.value.field == "first_name"


def test_empty_inputs_encode_nothing(schema, secret):
    pa = pytest.importorskip("pyarrow")
    assert len(pseudolink.encode([], schema, secret)) == 0
    empty = pa.table({"record_id": pa.array([], pa.string())})
    extract = pseudolink.encode(empty, schema, secret)
    assert len(extract) == 0
    assert extract.manifest["counts"]["rows_read"] == 0
