"""The API token format: shape, checksum, and what a scanner can find."""

from __future__ import annotations

import hashlib

import pytest

from platxa_secrets.core import token_format
from platxa_secrets.core.token_format import (
    PATTERN,
    checksum,
    is_token,
    new_token,
    parse_token,
)
from platxa_secrets.errors import AuthenticationError

_OTHER = {c: ("b" if c == "a" else "a") for c in "abcdefghijklmnopqrstuvwxyz0123456789"}


def _substitute(text: str, index: int) -> str:
    char = text[index]
    other = _OTHER.get(char.lower(), "a")
    replacement = other.upper() if char.isupper() else other
    return text[:index] + replacement + text[index + 1 :]


def test_a_new_token_has_the_documented_shape_and_parses_back() -> None:
    text, parts = new_token()

    prefix, token_id, secret, check = text.split("_")
    assert prefix == "pxs"
    assert len(token_id) == token_format.ID_LENGTH
    assert len(secret) == token_format.SECRET_LENGTH
    assert len(check) == token_format.CHECKSUM_LENGTH
    assert check == checksum(text[: -(token_format.CHECKSUM_LENGTH + 1)])
    assert is_token(text)

    parsed = parse_token(text)
    assert (parsed.id, parsed.secret) == (token_id, secret) == (parts.id, parts.secret)
    assert parsed.secret_sha256() == hashlib.sha256(secret.encode()).hexdigest()


def test_new_tokens_are_distinct() -> None:
    texts = {new_token()[0] for _ in range(200)}
    ids = {text.split("_")[1] for text in texts}

    assert len(texts) == len(ids) == 200


def test_the_repr_of_a_parsed_token_names_the_id_only() -> None:
    text, _ = new_token()
    parsed = parse_token(text)

    assert parsed.id in repr(parsed)
    assert parsed.secret not in repr(parsed)
    assert parsed.secret not in str(parsed)


def test_every_single_character_typo_is_caught_by_the_checksum() -> None:
    text, _ = new_token()

    for index in range(len(token_format.PREFIX), len(text)):
        if text[index] == "_":
            continue
        typo = _substitute(text, index)
        assert typo != text
        assert not is_token(typo), index
        with pytest.raises(AuthenticationError) as caught:
            parse_token(typo)
        assert caught.value.message == "invalid token"
        assert caught.value.reason in ("token checksum mismatch", "malformed token")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "pxs_",
        "PXS_abcdefabcdef_" + "A" * 40 + "_AAAAAA",
        "pxs_ABCDEFABCDEF_" + "A" * 40 + "_AAAAAA",
        "pxs_abcdefabcdef_" + "A" * 39 + "_AAAAAA",
        "pxs_abcdefabcdef_" + "A" * 40 + "_AAAAA",
        "pxs_abcdefabcdef_" + "A" * 40 + "_AAAAAA ",
        " pxs_abcdefabcdef_" + "A" * 40 + "_AAAAAA",
        "pxs_abcdefabcdef_" + "é" * 40 + "_AAAAAA",
        "Bearer pxs_abcdefabcdef_" + "A" * 40 + "_AAAAAA",
    ],
)
def test_malformed_text_is_refused_with_the_fixed_message(text: str) -> None:
    with pytest.raises(AuthenticationError) as caught:
        parse_token(text)

    assert str(caught.value) == "invalid token"
    assert caught.value.reason == "malformed token"
    assert not is_token(text)


def test_a_wrong_checksum_is_refused_without_echoing_the_token() -> None:
    text, parts = new_token()
    body = text[: -(token_format.CHECKSUM_LENGTH + 1)]
    wrong = body + "_" + ("000000" if not text.endswith("000000") else "000001")

    with pytest.raises(AuthenticationError) as caught:
        parse_token(wrong)

    assert caught.value.reason == "token checksum mismatch"
    for shown in (str(caught.value), repr(caught.value), repr(caught.value.__dict__)):
        assert parts.secret not in shown


def test_scanners_find_a_token_in_surrounding_text_but_not_a_longer_run() -> None:
    text, _ = new_token()

    found = PATTERN.search(f"config: TOKEN={text}\nnext line")
    assert found is not None and found.group(0) == text
    assert PATTERN.search(f"'{text}'") is not None
    assert PATTERN.search(text + "x") is None
    assert PATTERN.search(text + "_more") is None
