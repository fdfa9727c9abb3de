"""The secret never leaks through the Python API.

Every entry point is used with a known secret, and everything it gives back or leaves behind is
scanned for that secret in raw, hex (lower and upper case), base64 (standard, unpadded, URL-safe)
and escaped-bytes form: returned strings and dicts, reprs, exception messages and attributes,
warnings, log records, captured stdout and stderr (at the file-descriptor level, so the Rust
core's output is included), pickling attempts, and every file written. The same scan, run on
planted copies of the secret, must find every form, so the test cannot pass vacuously.
(`cli/tests/e2e/secrets.rs` does the same for the CLI, `ffi/tests/secret_scan.c` for the C API.)
"""

from __future__ import annotations

import base64
import copy
import csv
import hashlib
import json
import logging
import pickle
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pseudolink

#: The known secret: distinctive bytes, never used for anything else.
RAW = hashlib.sha256(b"pseudolink secret scan: this secret must appear nowhere").digest()
assert len(RAW) == 32


def forms(raw: bytes) -> dict[str, bytes]:
    """Every form of `raw` that must appear nowhere, by name."""
    hexed = raw.hex()
    return {
        "raw": raw,
        "hex": hexed.encode(),
        "HEX": hexed.upper().encode(),
        "base64": base64.b64encode(raw),
        "base64 unpadded": base64.b64encode(raw).rstrip(b"="),
        "base64 url-safe": base64.urlsafe_b64encode(raw).rstrip(b"="),
        "escaped bytes": repr(raw)[2:-1].encode(),
        # A partial leak is a leak: any 12 bytes' worth of the hex, here from the middle.
        "hex fragment": hexed[10:34].encode(),
        "HEX fragment": hexed[10:34].upper().encode(),
    }


FORMS = forms(RAW)


def found(blob: bytes | str, forms: dict[str, bytes] = FORMS) -> list[str]:
    """The names of the forms that occur in `blob` (text is scanned as UTF-8)."""
    data = blob.encode("utf-8", "surrogateescape") if isinstance(blob, str) else blob
    return [name for name, form in forms.items() if form in data]


class Scan:
    """Collects everything the API gave back, labelled, and checks each for the secret."""

    def __init__(self) -> None:
        self.items: list[tuple[str, bytes | str]] = []

    def add(self, what: str, value: Any) -> None:
        """Records `value`, its repr and str, and (for containers) everything inside."""
        self.items.append((what, repr(value)))
        self.items.append((what, str(value)))
        if isinstance(value, (bytes, bytearray)):
            self.items.append((what, bytes(value)))
        elif isinstance(value, dict):
            self.items.append((what, json.dumps(value, default=repr)))
            for k, v in value.items():
                self.add(f"{what}[{k!r}]", v)
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                self.add(f"{what}[{i}]", v)

    def add_object(self, what: str, obj: Any) -> None:
        """Records an object's repr and str and every public attribute it has."""
        self.add(what, obj)
        for name in dir(obj):
            if name.startswith("_"):
                continue
            try:
                value = getattr(obj, name)
            except Exception as e:
                self.add_error(f"{what}.{name}", e)
                continue
            if not callable(value):
                self.add(f"{what}.{name}", value)

    def add_error(self, what: str, error: BaseException) -> None:
        """Records an exception: message, repr, args, attributes, cause, traceback."""
        self.add(f"{what}: args", error.args)
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        self.items.append((f"{what}: traceback", text))
        for name in ("path", "file", "line", "field", "action", "filename", "strerror"):
            if hasattr(error, name):
                self.add(f"{what}.{name}", getattr(error, name))
        for linked in (error.__cause__, error.__context__):
            if linked is not None:
                self.add(f"{what}: cause", linked)

    def expect_error(self, what: str, kind: type[BaseException], fn: Any, *args: Any, **kw: Any):
        """Calls fn, which must raise `kind`, and records the exception."""
        with pytest.raises(kind) as info:
            fn(*args, **kw)
        self.add_error(what, info.value)
        return info.value

    def add_files(self, root: Path, skip: set[Path]) -> int:
        """Records every file under `root` (bytes) except `skip`; returns how many."""
        n = 0
        for path in sorted(root.rglob("*")):
            if path.is_file() and path not in skip:
                self.items.append((str(path.relative_to(root)), path.read_bytes()))
                n += 1
        return n

    def leaks(self, forms: dict[str, bytes] = FORMS) -> list[str]:
        return [f"{what}: {name}" for what, blob in self.items for name in found(blob, forms)]


