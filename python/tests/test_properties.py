"""Property tests: whatever the strings, encode raises only PseudolinkError subclasses (or
TypeError for a value of the wrong type), and the same input gives the same output."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pseudolink

pytestmark = pytest.mark.filterwarnings("ignore::pseudolink.RejectedRowsWarning")

SCHEMA = pseudolink.Schema.example()
SECRET = pseudolink.Secret.from_bytes(b"p" * 32)
COLUMNS = SCHEMA.input_columns

any_text = st.text(st.characters(), max_size=40)
with_surrogates = st.text(st.characters(codec=None, exclude_categories=()), max_size=10)
cell = st.one_of(st.none(), any_text, with_surrogates, st.integers(), st.floats())
row = st.fixed_dictionaries({}, optional={c: cell for c in [*COLUMNS, "other"]})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row, max_size=8), st.booleans())
def test_encode_raises_only_pseudolink_errors(rows, strict):
    try:
        first = pseudolink.encode(rows, SCHEMA, SECRET, strict=strict)
    except pseudolink.PseudolinkError:
        return
    except Exception as e:  # pragma: no cover - the property under test
        pytest.fail(f"{type(e).__name__} escaped: {e!r}")
    second = pseudolink.encode(rows, SCHEMA, SECRET, strict=strict)
    assert first.to_arrow().equals(second.to_arrow())
    assert len(first) + len(first.rejected) == len(rows)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(*[any_text for _ in COLUMNS]), min_size=1, max_size=6))
def test_columns_and_rows_agree(values):
    rows = [dict(zip(COLUMNS, v)) for v in values]
    columns = {c: [r[c] for r in rows] for c in COLUMNS}
    try:
        by_rows = pseudolink.encode(rows, SCHEMA, SECRET)
    except pseudolink.PseudolinkError as e:
        with pytest.raises(type(e)):
            pseudolink.encode(columns, SCHEMA, SECRET)
        return
    assert by_rows.to_arrow().equals(pseudolink.encode(columns, SCHEMA, SECRET).to_arrow())
