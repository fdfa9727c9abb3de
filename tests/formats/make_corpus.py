#!/usr/bin/env python3
"""Writes the council-style input corpus of tests/formats from people.csv (UTF-8, comma).

Each file holds the same records as people.csv in another form a council's system or Excel
exports; every one must encode to the same bytes as people.csv (cli/tests/e2e/formats.rs,
python/tests/test_formats.py). Run it after editing people.csv:

    python3 tests/formats/make_corpus.py
"""

import csv
import io
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
# The renamed columns of a system that calls them otherwise (the schema is not edited).
RENAMED = {
    "record_id": "PersonID",
    "first_name": "Forename",
    "last_name": "Surname",
    "date_of_birth": "DOB",
    "postcode": "Post Code",
}


def rows():
    with open(HERE / "people.csv", encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def text(table, delimiter=",", line_end="\n"):
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=line_end).writerows(table)
    return out.getvalue()


def main():
    table = rows()
    files = {
        # A legacy system's "ANSI" export: Windows-1252 (£, ë, á and the curly apostrophe).
        "people-windows-1252.csv": text(table).encode("cp1252"),
        # Excel's "Unicode text": UTF-16 little-endian with a byte order mark, tabs, CRLF.
        "people-excel-unicode.txt": b"\xff\xfe"
        + text(table, "\t", "\r\n").encode("utf-16-le"),
        # UTF-16 big-endian without a byte order mark (read with --encoding utf-16be).
        "people-utf16be.csv": text(table).encode("utf-16-be"),
        "people-semicolon.csv": text(table, ";").encode("utf-8"),
        "people-pipe.csv": text(table, "|").encode("utf-8"),
        # A UTF-8 export with a byte order mark and Windows line ends.
        "people-bom-crlf.csv": b"\xef\xbb\xbf" + text(table, ",", "\r\n").encode("utf-8"),
        "people-renamed.csv": text(
            [[RENAMED.get(c, c) for c in table[0]]] + table[1:]
        ).encode("utf-8"),
        "columns.json": (json.dumps(RENAMED, indent=2) + "\n").encode("utf-8"),
        "columns.csv": text(
            [["schema_column", "input_column"]] + [[k, v] for k, v in RENAMED.items()]
        ).encode("utf-8"),
    }
    for name, data in files.items():
        (HERE / name).write_bytes(data)


if __name__ == "__main__":
    main()
