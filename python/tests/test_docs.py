"""The Python examples of docs/python.md and the README run, in order, in an empty directory."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import REPO

BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def blocks(doc: Path) -> list[str]:
    found = BLOCK.findall(doc.read_text(encoding="utf-8"))
    assert found, f"{doc} has no python examples"
    return found


@pytest.mark.parametrize("doc", ["docs/python.md", "README.md"])
def test_examples_run(doc, tmp_path, monkeypatch, capsys):
    pytest.importorskip("pandas")
    pytest.importorskip("polars")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__doc_example__"}
    for i, code in enumerate(blocks(REPO / doc)):
        exec(compile(code, f"{doc} example {i + 1}", "exec"), namespace)
    assert capsys.readouterr().out  # the examples print what they show
