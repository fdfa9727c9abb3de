"""pseudolink: privacy-preserving record linkage of person records.

Each agency encodes its extract with a secret agreed under the Information Sharing Agreement:
keyed-hash tokens for exact identifiers, Bloom filters for fuzzy ones. Only the encodings leave
the agency. Everything here runs the same Rust core as the ``pseudolink`` command-line tool.

>>> import pseudolink
>>> schema = pseudolink.Schema.example()
>>> secret = pseudolink.Secret.from_bytes(bytes(range(32)))
>>> extract = pseudolink.encode([{"record_id": "A1", "first_name": "Zoë"}], schema, secret)
>>> len(extract)
1
"""

from __future__ import annotations

import json
import numbers
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Union

from pseudolink import _native
from pseudolink._native import (
    CancelledError,
    EncodedExtract,
    FileError,
    Index,
    InputError,
    InternalError,
    InvalidArgumentError,
    Links,
    MismatchError,
    Model,
    ModelError,
    PseudolinkError,
    Schema,
    SchemaError,
    Secret,
    SecretError,
    SecretPermissionWarning,
    UnverifiedExtractWarning,
    __version__,
    dedupe,
    link,
    read_encoded,
)

__all__ = [
    "CancelledError",
    "EncodedExtract",
    "FileError",
    "Index",
    "InputError",
    "InternalError",
    "InvalidArgumentError",
    "Links",
    "MismatchError",
    "Model",
    "ModelError",
    "PseudolinkError",
    "RejectedRowsWarning",
    "Schema",
    "SchemaError",
    "Secret",
    "SecretError",
    "SecretPermissionWarning",
    "UnverifiedExtractWarning",
    "__version__",
    "dedupe",
    "encode",
    "encode_file",
    "evaluate",
    "link",
    "read_encoded",
]

#: What :func:`encode` accepts: a CSV path, a list of dicts, a dict of columns, or a table
#: (pandas or polars DataFrame, pyarrow Table, anything with ``__arrow_c_stream__``).
Data = Union[str, "os.PathLike[str]", Iterable[Mapping[str, Any]], Mapping[str, Any], Any]


class RejectedRowsWarning(UserWarning):
    """Some rows were set aside (see ``EncodedExtract.rejected``) rather than encoded."""


def encode(
    data: Data,
    schema: Schema,
    secret: Secret,
    *,
    strict: bool = False,
    progress: bool = False,
    agreement: str | None = None,
    purpose: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    columns: Mapping[str, str] | None = None,
    source: str | None = None,
) -> EncodedExtract:
    """Encodes person records with the shared secret.

    ``data`` is a file path (``str`` or ``os.PathLike``) of a CSV file, an Excel workbook
    (``.xlsx``) or a Parquet file (``.parquet``), a list of dicts (one per row), a
    dict of columns, a pandas or polars DataFrame, or a pyarrow Table (or any object with
    ``__arrow_c_stream__``). Columns are matched to the schema by name; other columns are ignored
    and listed in the manifest.

    Rows that cannot be encoded (empty or repeated record id, oversized cell, a malformed CSV row)
    are set aside in ``EncodedExtract.rejected`` with a :class:`RejectedRowsWarning`; with
    ``strict=True`` the first one raises :class:`InputError` instead, as the CLI does without
    ``--rejects``. ``progress=True`` shows a row count on ``sys.stderr``. ``agreement`` and
    ``purpose`` are recorded in the manifest. The GIL is released while encoding; Ctrl-C raises
    ``KeyboardInterrupt`` within a second.

    For a CSV path, ``encoding`` (``"utf-8"``, the default, ``"windows-1252"``, ``"latin-1"``,
    ``"utf-16"``...; a byte order mark wins) and ``delimiter`` (``","``, ``";"``, ``"tab"``,
    ``"|"``) say how to read it, as the CLI's ``--encoding`` and ``--delimiter``; for a
    workbook, ``sheet`` names the sheet to read (default: the first; ``--sheet``). The cells of
    a workbook or Parquet file are read as its CSV export shows them. ``columns``
    maps schema columns to the input's names for them (``{"first_name": "forename"}``, the CLI's
    ``--column``), for a path or a table. ``source`` is the agency's name for the extract,
    recorded in the manifest (``--source``). See docs/input-formats.md.
    """
    options: dict[str, Any] = {
        "keep_rejected": not strict,
        "progress": progress,
        "agreement": agreement,
        "purpose": purpose,
        "encoding": encoding,
        "delimiter": delimiter,
        "sheet": sheet,
        "columns": None if columns is None else dict(columns),
        "source": source,
    }
    if isinstance(data, (str, os.PathLike)):
        extract = _native.encode_csv(os.fspath(data), schema, secret, **options)
    else:
        arrow, table, name = _table(data, schema, "pseudolink.encode()")
        native = _native.encode_arrow if arrow else _native.encode_python
        extract = native(table, schema, secret, input_name=name, **options)
    rejected = extract.manifest["counts"]["rejected"]
    if rejected:
        warnings.warn(
            f"{rejected} rows were set aside and not encoded; see EncodedExtract.rejected",
            RejectedRowsWarning,
            stacklevel=2,
        )
    return extract


