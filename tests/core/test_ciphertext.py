"""The ciphertext shape: `pxs1:<kid>:<token>` or a bare legacy token.

Damage is reported as damage, each kind with its own reason, before any
key is tried; and no message repeats the token.
"""

from __future__ import annotations

import base64
import re

import pytest
from cryptography.fernet import Fernet

from platxa_secrets.core.crypto.ciphertext import (
    PREFIX,
    format_ciphertext,
    frame,
    parse_unverified,
    unframe,
)
from platxa_secrets.errors import CryptoError
from tests.core.helpers import CANARY, assert_no_leak

TARGET = "tenant-a/odoo-secrets v3"
KID = "7f3a09c2"
FERNET = Fernet(Fernet.generate_key())
TOKEN = FERNET.encrypt(CANARY.encode()).decode()
RAW = base64.urlsafe_b64decode(TOKEN)


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def _rejected(ciphertext: str | bytes) -> CryptoError:
    with pytest.raises(CryptoError) as info:
        parse_unverified(ciphertext, TARGET)
    exc = info.value
    assert TARGET in str(exc)
    assert exc.context["target"] == TARGET
    text = ciphertext.decode("latin-1") if isinstance(ciphertext, bytes) else ciphertext
    token_part = text.rpartition(":")[2]
    assert_no_leak(exc, text, token_part)
    return exc


# --- accepted -------------------------------------------------------------


def test_prefixed_ciphertext_yields_kid_and_token() -> None:
    parsed = parse_unverified(f"pxs1:{KID}:{TOKEN}", TARGET)

    assert parsed.kid == KID
    assert parsed.token == TOKEN.encode()
    assert parsed.legacy is False
    assert FERNET.decrypt(parsed.token) == CANARY.encode()


def test_bare_token_is_legacy() -> None:
    parsed = parse_unverified(TOKEN, TARGET)

    assert parsed.kid is None
    assert parsed.legacy is True
    assert parsed.token == TOKEN.encode()


def test_bytes_are_accepted_like_text() -> None:
    parsed = parse_unverified(f"pxs1:{KID}:{TOKEN}".encode(), TARGET)

    assert (parsed.kid, parsed.token) == (KID, TOKEN.encode())


@pytest.mark.parametrize("kid", ["abcd", "0" * 32, "a1b2c3d4"])
def test_kid_length_limits_are_accepted(kid: str) -> None:
    assert parse_unverified(f"pxs1:{kid}:{TOKEN}", TARGET).kid == kid


@pytest.mark.parametrize("size", [0, 15, 16, 17, 100, 1000])
def test_real_tokens_of_any_plaintext_size_pass(size: int) -> None:
    token = FERNET.encrypt(b"x" * size).decode()

    assert parse_unverified(format_ciphertext(KID, token.encode()), TARGET).kid == KID
    assert parse_unverified(token, TARGET).legacy


def test_format_then_parse_round_trips() -> None:
    text = format_ciphertext(KID, TOKEN.encode())

    assert text == f"{PREFIX}:{KID}:{TOKEN}"
    parsed = parse_unverified(text, TARGET)
    assert (parsed.kid, parsed.token) == (KID, TOKEN.encode())


def test_parsed_repr_shows_no_token() -> None:
    text = repr(parse_unverified(f"pxs1:{KID}:{TOKEN}", TARGET))

    assert KID in text
    assert TOKEN not in text
    assert TOKEN[20:40] not in text


# --- rejected, one reason each --------------------------------------------


@pytest.mark.parametrize(
    "prefix", ["pxs2", "PXS1", "pxs", "fernet", "pxs1 ", CANARY], ids=repr
)
def test_unknown_prefix_is_rejected(prefix: str) -> None:
    exc = _rejected(f"{prefix}:{KID}:{TOKEN}")

    assert "unknown format prefix" in str(exc)


@pytest.mark.parametrize(
    "kid",
    ["", "abc", "ABCD1234", "7f3a-09c2", "a" * 33, "7f3a 09c2", "kid!", CANARY],
    ids=repr,
)
def test_malformed_kid_is_rejected(kid: str) -> None:
    exc = _rejected(f"pxs1:{kid}:{TOKEN}")

    assert "malformed key id" in str(exc)


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: t[:30] + "+" + t[31:],
        lambda t: t[:30] + "/" + t[31:],
        lambda t: t[:30] + "!" + CANARY + "!" + t[30:],
        lambda t: t[:30] + " " + t[31:],
        lambda t: t[:30] + "é" + t[31:],
        lambda t: t[:30] + "=" + t[31:],
        lambda t: " " + t,
    ],
    ids=["plus", "slash", "bang-canary", "space", "unicode", "inner-pad", "lead-sp"],
)
def test_non_base64_characters_are_rejected(damage: object) -> None:
    assert callable(damage)
    exc = _rejected(f"pxs1:{KID}:{damage(TOKEN)}")

    assert "not url-safe base64" in str(exc)


@pytest.mark.parametrize(
    "tail", ["\n", "\r\n", " ", "x", "===", ":extra", f";{CANARY}"], ids=repr
)
def test_trailing_characters_are_rejected(tail: str) -> None:
    exc = _rejected(f"pxs1:{KID}:{TOKEN}{tail}")

    assert "trailing characters" in str(exc)


def test_trailing_newline_on_a_bare_token_is_rejected() -> None:
    exc = _rejected(TOKEN + "\n")

    assert "trailing characters" in str(exc)


