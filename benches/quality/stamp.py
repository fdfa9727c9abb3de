"""Adds what /usr/bin/time measured to a result JSON of the quality benchmark.

Each TIME file holds one line "%e %M" (wall seconds, peak RSS in KiB) of one process the tool ran.
The result gets `wall_seconds` (their sum: the processes ran one after another) and `peak_rss_mb`
(the largest), and the line is printed.

Usage: stamp.py OUT.json TIME_FILE...
"""

import json
import sys


def main():
    out, *times = sys.argv[1:]
    wall, rss = 0.0, 0
    for path in times:
        with open(path) as f:
            # /usr/bin/time writes "Command exited with non-zero status" first on a failure
            secs, kib = f.read().split()[-2:]
        wall += float(secs)
        rss = max(rss, int(kib))
    with open(out) as f:
        result = json.load(f)
    result["wall_seconds"] = wall
    result["peak_rss_mb"] = rss / 1024
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
    a, b = result["at_threshold"], result["best"]
    print(
        f"{result['tool']} {result['mode']}: P {a['precision']:.4f} R {a['recall']:.4f} "
        f"F1 {a['f1']:.4f} at {result['threshold']}; best F1 {b['f1']:.4f} "
        f"({result['best_threshold']}); {wall:.1f} s, peak RSS {rss / 1024:,.0f} MB"
    )


if __name__ == "__main__":
    main()
