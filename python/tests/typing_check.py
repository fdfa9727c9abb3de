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
    strict: pseudolink.Secret = pseudolink.Secret.from_file(path, strict=True)
    unverified = pseudolink.read_encoded(path, schema, allow_unverified=True)
    verified: bool = unverified.verified
    # Paths of encoded extracts (clear=False) or raw CSV files (clear=True).
    links: pseudolink.Links = pseudolink.link(path, str(path), schema, allow_unverified=True)
    pseudolink.dedupe(path, schema, clear=True)
    scores = pseudolink.evaluate(links, path.with_suffix(".truth.csv"))
    scores = pseudolink.evaluate(links, [("A1", "B1")])
    category: type[UserWarning] = pseudolink.SecretPermissionWarning
    category = pseudolink.UnverifiedExtractWarning
    print(strict, verified, scores, category)
    return again.manifest