def test_the_scanner_finds_every_planted_form(tmp_path):
    """The scan is not vacuous: each form, planted in text, bytes, reprs and files, is found."""
    for name, form in FORMS.items():
        assert found(b"xx" + form + b"yy") == [n for n, f in FORMS.items() if f in form], name
    planted = Scan()
    planted.add("a dict", {"manifest": {"note": f"key {RAW.hex().upper()}"}})
    planted.add("bytes", RAW)
    planted.add("a list", [1, base64.b64encode(RAW).decode()])
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "leak.bin").write_bytes(b"\0" + RAW + b"\0")
    (tmp_path / "leak.txt").write_text(f"x{base64.urlsafe_b64encode(RAW).decode()}x")
    assert planted.add_files(tmp_path, set()) == 2
    try:
        raise ValueError(f"bad secret {RAW!r}")
    except ValueError as e:
        planted.add_error("an error", e)
    leaks = planted.leaks()
    for what, name in [
        ("a dict", "HEX"),
        ("bytes", "raw"),
        ("bytes", "escaped bytes"),
        ("a list[1]", "base64"),
        ("sub/leak.bin", "raw"),
        ("leak.txt", "base64 url-safe"),
        ("an error: traceback", "escaped bytes"),
    ]:
        assert any(leak.startswith(what) and leak.endswith(name) for leak in leaks), (what, name)
    # A clean scan of the same kinds of things finds nothing.
    clean = Scan()
    clean.add("a dict", {"manifest": {"note": "key " + "ab" * 32}})
    clean.add("bytes", bytes(32))
    assert clean.leaks() == []


PEOPLE = [
    ("Olivia", "Smith", "2014-03-09", "CV1 2AB", "9434765919"),
    ("Amelia", "Khan", "2012-07-21", "CV3 4FJ", ""),
    ("Isla", "Brown", "2015-01-30", "CV6 1AA", ""),
    ("Ava", "Taylor", "2013-11-02", "CV2 5DE", ""),
    ("Grace", "Wilson", "2011-05-17", "CV4 8UW", ""),
    ("Ruby", "Evans", "2016-09-12", "CV5 6GH", ""),
    ("Zoë", "O'Neil", "31/02/2014", "CV99 ZZZZ", ""),
]


def rows(prefix: str, upper: bool = False) -> list[dict[str, str]]:
    out = []
    for i, (first, last, dob, postcode, nhs) in enumerate(PEOPLE):
        out.append(
            {
                "record_id": f"{prefix}{i}",
                "first_name": first.upper() if upper else first,
                "last_name": last,
                "date_of_birth": dob,
                "sex": "F",
                "postcode": postcode.lower() if upper else postcode,
                "nhs_number": nhs,
            }
        )
    return out


