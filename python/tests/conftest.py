"""Shared fixtures: golden vectors, the test secret, the CLI binary, small synthetic extracts."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import pseudolink

REPO = Path(__file__).resolve().parents[2]

if os.environ.get("PSEUDOLINK_REQUIRE_EXTRAS"):
    # `make python-test` runs the optional-extras tests too: a missing package is a failure,
    # never a quiet skip.
    import hypothesis  # noqa: F401
    import pandas  # noqa: F401
    import polars  # noqa: F401
    import pyarrow  # noqa: F401
VECTORS = REPO / "tests" / "vectors" / "encode.json"


def find_cli() -> Path | None:
    """The `pseudolink` binary: $PSEUDOLINK_CLI, else target/{release,debug} of the workspace."""
    env = os.environ.get("PSEUDOLINK_CLI")
    if env:
        return Path(env)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    for profile in ("release", "debug"):
        candidate = target / profile / "pseudolink"
        if candidate.is_file():
            return candidate
    found = shutil.which("pseudolink")
    return Path(found) if found else None


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    return json.loads(VECTORS.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def vector_schema(vectors: dict[str, Any]) -> pseudolink.Schema:
    return pseudolink.Schema.from_json(vectors["schema_json"])


@pytest.fixture(scope="session")
def vector_secret(vectors: dict[str, Any]) -> pseudolink.Secret:
    return pseudolink.Secret.from_bytes(bytes.fromhex(vectors["secret_hex"]))


@pytest.fixture(scope="session")
def vector_rows(vectors: dict[str, Any], vector_schema: pseudolink.Schema) -> list[dict[str, str]]:
    columns = vector_schema.input_columns
    return [dict(zip(columns, case["values"])) for case in vectors["cases"]]


@pytest.fixture(scope="session")
def cli() -> Path:
    path = find_cli()
    if path is None:
        if os.environ.get("PSEUDOLINK_REQUIRE_CLI"):
            pytest.fail("PSEUDOLINK_REQUIRE_CLI is set but no pseudolink binary was found")
        pytest.skip("no pseudolink binary (build it with cargo build -p pseudolink-cli)")
    return path


def write_secret_and_schema(d: Path, vectors: dict[str, Any]) -> tuple[Path, Path]:
    """The golden vectors' secret (`d/k.hex`, mode 0600) and the default schema
    (`d/schema.json`), as an agency keeps them; returns their paths."""
    secret_file = d / "k.hex"
    secret_file.write_text(vectors["secret_hex"] + "\n")
    secret_file.chmod(0o600)
    schema_file = d / "schema.json"
    schema_file.write_text(pseudolink.Schema.example().to_json())
    return secret_file, schema_file


def run_cli(cli: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(cli), *map(str, args)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory, cli: Path) -> Path:
    """A small synthetic population written by `pseudolink synth` (two agencies and the truth)."""
    out = tmp_path_factory.mktemp("synth")
    run_cli(cli, "synth", "--people", "300", "--seed", "7", "--out", out)
    return out


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def without_times(manifest: dict[str, Any]) -> dict[str, Any]:
    m = json.loads(json.dumps(manifest))
    m["run"]["started_at"] = m["run"]["finished_at"] = ""
    return m


BIG_ROWS = 200_000


def make_rows(n: int, seed: int = 0) -> list[dict[str, str]]:
    """n distinct person rows in the formats agencies send (unique ids, varied values)."""
    first = [
        "Olivia",
        "Amelia",
        "Isla",
        "Ava",
        "Mohammed",
        "Noah",
        "Oliver",
        "George",
        "Zoë",
        "Siobhán",
    ]
    last = [
        "Smith",
        "Jones",
        "Taylor",
        "Brown",
        "Williams",
        "Wilson",
        "O'Neil",
        "Khan",
        "Łukasiewicz",
    ]
    rows = []
    for i in range(n):
        j = i + seed
        rows.append(
            {
                "record_id": f"R{j:08d}",
                "first_name": first[j % len(first)],
                "middle_name": "" if j % 3 else "Anne",
                "last_name": last[(j // 7) % len(last)],
                "date_of_birth": f"{1 + j % 28:02d}/{1 + j % 12:02d}/{1950 + j % 70}",
                "sex": "MF"[j % 2],
                "postcode": f"CV{1 + j % 9} {j % 10}{'ABDEFGHJ'[j % 8]}{'LNPQRSTU'[(j // 8) % 8]}",
                "address_line_1": f"{1 + j % 300} High Street",
                "nhs_number": "",
            }
        )
    return rows


@pytest.fixture(scope="session")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CSV of BIG_ROWS rows, for tests that need an encode to take a while."""
    return write_csv(tmp_path_factory.mktemp("big") / "big.csv", make_rows(BIG_ROWS))
