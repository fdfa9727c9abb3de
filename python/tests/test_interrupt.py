"""Ctrl-C: KeyboardInterrupt within a second, no partial output file left behind."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import pseudolink

    source, out_dir, what = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    schema = pseudolink.Schema.example()
    secret = pseudolink.Secret.from_bytes(b"i" * 32)
    extract = pseudolink.encode(source, schema, secret) if what == "write" else None
    print("ready", flush=True)
    i = 0
    try:
        while True:  # busy in the native code whenever the signal comes
            if what == "encode":
                pseudolink.encode(source, schema, secret)
            else:
                extract.write_csv(out_dir / f"out{i}.csv")
            i += 1
    except KeyboardInterrupt:
        print("KeyboardInterrupt", i, flush=True)
    """
)


def interrupt_once(what, big_csv, out_dir):
    """Starts a child busy in native code, sends SIGINT; returns (its reply, latency in s)."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(big_csv), str(out_dir), what],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(0.7)
        sent = time.perf_counter()
        child.send_signal(signal.SIGINT)
        line = child.stdout.readline()
        latency = time.perf_counter() - sent
        assert child.wait(timeout=30) == 0
    finally:
        child.kill()
    return line, latency


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("what", ["encode", "write"])
def test_ctrl_c_interrupts_within_a_second(what, big_csv, tmp_path):
    # A machine busy with other work can delay any one delivery past a second; up to three tries
    # keep the test about the library (which checks for signals between small batches of rows:
    # a library that only noticed at the end of the operation fails every try).
    latencies = []
    for attempt in range(3):
        out_dir = tmp_path / f"out{attempt}"
        out_dir.mkdir()
        line, latency = interrupt_once(what, big_csv, out_dir)
        assert line.startswith("KeyboardInterrupt"), line
        leftovers = [p.name for p in out_dir.iterdir() if p.name.endswith(".partial")]
        assert leftovers == []
        for csv in out_dir.glob("out*.csv"):
            manifest = Path(f"{csv}.manifest.json")
            assert manifest.exists(), f"{csv.name} without its manifest"
            assert f'"bytes": {csv.stat().st_size},' in manifest.read_text()
        latencies.append(latency)
        if latency < 1.0:
            break
    assert min(latencies) < 1.0, (
        f"KeyboardInterrupt after {', '.join(f'{x:.2f}' for x in latencies)} s"
    )
