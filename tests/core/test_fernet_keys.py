"""Fernet key parsing: good keys pass, each mistake has its own reason.

Every rejection must name where the key came from and the rule it
broke, and must not repeat any part of the key, however decoded.
"""

from __future__ import annotations

import base64
import csv
import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken

from platxa_secrets.core.crypto.fernet_keys import (
    derive_legacy_key,
    key_id,
    parse_fernet_key,
    parse_legacy_key_line,
)
from platxa_secrets.errors import ConfigError, PlatxaSecretsError
from tests.core.helpers import CANARY, assert_no_leak

SOURCE = "PLATXA_SECRETS_MASTER_KEY entry 2"

# 44 url-safe characters that carry the canary: any echo would show it.
CANARY_KEY = (CANARY * 4)[:43] + "="
GOOD_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()


def _fresh_key() -> str:
    return Fernet.generate_key().decode()


def _raises_config(text: str | bytes) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_fernet_key(text, SOURCE)
    assert type(info.value) is ConfigError
    assert isinstance(info.value, PlatxaSecretsError)
    return info.value


# --- accepted -------------------------------------------------------------


def test_good_key_is_returned_as_bytes_fernet_accepts() -> None:
    key = _fresh_key()

    parsed = parse_fernet_key(key, SOURCE)

    assert parsed == key.encode()
    Fernet(parsed)


def test_bytes_input_is_accepted_like_text() -> None:
    key = _fresh_key()

    assert parse_fernet_key(key.encode(), SOURCE) == key.encode()


@pytest.mark.parametrize(
    "wrapping", ["{}\n", "{}\r\n", "  {}  ", "\t{}\n\n", "\n{}"], ids=repr
)
def test_surrounding_whitespace_is_stripped_not_rejected(wrapping: str) -> None:
    key = _fresh_key()

    assert parse_fernet_key(wrapping.format(key), SOURCE) == key.encode()


def test_parsed_key_decrypts_what_the_original_encrypted() -> None:
    key = _fresh_key()
    token = Fernet(key.encode()).encrypt(b"payload")

    assert Fernet(parse_fernet_key(key + "\n", SOURCE)).decrypt(token) == b"payload"


# --- rejected, one reason each --------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        CANARY_KEY[:40],  # 30 bytes
        CANARY_KEY[:-2],  # 31 bytes
        CANARY + "AAAA" + CANARY,  # far too short
        base64.urlsafe_b64encode(CANARY.encode() * 3 + b"xxx").decode(),  # 36 bytes
        base64.urlsafe_b64encode(b"\x00" * 33).decode(),  # 33 bytes
    ],
    ids=["30-bytes", "31-bytes", "short", "36-bytes", "33-bytes"],
)
def test_wrong_length_is_rejected_with_the_byte_rule(text: str) -> None:
    exc = _raises_config(text)

    assert SOURCE in str(exc)
    assert "32 bytes" in str(exc)
    assert exc.context["field"] == SOURCE
    assert_no_leak(exc, text)


def test_length_that_cannot_be_base64_is_rejected() -> None:
    text = CANARY_KEY[:-1] + "AA"  # 45 data characters: never valid base64

    exc = _raises_config(text)

    assert SOURCE in str(exc)
    assert "base64" in str(exc)
    assert_no_leak(exc, text)


@pytest.mark.parametrize(
    "text",
    [
        CANARY_KEY[:20] + "!" + CANARY_KEY[21:],
        CANARY_KEY[:20] + " " + CANARY_KEY[21:],
        CANARY_KEY[:20] + "." + CANARY_KEY[21:],
        CANARY_KEY[:-1] + "=A",  # padding in the middle
        CANARY_KEY + "=" * 3,  # too much padding
        CANARY_KEY[:-1] + "\x00",
        "é" * 44,
        CANARY_KEY[:-1] + "\u00e9",
    ],
    ids=[
        "bang",
        "inner-space",
        "dot",
        "inner-padding",
        "extra-padding",
        "nul",
        "unicode",
        "unicode-tail",
    ],
)
def test_characters_outside_url_safe_base64_are_rejected(text: str) -> None:
    exc = _raises_config(text)

    assert SOURCE in str(exc)
    assert "url-safe base64" in str(exc)
    assert_no_leak(exc, text)