def write_rows(path: Path, data: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(data[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(data)
    return path


def one_by_one(data: list[dict[str, str]]) -> Iterator[dict[str, str]]:
    yield from data


@pytest.fixture
def capture_all(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log record at every level, from every logger."""
    caplog.set_level(logging.DEBUG)
    return caplog


def test_the_secret_appears_nowhere_in_what_the_python_api_gives_back(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], capture_all: pytest.LogCaptureFixture
) -> None:
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    pl = pytest.importorskip("polars")
    keys = tmp_path / "keys"  # the only place the secret is written (by this test, not the API)
    out = tmp_path / "out"  # everything the API writes
    keys.mkdir()
    out.mkdir()
    scan = Scan()
    schema = pseudolink.Schema.example()
    scan.add_object("Schema", schema)
    scan.add("Schema.to_json()", schema.to_json())

    # --- The secret, every way it can be loaded, and every way it might be shown or copied.
    secret_files = {
        "lower.hex": RAW.hex() + "\n",
        "upper.hex": RAW.hex().upper(),
        "crlf.hex": RAW.hex() + "\r\n",
    }
    for name, text in secret_files.items():
        (keys / name).write_text(text, newline="")
        (keys / name).chmod(0o600)
    secret = pseudolink.Secret.from_bytes(RAW)
    for name in secret_files:
        loaded = pseudolink.Secret.from_file(keys / name)
        assert loaded.check_value == secret.check_value
        scan.add_object(f"Secret.from_file({name})", loaded)
    scan.add_object("Secret.from_file(str)", pseudolink.Secret.from_file(str(keys / "lower.hex")))
    scan.add_object("Secret.from_bytes", secret)
    scan.add("format(secret)", f"{secret} {secret!r} {secret!s} {secret!a}")
    scan.add("dir(secret)", dir(secret))
    scan.add_object("Secret.generate", pseudolink.Secret.generate())
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        scan.expect_error(f"pickle protocol {protocol}", TypeError, pickle.dumps, secret, protocol)
    scan.expect_error("copy.copy", TypeError, copy.copy, secret)
    scan.expect_error("copy.deepcopy", TypeError, copy.deepcopy, secret)
    scan.expect_error("__reduce__", TypeError, secret.__reduce__)
    scan.expect_error("__reduce_ex__", TypeError, secret.__reduce_ex__, 2)
    scan.expect_error("__getstate__", TypeError, secret.__getstate__)
    scan.expect_error("setattr", (AttributeError, TypeError), setattr, secret, "bytes", b"")
    assert not hasattr(secret, "__dict__")

    # Bad secrets made from the known one: messages must describe, never echo.
    bad_files = {
        "short.hex": RAW.hex()[:-1],
        "long.hex": RAW.hex() + "0",
        "twice.hex": RAW.hex() * 2,
        "nonhex.hex": RAW.hex()[:-1] + "g",
        "spaced.hex": " ".join(RAW.hex()[i : i + 2] for i in range(0, 64, 2)),
        "base64.hex": base64.b64encode(RAW).decode(),
        "prefixed.hex": "0x" + RAW.hex(),
    }
    for name, text in bad_files.items():
        (keys / name).write_text(text)
        scan.expect_error(
            f"Secret.from_file({name})",
            pseudolink.SecretError,
            pseudolink.Secret.from_file,
            keys / name,
        )
    (keys / "raw.bin").write_bytes(RAW)
    scan.expect_error(
        "Secret.from_file(raw bytes)",
        pseudolink.SecretError,
        pseudolink.Secret.from_file,
        keys / "raw.bin",
    )
    (keys / "raw-newline.bin").write_bytes(RAW + b"\n")
    scan.expect_error(
        "Secret.from_file(raw bytes and newline)",
        pseudolink.SecretError,
        pseudolink.Secret.from_file,
        keys / "raw-newline.bin",
    )
    scan.expect_error(
        "Secret.from_file(missing)",
        pseudolink.FileError,
        pseudolink.Secret.from_file,
        keys / "missing.hex",
    )
    # The secret pasted where the name of its file belongs: refused without being echoed.
    for what, given in [
        ("hex", RAW.hex()),
        ("HEX", RAW.hex().upper()),
        ("hex under a directory", str(keys / RAW.hex())),
        ("base64", base64.b64encode(RAW).decode()),
        ("base64 url-safe", base64.urlsafe_b64encode(RAW).decode().rstrip("=")),
    ]:
        scan.expect_error(
            f"Secret.from_file(the secret as {what})",
            pseudolink.FileError,
            pseudolink.Secret.from_file,
            given,
        )
    for what, data in [("31 bytes", RAW[:31]), ("33 bytes", RAW + b"\0"), ("empty", b"")]:
        scan.expect_error(
            f"Secret.from_bytes({what})", pseudolink.SecretError, pseudolink.Secret.from_bytes, data
        )
    for what, value in [("hex str", RAW.hex()), ("bytearray", bytearray(RAW))]:
        scan.expect_error(
            f"Secret.from_bytes({what})", TypeError, pseudolink.Secret.from_bytes, value
        )

    # --- Encoding: every input type, with progress on (its output goes to stderr).
    left_rows, right_rows = rows("L"), rows("R", upper=True)
    csv_path = write_rows(tmp_path / "left.csv", [*left_rows, {"record_id": "", "first_name": "X"}])
    write_rows(tmp_path / "right.csv", right_rows)
    inputs: dict[str, Any] = {
        "csv str": str(csv_path),
        "csv Path": csv_path,
        "list of dicts": left_rows,
        "generator": one_by_one(left_rows),
        "dict of columns": {k: [r[k] for r in left_rows] for k in left_rows[0]},
        "pandas": pd.DataFrame(left_rows),
        "pandas without arrow": pd.DataFrame(left_rows).astype(object),
        "polars": pl.DataFrame(left_rows),
        "pyarrow Table": pa.Table.from_pylist(left_rows),
        "pyarrow RecordBatchReader": pa.Table.from_pylist(left_rows).to_reader(),
        "empty list": [],
    }
    extracts: dict[str, pseudolink.EncodedExtract] = {}
    for what, data in inputs.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            extract = pseudolink.encode(
                data, schema, secret, progress=True, agreement="ISA-7", purpose="secret scan"
            )
        scan.add("warnings", [str(w.message) for w in caught])
        extracts[what] = extract
        scan.add_object(f"encode({what})", extract)
        scan.add(f"encode({what}).manifest", extract.manifest)
        scan.add(f"encode({what}).rejected", extract.rejected)
        scan.add(f"encode({what}).to_pandas()", extract.to_pandas().to_csv())
        scan.add(f"encode({what}).to_arrow()", extract.to_arrow().to_pylist())
        scan.add(f"encode({what}) via polars", pl.DataFrame(extract).write_csv())
        scan.add(f"encode({what}) via pa.table", str(pa.table(extract)))
    assert extracts["csv str"].rejected, "the CSV has a rejected row"
    assert len(extracts["list of dicts"]) == len(left_rows)

    # Writing: extract, manifest, rejects; then reading back.
    left = extracts["csv Path"]
    left.write_csv(out / "left.enc.csv", rejects=out / "left.rejects.csv", progress=True)
    extracts["list of dicts"].write_csv(out / "list.enc.csv")
    right = pseudolink.encode(tmp_path / "right.csv", schema, secret, agreement="ISA-7")
    right.write_csv(out / "right.enc.csv")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        file_manifest = pseudolink.encode_file(
            csv_path, out / "file.enc.csv", schema, secret, rejects=out / "file.rejects.csv"
        )
    scan.add("encode_file warnings", [str(w.message) for w in caught])
    scan.add("encode_file manifest", file_manifest)
    scan.add("manifest after write", left.manifest)
    again = pseudolink.read_encoded(out / "left.enc.csv")
    scan.add_object("read_encoded", again)
    scan.add("read_encoded.manifest", again.manifest)
    scan.add_object(
        "read_encoded(schema)", pseudolink.read_encoded(str(out / "right.enc.csv"), schema)
    )

    # Linking, deduplicating, evaluating, explaining; the model; writing links and summaries.
    links = pseudolink.link(
        left, right, schema, progress=True, agreement="ISA-7", purpose="secret scan"
    )
    scan.add_object("link", links)
    scan.add("link.summary", links.summary)
    scan.add("link.to_pandas()", links.to_pandas().to_csv())
    scan.add("link.to_arrow()", links.to_arrow().to_pylist())
    scan.add_object("link.model", links.model)
    scan.add("link.model.to_json()", links.model.to_json())
    first = links.to_arrow().to_pylist()[0]
    scan.add("explain", links.explain(first["left_id"], first["right_id"]))
    links.write_csv(out / "links.csv")
    (out / "model.json").write_text(links.model.to_json())
    reused = pseudolink.link(
        again, right, schema, model=pseudolink.Model.from_json(links.model.to_json())
    )
    scan.add("link(model=).summary", reused.summary)
    reused.write_csv(out / "links-reused.csv")
    truth = [(f"L{i}", f"R{i}") for i in range(len(PEOPLE))]
    scan.add("evaluate(Links)", pseudolink.evaluate(links, truth))
    scan.add("evaluate(path)", pseudolink.evaluate(out / "links.csv", truth))
    scan.add(
        "evaluate(DataFrame)",
        pseudolink.evaluate(links, pd.DataFrame(truth, columns=["left_id", "right_id"])),
    )
    # No duplicates within one agency's extract: nothing to train on, so an error; with a model
    # it runs.
    scan.expect_error(
        "dedupe(nothing to train on)",
        pseudolink.InvalidArgumentError,
        pseudolink.dedupe,
        left,
        schema,
    )
    dups = pseudolink.dedupe(left, schema, model=links.model, progress=True, agreement="ISA-7")
    scan.add_object("dedupe", dups)
    scan.add("dedupe.summary", dups.summary)
    dups.write_csv(out / "dups.csv")
    clean_left = write_rows(tmp_path / "left-clean.csv", left_rows)
    clear = pseudolink.link(clean_left, tmp_path / "right.csv", schema, clear=True)
    scan.add("link(clear=True).summary", clear.summary)
    clear.write_csv(out / "clear.csv")

    # --- Every error a wrong input or a mismatched secret raises.
    other_secret = pseudolink.Secret.from_bytes(bytes(b ^ 0xFF for b in RAW))
    other = pseudolink.encode(right_rows, schema, other_secret)
    scan.expect_error(
        "link(mismatched secret)", pseudolink.MismatchError, pseudolink.link, left, other, schema
    )
    scan.expect_error(
        "link(mismatched secret, reversed)",
        pseudolink.MismatchError,
        pseudolink.link,
        other,
        left,
        schema,
    )
    other_schema_json = json.loads(schema.to_json())
    other_schema_json["tokens"].append(["first_name", "sex"])
    other_schema = pseudolink.Schema.from_json(json.dumps(other_schema_json))
    scan.expect_error(
        "link(wrong schema)", pseudolink.MismatchError, pseudolink.link, left, right, other_schema
    )
    scan.expect_error(
        "read_encoded(wrong schema)",
        pseudolink.MismatchError,
        pseudolink.read_encoded,
        out / "left.enc.csv",
        other_schema,
    )
    tampered = out / "tampered.enc.csv"
    tampered.write_bytes((out / "left.enc.csv").read_bytes().replace(b"L1", b"L9"))
    (out / "tampered.enc.csv.manifest.json").write_bytes(
        (out / "left.enc.csv.manifest.json").read_bytes()
    )
    scan.expect_error(
        "read_encoded(tampered)", pseudolink.PseudolinkError, pseudolink.read_encoded, tampered
    )
    scan.expect_error(
        "read_encoded(missing)", pseudolink.PseudolinkError, pseudolink.read_encoded, out / "none"
    )
    scan.expect_error(
        "encode(strict)",
        pseudolink.InputError,
        pseudolink.encode,
        csv_path,
        schema,
        secret,
        strict=True,
    )
    scan.expect_error(
        "encode(missing file)", pseudolink.FileError, pseudolink.encode, "nope.csv", schema, secret
    )
    scan.expect_error("encode(a number)", TypeError, pseudolink.encode, 42, schema, secret)
    scan.expect_error(
        "encode(list of str)", TypeError, pseudolink.encode, ["a", "b"], schema, secret
    )
    scan.expect_error(
        "encode(secret as schema)", TypeError, pseudolink.encode, left_rows, secret, secret
    )
    scan.expect_error(
        "encode(bytes as secret)", TypeError, pseudolink.encode, left_rows, schema, RAW
    )
    scan.expect_error(
        "encode(bad cell)",
        pseudolink.InputError,
        pseudolink.encode,
        [{"record_id": "A", "first_name": "x" * 5000}],
        schema,
        secret,
        strict=True,
    )
    scan.expect_error(
        "Schema.from_json(bad)", pseudolink.SchemaError, pseudolink.Schema.from_json, "{}"
    )
    scan.expect_error(
        "Model.from_json(bad)", pseudolink.ModelError, pseudolink.Model.from_json, "{}"
    )
    scan.expect_error(
        "link(threshold)",
        pseudolink.InvalidArgumentError,
        pseudolink.link,
        left,
        right,
        schema,
        threshold=2.0,
    )
    scan.expect_error(
        "explain(no such id)", pseudolink.InvalidArgumentError, links.explain, "nobody", "R0"
    )
    scan.expect_error(
        "write_csv(no such directory)",
        pseudolink.FileError,
        left.write_csv,
        tmp_path / "no" / "such" / "dir.csv",
    )
    scan.expect_error(
        "link(raw csv path, not clear)",
        pseudolink.PseudolinkError,
        pseudolink.link,
        str(csv_path),
        right,
        schema,
    )
    for what, obj in [("EncodedExtract", left), ("Links", links), ("Model", links.model)]:
        try:
            blob = pickle.dumps(obj)
        except Exception as e:
            scan.add_error(f"pickle({what})", e)
        else:
            scan.items.append((f"pickle({what})", blob))

    # --- Everything captured, and every file written.
    captured = capfd.readouterr()
    scan.items.append(("stdout", captured.out))
    scan.items.append(("stderr", captured.err))
    scan.items.append(("log records", capture_all.text))
    scan.add("log messages", [r.getMessage() for r in capture_all.records])
    written = scan.add_files(out, skip=set())
    expected = {
        "left.enc.csv",
        "left.enc.csv.manifest.json",
        "left.rejects.csv",
        "list.enc.csv.manifest.json",
        "right.enc.csv.manifest.json",
        "links.csv",
        "links.csv.summary.json",
        "links-reused.csv.summary.json",
        "dups.csv.summary.json",
        "clear.csv.summary.json",
    }
    assert expected <= {p.name for p in out.iterdir()}, sorted(p.name for p in out.iterdir())
    assert written >= 15
    assert "encoded" in captured.err or "rows" in captured.err or captured.err == ""
    assert len(scan.items) > 1000, len(scan.items)
    leaks = scan.leaks()
    assert leaks == [], "the secret leaked:\n" + "\n".join(leaks[:50])

    # The key check value is everywhere it should be, and differs from the secret's forms.
    assert secret.check_value in (out / "left.enc.csv.manifest.json").read_text()
    assert found(secret.check_value) == []
