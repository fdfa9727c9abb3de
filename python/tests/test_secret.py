"""The secret is never shown and never leaves the process."""

from __future__ import annotations

import copy
import os
import pickle
import warnings

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
    path.chmod(0o600)
    assert (
        pseudolink.Secret.from_file(path).check_value
        == pseudolink.Secret.from_bytes(RAW).check_value
    )
    assert (
        pseudolink.Secret.from_file(str(path)).check_value
        == pseudolink.Secret.from_bytes(RAW).check_value
    )


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_file_others_can_read_warns_and_strict_refuses_it(tmp_path):
    """As the CLI: a warning naming the fix (chmod 600), or with strict=True a SecretError."""
    path = tmp_path / "k.hex"
    path.write_text(RAW.hex() + "\n")
    path.chmod(0o600)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails
        assert pseudolink.Secret.from_file(path).check_value
        assert pseudolink.Secret.from_file(path, strict=True).check_value
    path.chmod(0o644)
    with pytest.warns(pseudolink.SecretPermissionWarning) as caught:
        secret = pseudolink.Secret.from_file(path)
    assert secret.check_value == pseudolink.Secret.from_bytes(RAW).check_value
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "can be read by other users (mode 644)" in message
    assert f"chmod 600 {path}" in message
    assert RAW.hex() not in message
    assert caught[0].filename == __file__, "attributed to the caller"
    assert issubclass(pseudolink.SecretPermissionWarning, UserWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(pseudolink.SecretError, match="can be read by other users"):
            pseudolink.Secret.from_file(path, strict=True)
        # A warnings filter turning it into an error works as for any Python warning.
        with pytest.raises(pseudolink.SecretPermissionWarning):
            pseudolink.Secret.from_file(path)
    with pytest.raises(TypeError):
        pseudolink.Secret.from_file(path, True)  # strict is keyword-only
