"""Parquet encoded extracts (``encode --output x.parquet``): ``read_encoded`` gives the records
of the CSV form, ``write_csv`` to a ``.parquet`` name writes the CLI's bytes, pandas reads them."""

from __future__ import annotations

import pytest

import pseudolink
from conftest import run_cli, write_secret_and_schema


def test_parquet_and_csv_extracts_read_alike(tmp_path, synth, cli, vectors):
    secret_file, schema_file = write_secret_and_schema(tmp_path, vectors)
    for out in ("a.enc.csv", "a.enc.parquet"):
        run_cli(
            cli, "encode", "--schema", schema_file, "--secret-file", secret_file,
            "--input", synth / "agency_a.csv", "--output", tmp_path / out,
        )  # fmt: skip
    schema = pseudolink.Schema.from_file(schema_file)
    from_csv = pseudolink.read_encoded(tmp_path / "a.enc.csv", schema)
    from_parquet = pseudolink.read_encoded(str(tmp_path / "a.enc.parquet"), schema)
    assert len(from_csv) == len(from_parquet) > 100
    assert from_csv.to_arrow().equals(from_parquet.to_arrow())
    assert from_csv.manifest["counts"] == from_parquet.manifest["counts"]
    assert from_parquet.verified

    # Written from Python: the bytes `pseudolink encode` wrote.
    secret = pseudolink.Secret.from_file(secret_file)
    extract = pseudolink.encode(synth / "agency_a.csv", schema, secret)
    extract.write_csv(tmp_path / "py.parquet")
    assert (tmp_path / "py.parquet").read_bytes() == (tmp_path / "a.enc.parquet").read_bytes()

    # Altered after encoding: refused as the CSV form is.
    cut = tmp_path / "cut.parquet"
    cut.write_bytes((tmp_path / "a.enc.parquet").read_bytes()[:-100])
    (tmp_path / "cut.parquet.manifest.json").write_bytes(
        (tmp_path / "a.enc.parquet.manifest.json").read_bytes()
    )
    with pytest.raises(pseudolink.MismatchError, match="does not match its manifest"):
        pseudolink.read_encoded(cut, schema)

    # pandas reads it without pseudolink: a token's hex is the CSV cell.
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    frame = pd.read_parquet(tmp_path / "a.enc.parquet")
    text = pd.read_csv(tmp_path / "a.enc.csv", dtype=str, keep_default_na=False)
    assert list(frame.columns) == list(text.columns)
    assert list(frame["record_id"]) == list(text["record_id"])
    for column in text.columns[1:]:
        cells = ["" if v is None else v.hex() for v in frame[column]]
        assert cells == list(text[column]), column
