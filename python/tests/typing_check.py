"""Checked by mypy --strict (not run by pytest): the public API is typed as documented."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pseudolink


def uses_the_api(path: Path) -> dict[str, Any]:
    schema: pseudolink.Schema = pseudolink.Schema.example()
    secret: pseudolink.Secret = pseudolink.Secret.from_file(path)
    extract: pseudolink.EncodedExtract = pseudolink.encode(path, schema, secret, strict=True)
    rows: list[dict[str, Any]] = extract.rejected
    count: int = len(extract) + len(rows)
    fingerprint: str = schema.fingerprint
    extract.write_csv(path.with_suffix(".out.csv"), rejects=path.with_suffix(".rej.csv"))
    again = pseudolink.read_encoded(str(path), schema)
    try:
        pseudolink.Schema.from_json("{}")
    except pseudolink.InputError as e:
        line: int | None = e.line
        print(line, e.file, e.field)
    except pseudolink.PseudolinkError:
        pass
    print(count, fingerprint)
    return again.manifest