@pytest.mark.parametrize("cut", [1, 2, 3, 5])
def test_truncated_token_is_rejected(cut: int) -> None:
    exc = _rejected(f"pxs1:{KID}:{TOKEN[:-cut]}")

    assert "not a multiple of 4" in str(exc)
    assert "truncated" in str(exc)


@pytest.mark.parametrize("version", [0x00, 0x7F, 0x81, 0xFF])
def test_wrong_version_byte_is_rejected(version: int) -> None:
    exc = _rejected(f"pxs1:{KID}:{_encode(bytes([version]) + RAW[1:])}")

    assert "version byte is not 0x80" in str(exc)


@pytest.mark.parametrize("size", [1, 9, 25, 41, 57, 72])
def test_too_short_token_is_rejected(size: int) -> None:
    exc = _rejected(f"pxs1:{KID}:{_encode(RAW[:size])}")

    assert f"is {size} bytes, shorter than the 73" in str(exc)


@pytest.mark.parametrize("extra", [1, 8, 15, 17])
def test_token_not_a_whole_aes_block_is_rejected(extra: int) -> None:
    damaged = RAW + b"\x00" * extra

    exc = _rejected(f"pxs1:{KID}:{_encode(damaged)}")

    assert "does not hold whole 16-byte AES blocks" in str(exc)


def test_too_short_and_partial_block_have_different_reasons() -> None:
    short = _rejected(_encode(RAW[:57]))
    partial = _rejected(_encode(RAW + b"\x00" * 8))

    def reason(exc: CryptoError) -> str:
        return re.sub(r"\d+", "N", str(exc))

    assert reason(short) != reason(partial)


def test_empty_ciphertext_is_rejected() -> None:
    exc = _rejected("")

    assert "empty" in str(exc)


def test_prefix_without_token_is_rejected() -> None:
    exc = _rejected(f"pxs1:{KID}:")

    assert "not url-safe base64" in str(exc)


def test_non_ascii_bytes_are_rejected() -> None:
    exc = _rejected(f"pxs1:{KID}:{TOKEN}".encode() + "é".encode())

    assert "non-ASCII" in str(exc)


def test_reasons_are_distinct_per_kind_of_damage() -> None:
    damaged = {
        "prefix": f"pxs9:{KID}:{TOKEN}",
        "kid": f"pxs1:BAD:{TOKEN}",
        "chars": f"pxs1:{KID}:{TOKEN}\n",
        "truncated": f"pxs1:{KID}:{TOKEN[:-1]}",
        "version": f"pxs1:{KID}:{_encode(bytes([0x81]) + RAW[1:])}",
        "size": f"pxs1:{KID}:{_encode(RAW[:57])}",
        "empty": "",
    }
    messages = set()
    for text in damaged.values():
        with pytest.raises(CryptoError) as info:
            parse_unverified(text, TARGET)
        messages.add(re.sub(r"\d+", "N", str(info.value)))

    assert len(messages) == len(damaged)


# --- framing --------------------------------------------------------------


CONTEXT = "tenant-a/odoo/3/DB_PASSWORD"


def test_frame_layout_is_version_length_context_value() -> None:
    assert frame("ab", b"v") == b"\x01\x00\x02abv"


@pytest.mark.parametrize(
    "value",
    [b"", CANARY.encode(), bytes(range(256)), b"\x00" * 10, b"\x01\x00\x05x", b"\xff"],
    ids=["empty", "text", "all-bytes", "zeros", "frame-like", "ff"],
)
def test_frame_unframe_round_trip(value: bytes) -> None:
    assert unframe(frame(CONTEXT, value), CONTEXT, TARGET) == value


@pytest.mark.parametrize("context", ["", "ü/ñ/1/ключ", "x" * 65535])
def test_frame_round_trip_for_any_context(context: str) -> None:
    assert unframe(frame(context, b"value"), context, TARGET) == b"value"


def test_context_longer_than_two_length_bytes_is_refused() -> None:
    with pytest.raises(CryptoError, match="65535"):
        frame("x" * 65536, b"v")


@pytest.mark.parametrize(
    "other",
    ["tenant-b/odoo/3/DB_PASSWORD", "tenant-a/odoo/4/DB_PASSWORD", "", CONTEXT + "x"],
    ids=["other-tenant", "other-version", "empty", "longer"],
)
def test_binding_mismatch_is_detected(other: str) -> None:
    framed = frame(CONTEXT, CANARY.encode())

    with pytest.raises(CryptoError) as info:
        unframe(framed, other, TARGET)

    assert TARGET in str(info.value)
    assert "copied from another row" in str(info.value)
    assert_no_leak(info.value)


@pytest.mark.parametrize(
    "plaintext",
    [b"", b"\x01", b"\x01\x00", b"\x02\x00\x00", CANARY.encode()],
    ids=repr,
)
def test_unknown_frame_is_rejected(plaintext: bytes) -> None:
    with pytest.raises(CryptoError, match="unknown frame") as info:
        unframe(plaintext, CONTEXT, TARGET)

    assert_no_leak(info.value)


def test_truncated_frame_is_rejected() -> None:
    framed = frame(CONTEXT, b"")[:-3]

    with pytest.raises(CryptoError, match="truncated") as info:
        unframe(framed, CONTEXT, TARGET)

    assert TARGET in str(info.value)
