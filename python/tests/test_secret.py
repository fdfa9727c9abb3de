"""The secret is never shown and never leaves the process."""

from __future__ import annotations

import copy
import pickle

import pytest

import pseudolink

RAW = bytes(range(32))


def test_repr_and_str_show_only_the_check_value():
    secret = pseudolink.Secret.from_bytes(RAW)
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}"):
        assert RAW.hex() not in text
        assert RAW.hex()[:8] not in text
        assert text == f"Secret(check_value='{secret.check_value}')"


def test_it_cannot_be_pickled_or_copied():
    secret = pseudolink.Secret.from_bytes(RAW)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(secret, protocol=protocol)
    with pytest.raises(TypeError):
        copy.copy(secret)
    with pytest.raises(TypeError):
        copy.deepcopy(secret)
    with pytest.raises(TypeError):
        secret.__getstate__()


def test_it_has_no_attribute_holding_the_bytes():
    secret = pseudolink.Secret.from_bytes(RAW)
    assert not hasattr(secret, "__dict__")
    for name in dir(secret):
        if name.startswith("__"):
            continue
        value = getattr(secret, name)
        assert RAW.hex() not in repr(value)
        assert RAW not in repr(value).encode()


def test_constructors(tmp_path):
    a, b = pseudolink.Secret.generate(), pseudolink.Secret.generate()
    assert a.check_value != b.check_value
    assert len(a.check_value) == 16
    path = tmp_path / "k.hex"
    path.write_text(RAW.hex() + "\n")
    assert (
        pseudolink.Secret.from_file(path).check_value
        == pseudolink.Secret.from_bytes(RAW).check_value
    )
    assert (
        pseudolink.Secret.from_file(str(path)).check_value
        == pseudolink.Secret.from_bytes(RAW).check_value
    )
