"""Every encode and link run through Python leaves the record a data protection officer reads:
inputs and their fingerprints, schema fingerprint, key check value, counts, who ran it (user,
host; keyed in a manifest, which goes to the linkage unit), agreement and purpose, start and end
time; the same record the CLI writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pseudolink
from conftest import run_cli

AGREEMENT, PURPOSE = "ISA-2026-07", "Early Help"


def check_run(
    run: dict[str, Any], agreement: str | None, purpose: str | None, keyed: bool = False
) -> None:
    if keyed:
        # A manifest names nobody: the operator and host only as keyed hashes.
        assert "user" not in run and "host" not in run, run
        assert len(run["user_keyed"]) == 32 and len(run["host_keyed"]) == 32, run
    else:
        assert run["user"], run
        assert run["host"], run
    assert run["started_at"], run
    assert run["finished_at"], run
    assert run["started_at"] <= run["finished_at"]
    assert (run["agreement"], run["purpose"]) == (agreement, purpose)


def test_encode_records_the_run_in_the_manifest(synth: Path, tmp_path: Path) -> None:
    schema = pseudolink.Schema.example()
    secret = pseudolink.Secret.generate()
    extract = pseudolink.encode(
        synth / "agency_a.csv", schema, secret, agreement=AGREEMENT, purpose=PURPOSE
    )
    m = extract.manifest
    assert m["schema_fingerprint"] == schema.fingerprint
    assert m["key_check_value"] == secret.check_value
    # The input's name only as a keyed hash (the manifest goes to the linkage unit).
    assert "path" not in m["input"] and len(m["input"]["path_keyed"]) == 32
    assert "agency_a" not in json.dumps(m)
    assert m["input"]["bytes"] == (synth / "agency_a.csv").stat().st_size
    assert len(m["input"]["blake3"]) == 64
    assert m["counts"]["rows_read"] == m["counts"]["encoded"] + m["counts"]["rejected"] > 0
    assert m["pair_stats"]["random_pairs"] > 0
    check_run(m["run"], AGREEMENT, PURPOSE, keyed=True)

    extract.write_csv(tmp_path / "a.csv")
    on_disk = json.loads((tmp_path / "a.csv.manifest.json").read_text())
    assert on_disk["run"] == m["run"]
    assert on_disk["output"]["blake3"]
    assert on_disk["output"]["bytes"] == (tmp_path / "a.csv").stat().st_size
    check_run(
        pseudolink.encode([{"record_id": "x"}], schema, secret).manifest["run"], None, None, True
    )


def test_link_records_the_run_like_the_cli(
    synth: Path, cli: Path, vectors: dict[str, Any], tmp_path: Path
) -> None:
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(pseudolink.Schema.example().to_json())
    schema = pseudolink.Schema.from_file(schema_file)
    key = tmp_path / "k.hex"
    key.write_text(vectors["secret_hex"] + "\n")
    key.chmod(0o600)
    secret = pseudolink.Secret.from_file(key)
    left = pseudolink.encode(synth / "agency_a.csv", schema, secret, agreement=AGREEMENT)
    right = pseudolink.encode(synth / "agency_b.csv", schema, secret, agreement=AGREEMENT)
    right.write_csv(tmp_path / "b.csv")
    right_read = pseudolink.read_encoded(tmp_path / "b.csv", schema)

    links = pseudolink.link(left, right_read, schema, agreement=AGREEMENT, purpose=PURPOSE)
    s = links.summary
    assert s["schema_fingerprint"] == schema.fingerprint
    check_run(s["run"], AGREEMENT, PURPOSE)
    assert [i["role"] for i in s["inputs"]] == ["left", "right"]
    for i, x in zip(s["inputs"], (left, right_read)):
        assert i["key_check_value"] == secret.check_value
        assert i["schema_fingerprint"] == schema.fingerprint
        assert i["agreement"] == AGREEMENT
        assert i["records"] == len(x)
        assert i["manifest_verified"] is True
    # The extract never written is named as such, with the fingerprint its file would have.
    left.write_csv(tmp_path / "a.csv")
    in_memory = s["inputs"][0]["file"]
    assert in_memory["path"] == "<in-memory extract left>"
    assert (in_memory["bytes"], in_memory["blake3"]) == (
        left.manifest["output"]["bytes"],
        left.manifest["output"]["blake3"],
    )
    # The extract read from its file is named by its file.
    assert s["inputs"][1]["file"]["blake3"] == right.manifest["output"]["blake3"]

    # write_csv writes the summary the CLI writes, with the same keys and the same figures.
    links.write_csv(tmp_path / "py.links.csv")
    py = json.loads((tmp_path / "py.links.csv.summary.json").read_text())
    run_cli(
        cli, "link", "--schema", schema_file, "--left", tmp_path / "a.csv",
        "--right", tmp_path / "b.csv", "--output", tmp_path / "cli.links.csv",
        "--agreement", AGREEMENT, "--purpose", PURPOSE,
    )  # fmt: skip
    cli_summary = json.loads((tmp_path / "cli.links.csv.summary.json").read_text())
    assert set(py) == set(cli_summary)
    for key in ("format", "mode", "comparison", "schema_fingerprint", "counts", "thresholds"):
        assert py[key] == cli_summary[key], key
    assert py["blocking"]["candidate_pairs"] == cli_summary["blocking"]["candidate_pairs"]
    assert py["outputs"]["links"]["blake3"] == cli_summary["outputs"]["links"]["blake3"]
    assert py["run"] == s["run"]
    for p, c in zip(py["inputs"], cli_summary["inputs"]):
        assert p["file"]["blake3"] == c["file"]["blake3"]
        for key in ("role", "records", "key_check_value", "schema_fingerprint", "agreement"):
            assert p[key] == c[key], key
    check_run(cli_summary["run"], AGREEMENT, PURPOSE)

    # dedupe and clear mode too.
    dups = pseudolink.dedupe(right_read, schema, model=links.model, purpose=PURPOSE)
    check_run(dups.summary["run"], None, PURPOSE)
    assert [i["role"] for i in dups.summary["inputs"]] == ["input"]
    clear = pseudolink.link(synth / "agency_a.csv", synth / "agency_b.csv", schema, clear=True)
    assert clear.summary["inputs"][0]["file"]["path"].endswith("agency_a.csv")
    assert any("cleartext" in w for w in clear.summary["warnings"])
    check_run(clear.summary["run"], None, None)