def encode_file(
    input: Data,
    output: str | os.PathLike[str],
    schema: Schema,
    secret: Secret,
    *,
    rejects: str | os.PathLike[str] | None = None,
    progress: bool = False,
    agreement: str | None = None,
    purpose: str | None = None,
    id_memory: int | None = None,
    temp_dir: str | os.PathLike[str] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    columns: Mapping[str, str] | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Encodes the file ``input`` (CSV, ``.xlsx`` or ``.parquet``) into ``output``, file to
    file, exactly as ``pseudolink encode`` does (same bytes, same ``output.manifest.json``, at
    the same speed: rows are written while the next ones are encoded, and nothing is kept in
    memory). Returns the manifest.

    ``input`` may also be any table :func:`encode` takes (a pandas or polars DataFrame, a pyarrow
    Table, a list of dicts, a dict of columns): the same bytes and manifest as
    ``encode(input, ...).write_csv(output, ...)``, but written while the rows are encoded (about
    as fast as the CLI) and without keeping the encoded records.

    Rows that cannot be encoded go to ``rejects`` (a CSV with line, reason and field) when it is
    given, with a :class:`RejectedRowsWarning`; without it the first one raises
    :class:`InputError`, as the CLI does without ``--rejects``. Nothing appears at ``output``, its
    manifest or ``rejects`` unless the whole run succeeds (also on Ctrl-C).

    ``id_memory`` (MiB, default 64) bounds the memory of the duplicate record id check and
    ``temp_dir`` holds its temporary files (default: the output's folder), as the CLI's
    ``--id-memory`` and ``--temp-dir``: past the budget the input is read a second time and id
    hashes are sorted on disk, with the same result. A budget outside 1 to 1,048,576 MiB raises
    :class:`InvalidArgumentError`, as do either of them with a table (its ids are checked in
    memory).

    ``encoding``, ``delimiter``, ``sheet``, ``columns`` and ``source`` as for :func:`encode`;
    ``input`` may be an Excel workbook or a Parquet file as there.
    """
    options: dict[str, Any] = {
        "rejects": None if rejects is None else os.fspath(rejects),
        "progress": progress,
        "agreement": agreement,
        "purpose": purpose,
        "id_memory": id_memory,
        "temp_dir": None if temp_dir is None else os.fspath(temp_dir),
        "encoding": encoding,
        "delimiter": delimiter,
        "sheet": sheet,
        "columns": None if columns is None else dict(columns),
        "source": source,
    }
    if isinstance(input, (str, os.PathLike)):
        text = _native.encode_file(os.fspath(input), os.fspath(output), schema, secret, **options)
    else:
        arrow, table, name = _table(input, schema, "pseudolink.encode_file()")
        text = _native.encode_table_file(
            table, os.fspath(output), schema, secret, arrow=arrow, input_name=name, **options
        )
    manifest: dict[str, Any] = json.loads(text)
    rejected = manifest["counts"]["rejected"]
    if rejected:
        warnings.warn(
            f"{rejected} rows were set aside and not encoded; see {os.fspath(rejects or '')}",
            RejectedRowsWarning,
            stacklevel=2,
        )
    return manifest


def _is_pandas(data: object) -> bool:
    cls = type(data)
    module = cls.__module__
    return (module == "pandas" or module.startswith("pandas.")) and cls.__name__ == "DataFrame"


def _input_name(data: object) -> str:
    cls = type(data)
    top = cls.__module__.split(".")[0]
    return f"<{top}.{cls.__name__}>"


def _table(data: Any, schema: Schema, caller: str) -> tuple[bool, Any, str]:
    """What the native encoders take for a table: whether it is an Arrow stream, the data, and the
    name the manifest gives it. pandas goes through pyarrow (Arrow buffers, no Python object per
    cell) when it is installed; otherwise one list per column is read."""
    if _is_pandas(data):
        try:
            import pyarrow as pa
        except ImportError:
            pa = None
        if pa is not None:
            try:
                return True, pa.Table.from_pandas(data, preserve_index=False), "<pandas.DataFrame>"
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                pass  # e.g. an object column mixing numbers and text: read it cell by cell
        return False, {str(c): data[c].tolist() for c in data.columns}, "<pandas.DataFrame>"
    if hasattr(data, "__arrow_c_stream__"):
        return True, data, _input_name(data)
    if isinstance(data, Mapping):
        return False, dict(data), "<dict of columns>"
    if isinstance(data, Iterable) and not isinstance(data, (bytes, bytearray)):
        rows = data if isinstance(data, list) else list(data)
        # No rows, no header: an empty table with the schema's columns.
        source: Any = rows if rows else {c: [] for c in schema.input_columns}
        return False, source, "<list of dicts>"
    raise TypeError(
        f"{caller} takes a CSV path, a list of dicts, a dict of columns, a pandas or polars "
        f"DataFrame or a pyarrow Table, not {type(data).__name__}"
    )


#: What :func:`evaluate` accepts as the true pairs.
Truth = Union[str, "os.PathLike[str]", Iterable[Sequence[Any]], Mapping[str, Any], Any]


def evaluate(links: Links | str | os.PathLike[str], truth: Truth) -> dict[str, Any]:
    """Precision, recall and F1 of the ``match`` links, with the counts behind them.

    ``links`` is a :class:`Links` or the path of a links CSV file; ``truth`` the true pairs: an
    iterable of ``(left_id, right_id)`` pairs, a DataFrame (pandas or polars), pyarrow Table or
    dict of columns with ``left_id`` and ``right_id`` columns, or the path of a truth CSV file
    (read as ``pseudolink evaluate --truth`` reads it). Record ids are strings (integers are
    taken as their text). Truth that is not of this shape (a missing column, a pair of three,
    a ``None`` or empty id) raises :class:`InvalidArgumentError` saying where.
    """
    source: Any = links if isinstance(links, Links) else os.fspath(links)
    if isinstance(truth, (str, os.PathLike)):
        return _native.evaluate(source, os.fspath(truth))
    return _native.evaluate(source, _truth_pairs(truth))


def _truth_pairs(truth: Any) -> list[tuple[str, str]]:
    """The true pairs of a table or an iterable of pairs, as (str, str) tuples."""
    if truth is None:
        raise InvalidArgumentError(
            "truth is None: give the true pairs as (left_id, right_id) pairs, a table with "
            "left_id and right_id columns, or the path of a truth CSV file"
        )
    columns = _column_names(truth)
    if columns is not None:
        missing = [c for c in ("left_id", "right_id") if c not in columns]
        if missing:
            listed = ", ".join(repr(c) for c in columns) or "none"
            raise InvalidArgumentError(
                f"truth has no {' or '.join(repr(c) for c in missing)} column: the true pairs "
                f"need 'left_id' and 'right_id' columns (its columns: {listed})"
            )
        lefts, rights = _column(truth, "left_id"), _column(truth, "right_id")
        return [
            (_record_id(left, i, "left_id"), _record_id(right, i, "right_id"))
            for i, (left, right) in enumerate(zip(lefts, rights))
        ]
    if isinstance(truth, (bytes, bytearray)) or not isinstance(truth, Iterable):
        raise InvalidArgumentError(
            f"truth is of type {type(truth).__name__}: give the true pairs as (left_id, right_id) "
            "pairs, a table with left_id and right_id columns, or the path of a truth CSV file"
        )
    pairs = []
    for i, pair in enumerate(truth):
        # Tuples, lists, numpy rows: anything with a length and indexing, but not text.
        if isinstance(pair, (str, bytes, bytearray)) or not (
            hasattr(pair, "__len__") and hasattr(pair, "__getitem__")
        ):
            raise InvalidArgumentError(
                f"true pair {i} is of type {type(pair).__name__}, not a (left_id, right_id) pair"
            )
        if len(pair) != 2:
            raise InvalidArgumentError(
                f"true pair {i} has {len(pair)} values, not 2 (left_id, right_id)"
            )
        pairs.append((_record_id(pair[0], i, "left_id"), _record_id(pair[1], i, "right_id")))
    return pairs


def _column_names(truth: Any) -> list[str] | None:
    """The column names of a table (DataFrame, pyarrow Table, dict of columns), else None."""
    if isinstance(truth, Mapping):
        return [str(c) for c in truth]
    names = getattr(truth, "column_names", None)  # pyarrow
    if names is None and hasattr(truth, "columns") and hasattr(truth, "__getitem__"):
        names = truth.columns  # pandas, polars
    if names is None or isinstance(names, str):
        return None
    return [str(c) for c in names]


def _column(table: Any, name: str) -> list[Any]:
    column = table[name]
    for method in ("to_list", "to_pylist", "tolist"):
        if hasattr(column, method):
            return list(getattr(column, method)())
    return list(column)


def _record_id(value: Any, pair: int, side: str) -> str:
    """A record id of the truth: a string, or an integer taken as its text."""
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return str(value)
    if value is None:
        what = "missing (None)"
    elif type(value).__name__ in ("NAType", "NaTType") or (
        isinstance(value, float) and value != value
    ):
        what = "missing (NaN)"  # NaN, or pandas' NA and NaT
    else:
        what = f"of type {type(value).__name__}"
    raise InvalidArgumentError(f"true pair {pair}: {side} is {what}, not a record id (a string)")
