"""The run report from Python (`Links.report`, `Links._repr_html_`) and `Links.to_pandas()`
without pyarrow."""

from __future__ import annotations

import re
import sys

import pytest

import pseudolink
from conftest import run_cli, write_secret_and_schema


@pytest.fixture(scope="module")
def linked(tmp_path_factory, synth, cli, vectors):
    """The synthetic pair encoded by the CLI, linked in Python and by the CLI."""
    d = tmp_path_factory.mktemp("report")
    secret_file, schema_file = write_secret_and_schema(d, vectors)
    for agency in ("agency_a", "agency_b"):
        run_cli(
            cli, "encode", "--schema", schema_file, "--secret-file", secret_file,
            "--input", synth / f"{agency}.csv", "--output", d / f"{agency}.enc.csv",
            "--agreement", "ISA-PY",
        )  # fmt: skip
    schema = pseudolink.Schema.from_file(schema_file)
    links = pseudolink.link(d / "agency_a.enc.csv", d / "agency_b.enc.csv", schema)
    return d, schema_file, links


def sections(html: str) -> list[str]:
    return re.findall(r'<section id="([a-z]+)"', html)


def charts(html: str) -> list[str]:
    return re.findall(r'<figure class="chart" id="chart-([a-z0-9-]+)"', html)


def test_report_has_the_sections_and_charts_of_the_cli(linked, cli, synth, tmp_path):
    _, _, links = linked
    frame = links.to_arrow().to_pylist()
    pair = next((r["left_id"], r["right_id"]) for r in frame if r["band"] == "match")
    links.report(tmp_path / "py.html", truth=synth / "truth.csv", explain=[pair])
    html = (tmp_path / "py.html").read_text(encoding="utf-8")
    assert sections(html) == [
        "run", "quality", "blocking", "model", "weights", "threshold", "clusters", "explain",
    ]  # fmt: skip
    assert charts(html) == ["blocking", "model", "weights", "threshold", "clusters", "waterfall-1"]
    assert "against the truth" in html
    assert "ISA-PY" in html
    assert "<script" not in html
    # The CLI's report of the same run has the same numbers in its tables (the run facts differ:
    # paths, times).
    links.write_csv(tmp_path / "links.csv")
    run_cli(
        cli, "report", "--links", tmp_path / "links.csv", "--output", tmp_path / "cli.html",
        "--truth", synth / "truth.csv",
    )  # fmt: skip
    cli_html = (tmp_path / "cli.html").read_text(encoding="utf-8")

    def table_after(doc: str, chart: str) -> str:
        start = doc.index(f'id="chart-{chart}"')
        table = doc.index("<table>", start)
        return doc[table : doc.index("</table>", table)]

    for chart in ("blocking", "model", "weights", "threshold", "clusters"):
        assert table_after(html, chart) == table_after(cli_html, chart), chart
    # Truth given as pairs gives the same threshold table as the file.
    truth = [tuple(line.split(",")) for line in (synth / "truth.csv").read_text().split()[1:]]
    links.report(tmp_path / "pairs.html", truth=truth)
    pairs_html = (tmp_path / "pairs.html").read_text(encoding="utf-8")
    assert table_after(pairs_html, "threshold") == table_after(html, "threshold")
    with pytest.raises(pseudolink.PseudolinkError, match="no record with id 'nobody'"):
        links.report(tmp_path / "x.html", explain=[("nobody", "none")])


def test_repr_html_shows_the_headline_charts(linked):
    _, _, links = linked
    fragment = links._repr_html_()
    assert fragment.startswith('<div class="pseudolink-report">')
    assert charts(fragment) == ["weights", "threshold"]
    assert "expected by the model" in fragment


def test_links_to_pandas_without_pyarrow(linked, monkeypatch):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    _, _, links = linked
    with_arrow = links.to_pandas()
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    without = links.to_pandas()
    monkeypatch.undo()
    assert list(without.columns) == list(with_arrow.columns)
    assert list(without.dtypes) == list(with_arrow.dtypes)
    pd.testing.assert_frame_equal(without, with_arrow)
    assert len(without) == len(links) > 0
