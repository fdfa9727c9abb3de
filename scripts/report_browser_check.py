#!/usr/bin/env python3
"""Opens a `pseudolink report` page in headless Chromium and checks it as a reader would see it.

    scripts/report_browser_check.py REPORT.html CHART [CHART ...]

Fails (exit 1) unless every named chart (`<figure id="chart-NAME">`) is present with an SVG of
non-zero rendered width and height, and the page logged no console message, raised no script
error and had nothing blocked by its Content-Security-Policy (which would mean it tried to load
something).

How: the report itself has no script and a policy forbidding scripts. The check copies it and adds
two small scripts to the copy, allowing them (and only inline scripts) in the copy's policy: one at
the top of <head> that records errors (window `error`, `console.error`, CSP violations), one at the
end of <body> that, on the load event, measures each chart's SVG with getBoundingClientRect() and
writes the findings as JSON into the DOM. `chromium --headless --dump-dom` prints the DOM after the
load event, from which the JSON is read back; `--enable-logging=stderr --v=0` makes Chromium print
console messages to stderr as `CONSOLE(...)` lines, which also fail the check. Only the Python
standard library and the Debian `chromium` package are needed (CHROMIUM=path overrides the binary).
"""

import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

PROBE_HEAD = """<script>
window.__problems = [];
window.addEventListener("error", function (e) { window.__problems.push("error: " + e.message); });
document.addEventListener("securitypolicyviolation", function (e) {
  window.__problems.push(
    "blocked by the policy: " + e.blockedURI + " (" + e.violatedDirective + ")");
});
(function () {
  var original = console.error;
  console.error = function () {
    window.__problems.push("console.error: " + Array.prototype.join.call(arguments, " "));
    return original.apply(console, arguments);
  };
})();
</script>
"""

PROBE_BODY = """<script>
window.addEventListener("load", function () {
  var charts = [];
  document.querySelectorAll("figure.chart").forEach(function (f) {
    var svg = f.querySelector("svg");
    var r = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
    var shapes = svg ? svg.querySelectorAll("rect, path, polyline, line, circle").length : 0;
    charts.push({ id: f.id, width: r.width, height: r.height, shapes: shapes });
  });
  var out = document.createElement("pre");
  out.id = "__probe";
  out.textContent = JSON.stringify({ charts: charts, problems: window.__problems,
                                     title: document.title, width: document.body.scrollWidth });
  document.body.appendChild(out);
});
</script>
"""


def fail(message: str) -> None:
    print(f"report browser check FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    if len(sys.argv) < 3:
        fail("usage: report_browser_check.py REPORT.html CHART [CHART ...]")
    report, expected = sys.argv[1], sys.argv[2:]
    chromium = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not chromium:
        fail("chromium is not installed (apt-get install -y chromium; .ci/run installs it)")
    with open(report, encoding="utf-8") as f:
        page = f.read()
    if "<script" in page:
        fail("the report holds a script; it must hold none")
    policy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    if policy not in page:
        fail("the report's Content-Security-Policy is missing or changed")
    probed = page.replace(policy, policy + "; script-src 'unsafe-inline'", 1)
    probed = re.sub(
        r"(<meta http-equiv=\"Content-Security-Policy\"[^>]*>)",
        lambda m: m.group(1) + PROBE_HEAD,
        probed,
        count=1,
    )
    probed = probed.replace("</body>", PROBE_BODY + "</body>", 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "report.html")
        with open(path, "w", encoding="utf-8") as f:
            f.write(probed)
        command = [
            chromium,
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--disable-extensions",
            "--user-data-dir=" + os.path.join(tmp, "profile"),
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1200,900",
            "--dump-dom",
            "file://" + path,
        ]
        try:
            run = subprocess.run(command, capture_output=True, text=True, timeout=180)
        except subprocess.TimeoutExpired:
            fail("chromium did not finish within 180 s")
    found = re.search(r'<pre id="__probe">(.*?)</pre>', run.stdout, re.S)
    if not found:
        tail = run.stderr[-3000:]
        fail(f"no probe output in the DOM (chromium exit {run.returncode}); stderr:\n{tail}")
    probe = json.loads(html.unescape(found.group(1)))
    problems = list(probe["problems"])
    problems += [line for line in run.stderr.splitlines() if ":CONSOLE(" in line]
    if problems:
        fail("the page reported problems:\n  " + "\n  ".join(problems))
    charts = {c["id"]: c for c in probe["charts"]}
    for name in expected:
        c = charts.get("chart-" + name)
        if c is None:
            fail(f"chart '{name}' is missing (found: {', '.join(sorted(charts))})")
        if not (c["width"] > 0 and c["height"] > 0):
            fail(f"chart '{name}' has no size: {c['width']} x {c['height']}")
        if c["shapes"] == 0:
            fail(f"chart '{name}' draws nothing")
    for c in probe["charts"]:
        print(f"  {c['id']}: {c['width']:.0f} x {c['height']:.0f} px, {c['shapes']} shapes")
    print(
        f"report browser check: {report} opened in {os.path.basename(chromium)}, "
        f"{len(probe['charts'])} charts drawn, no console error"
    )


if __name__ == "__main__":
    main()
