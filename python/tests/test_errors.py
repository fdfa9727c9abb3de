"""Errors: one base class, a subclass per kind, locations on input errors, no PanicException."""

from __future__ import annotations

import json
import pickle

import pytest

import pseudolink
from conftest import write_csv


@pytest.fixture(scope="module")
def schema():
    return pseudolink.Schema.example()


@pytest.fixture(scope="module")
def secret():
    return pseudolink.Secret.from_bytes(bytes(32))


def test_hierarchy():
    for cls in (
        pseudolink.SchemaError,
        pseudolink.InputError,
        pseudolink.SecretError,
        pseudolink.MismatchError,
        pseudolink.ModelError,
        pseudolink.FileError,
        pseudolink.InvalidArgumentError,
        pseudolink.CancelledError,
        pseudolink.InternalError,
    ):
        assert issubclass(cls, pseudolink.PseudolinkError)
        assert cls.__module__ == "pseudolink"
    assert issubclass(pseudolink.PseudolinkError, Exception)


def test_csv_input_errors_carry_file_line_and_field(schema, secret, tmp_path):
    rows = [{"record_id": "a", "first_name": "Ann"}, {"record_id": "a", "first_name": "Bob"}]
    path = write_csv(tmp_path / "dup.csv", rows)
    with pytest.raises(pseudolink.InputError) as err:
        pseudolink.encode(path, schema, secret, strict=True)
    e = err.value
    assert (e.file, e.line, e.field) == (str(path), 3, "record_id")
    assert "already used" in str(e)
    with pytest.warns(pseudolink.RejectedRowsWarning, match="1 rows"):
        extract = pseudolink.encode(path, schema, secret)
    assert extract.rejected == [
        {
            "line": 3,
            "reason": "duplicate_record_id",
            "field": "record_id",
            "message": "record id 'a' was already used by an earlier row",
            "record_id": "a",
        }
    ]
    assert len(extract) == 1


def test_table_input_errors_count_lines_as_a_csv_export(schema, secret):
    rows = [{"record_id": "a"}, {"record_id": "b"}, {"record_id": "x" * 5000}]
    with pytest.raises(pseudolink.InputError) as err:
        pseudolink.encode(rows, schema, secret, strict=True)
    assert (err.value.file, err.value.line, err.value.field) == (None, 4, "record_id")


def test_header_problems(schema, secret, tmp_path):
    path = tmp_path / "no_id.csv"
    path.write_text("id,first_name\n1,Ann\n")
    with pytest.raises(pseudolink.InputError) as err:
        pseudolink.encode(path, schema, secret)
    assert (err.value.line, err.value.field) == (1, "record_id")
    with pytest.raises(pseudolink.InputError, match="no record id column"):
        pseudolink.encode([{"id": "1"}], schema, secret)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(pseudolink.InputError, match="empty"):
        pseudolink.encode(empty, schema, secret)


def test_missing_files_are_file_errors_caused_by_os_errors(schema, secret, tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(pseudolink.FileError) as err:
        pseudolink.encode(missing, schema, secret)
    assert err.value.path == str(missing)
    assert err.value.action == "read"
    assert isinstance(err.value.__cause__, FileNotFoundError)
    with pytest.raises(pseudolink.FileError):
        pseudolink.Schema.from_file(missing)
    with pytest.raises(pseudolink.FileError):
        pseudolink.Secret.from_file(missing)


def test_schema_errors_carry_the_json_path():
    doc = json.loads(pseudolink.Schema.example().to_json())
    doc["tokens"][0] = ["first_name", "date_of_birth.sector"]
    with pytest.raises(pseudolink.SchemaError) as err:
        pseudolink.Schema.from_json(json.dumps(doc))
    assert err.value.path == "tokens[0][1]"
    with pytest.raises(pseudolink.SchemaError) as err:
        pseudolink.Schema.from_json("{not json")
    assert isinstance(err.value.path, str)


def test_secret_errors_never_show_the_secret(tmp_path):
    with pytest.raises(pseudolink.SecretError, match="32 bytes, got 3"):
        pseudolink.Secret.from_bytes(b"abc")
    path = tmp_path / "bad.hex"
    almost = "a1" * 31 + "zz"
    path.write_text(almost)
    with pytest.raises(pseudolink.SecretError) as err:
        pseudolink.Secret.from_file(path)
    assert "a1a1" not in str(err.value)


def test_reading_under_another_schema_is_a_mismatch(schema, secret, tmp_path):
    extract = pseudolink.encode([{"record_id": "1", "first_name": "Ann"}], schema, secret)
    out = tmp_path / "e.csv"
    extract.write_csv(out)
    doc = json.loads(schema.to_json())
    doc["link"]["seed"] = 99
    # Linkage settings are not part of the encoding: still the same schema for the extract.
    assert len(pseudolink.read_encoded(out, pseudolink.Schema.from_json(json.dumps(doc)))) == 1
    doc["tokens"].append(["first_name", "sex"])
    other = pseudolink.Schema.from_json(json.dumps(doc))
    with pytest.raises(pseudolink.MismatchError, match="schema"):
        pseudolink.read_encoded(out, other)
    (tmp_path / "e.csv").write_bytes(out.read_bytes() + b"x,,,\n")
    with pytest.raises(pseudolink.PseudolinkError):
        pseudolink.read_encoded(out)
    (tmp_path / "f.csv").write_bytes(out.read_bytes())
    with pytest.raises(pseudolink.InputError, match="manifest"):
        pseudolink.read_encoded(tmp_path / "f.csv")


@pytest.mark.parametrize("detached", [False, True])
def test_a_rust_panic_arrives_as_internal_error(detached):
    with pytest.raises(pseudolink.InternalError, match="deliberate panic"):
        pseudolink._native._panic_for_tests(detached)


def test_exceptions_are_catchable_and_picklable_as_exceptions(schema, secret):
    try:
        pseudolink.encode([{"record_id": ""}], schema, secret, strict=True)
    except Exception as e:
        caught = e
    assert isinstance(caught, pseudolink.InputError)
    again = pickle.loads(pickle.dumps(caught))
    assert str(again) == str(caught)
