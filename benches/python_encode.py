"""Python encode benchmark: pseudolink.encode on a ~1,000,000-row CSV path and pandas DataFrame
(and polars / pyarrow tables) against `pseudolink encode` on the same file.

Usage (release builds; `make python-bench` does all of it):
    python benches/python_encode.py --cli target/release/pseudolink [--people 1400000] [--runs 3]

The data is `pseudolink synth --people 1400000 --seed 11` (agency_a.csv holds ~1M rows), the
schema the default one. Each measurement is the best of --runs wall-clock runs, taken in rounds
(every case once per round, the CLI included) so that no case always runs right after the same
other one, and each run starts without the previous run's output file (as a real run writes a new
file; replacing a gigabyte file costs its deletion too). The CLI reads the
CSV, encodes and writes the extract and manifest; "encode + write_csv" is the Python equivalent,
"encode" alone keeps the extract in memory. Loading the DataFrame is not timed; turning it into
Arrow (pyarrow.Table.from_pandas) is, as part of encode.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pseudolink


def timed(fn: Callable[[], Any], outputs: list[Path]) -> float:
    """Wall-clock seconds of one run of `fn`, started without its output files."""
    for path in outputs:
        path.unlink(missing_ok=True)
        Path(f"{path}.manifest.json").unlink(missing_ok=True)
    gc.collect()
    started = time.perf_counter()
    result = fn()
    secs = time.perf_counter() - started
    del result
    return secs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", type=Path, required=True, help="the pseudolink binary")
    parser.add_argument("--people", type=int, default=1_400_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path("target/bench-data"))
    args = parser.parse_args()

    import pandas as pd
    import polars as pl
    import pyarrow.csv as pacsv

    data_dir = args.dir / f"p{args.people}"
    source = data_dir / "agency_a.csv"
    if not source.exists():
        subprocess.run(
            [args.cli, "synth", "--people", str(args.people), "--seed", "11", "--out", data_dir],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    secret_file = args.dir / "bench.secret.hex"
    if not secret_file.exists():
        subprocess.run(
            [args.cli, "keygen", "--output", secret_file], check=True, stdout=subprocess.DEVNULL
        )
    schema_file = args.dir / "schema.json"
    schema = pseudolink.Schema.example()
    schema_file.write_text(schema.to_json())
    secret = pseudolink.Secret.from_file(secret_file)
    out = args.dir / "py-bench.out.csv"
    cli_out = args.dir / "cli-bench.out.csv"

    def cli() -> None:
        subprocess.run(
            [
                args.cli,
                "encode",
                "--schema",
                schema_file,
                "--secret-file",
                secret_file,
                "--input",
                source,
                "--output",
                cli_out,
                "--rejects",
                args.dir / "cli.rej.csv",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def encode(data: Any) -> pseudolink.EncodedExtract:
        return pseudolink.encode(data, schema, secret)

    def encode_write(data: Any) -> None:
        pseudolink.encode(data, schema, secret).write_csv(out, rejects=args.dir / "py.rej.csv")

    rows = len(encode(source)) + 0
    print(
        f"# {platform.node()}: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"pseudolink {pseudolink.__version__}, pandas {pd.__version__}, polars {pl.__version__}"
    )
    print(f"# input: {source} ({rows} rows encoded, {source.stat().st_size / 1e6:.0f} MB)")
    frame_str = pd.read_csv(source, dtype=str, keep_default_na=False)
    frame_obj = pd.read_csv(source, dtype=object, keep_default_na=False)
    frame_default = pd.read_csv(source)
    polars_frame = pl.read_csv(source, infer_schema=False)
    arrow_table = pacsv.read_csv(source)

    def encode_file(data: Any = source) -> None:
        pseudolink.encode_file(data, file_out, schema, secret, rejects=args.dir / "file.rej.csv")

    file_out = args.dir / "py-file-bench.out.csv"
    cases: list[tuple[str, Callable[[], Any], list[Path]]] = [
        ("CLI `pseudolink encode` (file to file)", cli, [cli_out]),
        ("CSV path: encode_file (file to file)", encode_file, [file_out]),
        ("CSV path: encode", lambda: encode(source), []),
        ("CSV path: encode + write_csv", lambda: encode_write(source), [out]),
        ("pandas (dtype=str): encode", lambda: encode(frame_str), []),
        ("pandas (dtype=str): encode + write_csv", lambda: encode_write(frame_str), [out]),
        ("pandas (dtype=str): encode_file", lambda: encode_file(frame_str), [file_out]),
        ("pandas (dtype=object): encode", lambda: encode(frame_obj), []),
        ("pandas (read_csv defaults): encode", lambda: encode(frame_default), []),
        ("polars: encode", lambda: encode(polars_frame), []),
        ("pyarrow Table: encode", lambda: encode(arrow_table), []),
    ]
    times: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    for _ in range(args.runs):
        for name, fn, outputs in cases:
            times[name].append(timed(fn, outputs))
    results = [(name, min(times[name])) for name, _, _ in cases]
    cli_secs = results[0][1]
    assert out.read_bytes() == cli_out.read_bytes(), "Python and CLI outputs differ"
    # The last encode_file of the rounds was the DataFrame's: the CLI's bytes too.
    assert file_out.read_bytes() == cli_out.read_bytes(), "encode_file and CLI outputs differ"

    print(f"\n| what | best of {args.runs} (s) | rows/s | vs CLI |")
    print("| --- | ---: | ---: | ---: |")
    for name, secs in results:
        print(f"| {name} | {secs:.2f} | {rows / secs:,.0f} | {secs / cli_secs:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
