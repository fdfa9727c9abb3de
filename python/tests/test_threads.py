"""The GIL is released while encoding, and encoding is safe from several threads at once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import pseudolink
from conftest import BIG_ROWS


@pytest.fixture(scope="module")
def schema():
    return pseudolink.Schema.example()


@pytest.fixture(scope="module")
def secret():
    return pseudolink.Secret.from_bytes(b"t" * 32)


def test_another_thread_runs_during_a_long_encode(schema, secret, big_csv):
    ticks = 0
    stop = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)

    counter = threading.Thread(target=count)
    counter.start()
    time.sleep(0.05)
    before = ticks
    started = time.perf_counter()
    extract = pseudolink.encode(big_csv, schema, secret)
    elapsed = time.perf_counter() - started
    during = ticks - before
    stop.set()
    counter.join()
    assert len(extract) == BIG_ROWS
    # A thread sleeping 1 ms per tick manages hundreds of ticks a second; with the GIL held by
    # the encode it would get none until the call returned.
    assert elapsed > 0.2, f"the encode was too quick ({elapsed:.3f} s) to show anything"
    assert during > 0.2 * elapsed * 1000 / 2, (during, elapsed)


def test_arrow_input_releases_the_gil_too(schema, secret, big_csv):
    pa = pytest.importorskip("pyarrow.csv")
    table = pa.read_csv(big_csv, convert_options=pa.ConvertOptions(strings_can_be_null=False))
    ticks = 0
    stop = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)

    counter = threading.Thread(target=count)
    counter.start()
    time.sleep(0.05)
    before = ticks
    started = time.perf_counter()
    extract = pseudolink.encode(table, schema, secret)
    elapsed = time.perf_counter() - started
    during = ticks - before
    stop.set()
    counter.join()
    assert len(extract) == BIG_ROWS
    assert elapsed > 0.2
    assert during > 0.2 * elapsed * 1000 / 2, (during, elapsed)


def test_concurrent_encodes_give_the_serial_results(schema, secret, big_csv, tmp_path):
    from conftest import make_rows

    inputs = [make_rows(3000, seed=k * 1000) for k in range(4)]
    serial = [pseudolink.encode(rows, schema, secret).to_arrow() for rows in inputs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(pseudolink.encode, rows, schema, secret) for rows in inputs * 3]
        results = [f.result().to_arrow() for f in futures]
    for i, table in enumerate(results):
        assert table.equals(serial[i % 4])
    # Writing from several threads at once, each to its own file.
    extract = pseudolink.encode(inputs[0], schema, secret)
    paths = [tmp_path / f"out{i}.csv" for i in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(extract.write_csv, paths))
    contents = {p.read_bytes() for p in paths}
    assert len(contents) == 1
