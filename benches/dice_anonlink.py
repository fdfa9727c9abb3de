"""anonlink's own all-pairs Dice kernel, timed through its Python API on one core, on filters
like those of the Rust micro-benchmark (benches/benches/dice.rs): 1024 bits, about 3/8 set.

Usage: dice_anonlink.py [N_LEFT] [N_RIGHT] [THRESHOLD]   (default 100000 10000 0.8)
Prints million pairs per second of anonlink.similarities.dice_coefficient_accelerated.
"""

import random
import sys
import time

import anonlink
from bitarray import bitarray


def filters(n, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        a, b, c = rng.getrandbits(1024), rng.getrandbits(1024), rng.getrandbits(1024)
        f = bitarray(endian="big")
        f.frombytes((a & (b | c)).to_bytes(128, "little"))
        out.append(f)
    return out


def main():
    n_left = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    n_right = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    t = float(sys.argv[3]) if len(sys.argv) > 3 else 0.8
    left, right = filters(n_left, 1), filters(n_right, 2)
    mean = sum(f.count() for f in left) / len(left)
    start = time.perf_counter()
    sims, _ = anonlink.similarities.dice_coefficient_accelerated([left, right], t)
    secs = time.perf_counter() - start
    pairs = n_left * n_right
    print(f"anonlink {anonlink.__version__} dice_coefficient_accelerated, {n_left} x {n_right} = "
          f"{pairs:.2e} pairs (mean popcount {mean:.0f}), threshold {t}: "
          f"{pairs / secs / 1e6:.1f} M pairs/s ({secs:.2f} s, {len(sims)} pairs >= threshold)")


if __name__ == "__main__":
    main()