def test_standard_alphabet_key_is_rejected_with_its_own_reason() -> None:
    raw = bytes([0xFB, 0xEF, 0xFF]) * 10 + b"\xfb\xef"  # '+' and '/' galore
    text = base64.b64encode(raw).decode()
    assert "+" in text
    assert "/" in text

    exc = _raises_config(text)

    message = str(exc)
    assert SOURCE in message
    assert "standard base64 alphabet" in message
    assert "url-safe alphabet" in message
    assert_no_leak(exc, text)


def test_standard_alphabet_is_reported_even_with_canary_around() -> None:
    text = CANARY_KEY[:10] + "+" + CANARY_KEY[11:20] + "/" + CANARY_KEY[21:]

    exc = _raises_config(text)

    assert "'+' or '/'" in str(exc)
    assert_no_leak(exc, text)


@pytest.mark.parametrize("newline", ["", "\n"], ids=["bare", "echo-newline"])
def test_double_encoded_key_is_rejected_with_its_own_reason(newline: str) -> None:
    inner = _fresh_key()
    text = base64.urlsafe_b64encode((inner + newline).encode()).decode()

    exc = _raises_config(text)

    assert SOURCE in str(exc)
    assert "base64-encoded twice" in str(exc)
    assert_no_leak(exc, text, inner)


@pytest.mark.parametrize("quote", ["'", '"', "`"])
def test_quoted_key_is_rejected_with_its_own_reason(quote: str) -> None:
    key = _fresh_key()
    text = f"{quote}{key}{quote}\n"

    exc = _raises_config(text)

    assert SOURCE in str(exc)
    assert "quotes" in str(exc)
    assert_no_leak(exc, text, key)


def test_quoted_canary_key_does_not_echo_the_canary() -> None:
    exc = _raises_config(f'"{CANARY_KEY}"')

    assert_no_leak(exc, CANARY_KEY)


@pytest.mark.parametrize("text", ["", " ", "\n", "\t\r\n  ", b"", b"\n"], ids=repr)
def test_empty_key_is_rejected(text: str | bytes) -> None:
    exc = _raises_config(text)

    assert str(exc) == f"{SOURCE} is empty"
    assert exc.context["field"] == SOURCE


@pytest.mark.parametrize(
    "text",
    [
        CANARY_KEY.encode()[:-1] + b"\xff",
        b"\xc3\xa9" + CANARY_KEY.encode()[2:],
        "é".encode() * 22,
    ],
    ids=["trailing-ff", "utf8-head", "all-utf8"],
)
def test_non_ascii_bytes_are_rejected_without_echo(text: bytes) -> None:
    exc = _raises_config(text)

    assert SOURCE in str(exc)
    assert "non-ASCII" in str(exc)
    assert_no_leak(exc, text)


def test_rejections_name_the_source_given_not_a_fixed_one() -> None:
    source = "master key file /etc/pxs/master.key line 3"

    with pytest.raises(ConfigError) as info:
        parse_fernet_key(CANARY_KEY[:40], source)

    assert str(info.value).startswith(source)
    assert info.value.context["field"] == source


def test_each_mistake_gets_a_distinct_message() -> None:
    key = _fresh_key()
    mistakes: dict[str, str | bytes] = {
        "empty": "",
        "quoted": f"'{key}'",
        "standard": key[:5] + "+" + key[6:],
        "chars": key[:5] + "!" + key[6:],
        "length": key[:30],
        "double": base64.urlsafe_b64encode(key.encode()).decode(),
        "non-ascii": key.encode()[:-1] + b"\x80",
    }
    messages = {}
    for label, text in mistakes.items():
        with pytest.raises(ConfigError) as info:
            parse_fernet_key(text, SOURCE)
        messages[label] = re.sub(r"\d+", "N", str(info.value))

    assert len(set(messages.values())) == len(mistakes), messages


# --- legacy keys ----------------------------------------------------------


def test_legacy_key_is_first_32_chars_space_padded_urlsafe_b64() -> None:
    assert derive_legacy_key("short") == base64.urlsafe_b64encode(b"short" + b" " * 27)


def test_legacy_key_of_exactly_32_chars_is_not_padded() -> None:
    raw = "0123456789abcdef0123456789ABCDEF"

    assert derive_legacy_key(raw) == base64.urlsafe_b64encode(raw.encode())


def test_legacy_key_ignores_everything_after_32_chars() -> None:
    base = "x" * 32

    assert derive_legacy_key(base + "tail-one") == derive_legacy_key(base)
    assert derive_legacy_key(base + "tail-two") == derive_legacy_key(base)
    assert derive_legacy_key("y" + base) != derive_legacy_key(base)


