"""The leak check itself must catch leaks, or every test using it is hollow."""

from __future__ import annotations

import base64

import pytest
from cryptography.fernet import Fernet

from platxa_secrets.errors import ConfigError
from tests.core.helpers import CANARY, assert_no_leak

KEY = Fernet.generate_key().decode()
RAW = base64.urlsafe_b64decode(KEY)


@pytest.mark.parametrize(
    "message",
    [
        f"bad key {KEY}",
        f"bad key starting {KEY[:12]}",
        f"bad key ending {KEY[-13:-1]}",
        f"raw bytes {RAW.hex()}",
        f"raw bytes {RAW!r}",
        f"value {CANARY}",
    ],
    ids=["whole", "head", "tail", "hex", "bytes-repr", "canary"],
)
def test_leak_in_message_is_caught(message: str) -> None:
    with pytest.raises(AssertionError):
        assert_no_leak(ConfigError(message), KEY)


def test_inner_key_of_a_double_encoding_is_caught() -> None:
    outer = base64.urlsafe_b64encode(KEY.encode()).decode()

    with pytest.raises(AssertionError):
        assert_no_leak(ConfigError(f"inner {KEY[5:20]}"), outer)


def test_leak_in_context_attribute_is_caught() -> None:
    with pytest.raises(AssertionError):
        assert_no_leak(ConfigError("fine", field=KEY), KEY)


def test_visible_chained_exception_is_caught() -> None:
    error = ConfigError("fine")
    error.__cause__ = ValueError("inner")

    with pytest.raises(AssertionError):
        assert_no_leak(error, KEY)


def test_clean_error_passes() -> None:
    assert_no_leak(ConfigError("master key entry 2 is empty", field="x"), KEY)
