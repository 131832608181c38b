"""A value pasted into the wrong flag never comes back in a message."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from platxa_secrets.clock import FrozenClock
from platxa_secrets.core.durations import parse_duration
from platxa_secrets.core.names import check_name, check_namespace
from platxa_secrets.core.shapes import quoted
from platxa_secrets.core.token_format import new_token
from platxa_secrets.errors import ValidationError

TOKEN = new_token()[0]
KEY = Fernet.generate_key().decode()
PASTED = [TOKEN, KEY, KEY.rstrip("="), "x" * 8 + TOKEN, "aB3" * 20]


@pytest.mark.parametrize("value", PASTED, ids=["token", "key", "bare-key", "in", "run"])
def test_durations_names_and_times_do_not_echo_pasted_values(value: str) -> None:
    from platxa_secrets.services.audit_query import parse_moment

    checks = [
        lambda: parse_duration(value, "--expires"),
        lambda: check_namespace(value),
        lambda: check_name(value),
        lambda: parse_moment(value, "--since", FrozenClock()),
    ]
    for check in checks:
        with pytest.raises(ValidationError) as caught:
            check()
        message = str(caught.value)
        assert value not in message and value[:16] not in message, message


@pytest.mark.parametrize("text", ["\u00b2", "\u0967\u0968h", "3\u00b2s", "1\u066b5h"])
def test_only_ascii_digits_make_a_duration(text: str) -> None:
    with pytest.raises(ValidationError, match="not a duration"):
        parse_duration(text, "grace_period")


def test_ordinary_mistakes_are_still_quoted() -> None:
    assert quoted("24 hours") == "'24 hours'"
    with pytest.raises(ValidationError, match="'24 hours' is not a duration"):
        parse_duration("24 hours", "--grace")