def test_legacy_key_is_a_valid_fernet_key() -> None:
    key = derive_legacy_key("developmentonlykey32byteslong!!")

    assert parse_fernet_key(key, "legacy") == key
    token = Fernet(key).encrypt(b"v")
    assert Fernet(key).decrypt(token) == b"v"


def _legacy_lines(fixtures_dir: Path) -> list[str]:
    path = fixtures_dir / "legacy-odoo" / "legacy_keys.txt"
    return path.read_text(encoding="utf-8").splitlines()


def test_legacy_fixture_lines_are_a_raw_string_then_a_fernet_key(
    fixtures_dir: Path,
) -> None:
    raw, fernet_line = _legacy_lines(fixtures_dir)[:2]

    assert parse_legacy_key_line(raw, "line 1") == derive_legacy_key(raw)
    assert parse_legacy_key_line(fernet_line, "line 2") == fernet_line.encode()
    assert parse_legacy_key_line(fernet_line + "\n", "line 2") == fernet_line.encode()


def _read_csv(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def test_legacy_fixture_tokens_decrypt_to_the_expected_plaintext(
    fixtures_dir: Path,
) -> None:
    folder = fixtures_dir / "legacy-odoo"
    keys = [
        Fernet(parse_legacy_key_line(line, f"legacy_keys.txt line {n}"))
        for n, line in enumerate(_legacy_lines(fixtures_dir), start=1)
    ]
    rows = _read_csv(folder / "instance_credential.csv")
    expected = _read_csv(folder / "expected_plaintext.csv")
    assert rows.keys() == expected.keys()
    assert rows

    used = set()
    checked = 0
    for row_id, row in rows.items():
        for column, plain_column in (
            ("db_password_encrypted", "db_password"),
            ("admin_password_encrypted", "admin_password"),
        ):
            matches = []
            for index, fernet in enumerate(keys):
                try:
                    matches.append((index, fernet.decrypt(row[column])))
                except InvalidToken:
                    continue
            assert len(matches) == 1, f"id {row_id} {column}: {len(matches)} keys"
            index, value = matches[0]
            assert value.decode() == expected[row_id][plain_column]
            used.add(index)
            checked += 1

    assert checked == 2 * len(rows)
    assert used == {0, 1}, "both the derived and the Fernet key must be needed"


def test_legacy_line_that_is_a_fernet_key_is_used_as_is() -> None:
    key = _fresh_key()

    assert parse_legacy_key_line(f"  {key}\n", "line 1") == key.encode()


def test_legacy_line_that_is_not_a_fernet_key_is_derived() -> None:
    line = f"{CANARY}-old-odoo-secret"

    assert parse_legacy_key_line(line + "\n", "line 1") == derive_legacy_key(line)


@pytest.mark.parametrize("line", ["", "   ", "\n", "\t\n"], ids=repr)
def test_blank_legacy_line_is_rejected_naming_the_source(line: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_legacy_key_line(line, "legacy file line 4")

    assert "legacy file line 4" in str(info.value)
    assert "empty" in str(info.value)


# --- key ids --------------------------------------------------------------


def test_key_id_is_stable_and_eight_hex_characters() -> None:
    key = _fresh_key().encode()

    kid = key_id(key)

    assert re.fullmatch(r"[0-9a-f]{8}", kid)
    assert key_id(key) == kid
    assert key_id(bytes(key)) == kid


def test_key_id_is_a_pinned_function_of_the_key() -> None:
    # Ids are stored beside wrapped keys and in every ciphertext; they
    # must not change between releases, so one value is pinned here.
    assert key_id(GOOD_KEY.encode()) == "0d877748"


def test_key_id_differs_per_key() -> None:
    kids = {key_id(Fernet.generate_key()) for _ in range(200)}

    assert len(kids) == 200


def test_key_id_length_can_be_chosen() -> None:
    key = _fresh_key().encode()

    assert len(key_id(key, 16)) == 16
    assert key_id(key, 16).startswith(key_id(key))


def test_key_id_contains_no_key_material() -> None:
    for _ in range(50):
        key = Fernet.generate_key()
        raw = base64.urlsafe_b64decode(key)
        kid = key_id(key)

        assert kid not in key.decode()
        assert kid not in raw.hex()
        assert kid not in base64.b64encode(raw).decode()


def test_key_id_does_not_change_with_the_form_the_key_was_written_in() -> None:
    key = _fresh_key()

    assert key_id(parse_fernet_key(key + "\n", "a")) == key_id(key.encode())
