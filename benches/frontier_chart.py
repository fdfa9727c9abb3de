"""Draws the privacy-quality frontier measured by benches/frontier.sh as an SVG (no plotting
library needed).

Usage: python3 benches/frontier_chart.py FRONTIER_CSV OUT_SVG

x: the worst share of any whole value re-identified beyond a blind guess (log scale, 0.1% to
100%); y: F1 at the default threshold. One colour per population size, one labelled point per
variant; the dashed line is the 1% bound on whole values.
"""

import csv
import math
import sys

W, H = 760, 440
LEFT, RIGHT, TOP, BOTTOM = 70, 200, 30, 50
X_MIN, X_MAX = 0.001, 1.0
COLOURS = ["#1b6ca8", "#d1495b", "#2e933c", "#8f5bb5"]


def main():
    with open(sys.argv[1]) as f:
        rows = list(csv.DictReader(f))
    f1s = [float(r["f1_default"]) for r in rows]
    y_min = math.floor(min(f1s) * 50) / 50 - 0.01
    y_max = min(1.0, math.ceil(max(f1s) * 50) / 50 + 0.005)

    def x(share):
        s = min(max(share, X_MIN), X_MAX)
        t = (math.log10(s) - math.log10(X_MIN)) / (math.log10(X_MAX) - math.log10(X_MIN))
        return LEFT + t * (W - LEFT - RIGHT)

    def y(f1):
        return TOP + (y_max - f1) / (y_max - y_min) * (H - TOP - BOTTOM)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{W}" height="{H}" fill="white"/>',
        f'<line x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}" stroke="black"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}" stroke="black"/>',
    ]
    for share, label in [(0.001, "0.1%"), (0.01, "1%"), (0.1, "10%"), (1.0, "100%")]:
        out.append(
            f'<text x="{x(share):.1f}" y="{H - BOTTOM + 18}" text-anchor="middle">{label}</text>'
        )
    out.append(
        f'<line x1="{x(0.01):.1f}" y1="{TOP}" x2="{x(0.01):.1f}" y2="{H - BOTTOM}" '
        f'stroke="grey" stroke-dasharray="4 4"/>'
    )
    out.append(
        f'<text x="{x(0.01) + 4:.1f}" y="{TOP + 12}" fill="grey">bound on whole values</text>'
    )
    steps = round((y_max - y_min) / 0.01)
    for i in range(steps + 1):
        v = y_min + i * 0.01
        out.append(f'<text x="{LEFT - 8}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.2f}</text>')
    out.append(
        f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 12}" text-anchor="middle">'
        "worst whole value re-identified beyond a blind guess (log scale)</text>"
    )
    out.append(
        f'<text x="16" y="{(TOP + H - BOTTOM) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 16 {(TOP + H - BOTTOM) / 2})">F1 at the default threshold</text>'
    )
    sizes = sorted({int(r["people"]) for r in rows})
    for i, people in enumerate(sizes):
        colour = COLOURS[i % len(COLOURS)]
        out.append(
            f'<circle cx="{W - RIGHT + 20}" cy="{TOP + 10 + 18 * i}" r="5" fill="{colour}"/>'
        )
        out.append(f'<text x="{W - RIGHT + 30}" y="{TOP + 14 + 18 * i}">{people:,} people</text>')
        for r in rows:
            if int(r["people"]) != people:
                continue
            cx, cy = x(float(r["worst_whole_share"])), y(float(r["f1_default"]))
            out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{colour}"/>')
            out.append(
                f'<text x="{cx + 7:.1f}" y="{cy - 6:.1f}" fill="{colour}">{r["variant"]}</text>'
            )
    out.append("</svg>")
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
