"""Leak detection: every shape is found, look-alikes are not, nothing leaks."""

from __future__ import annotations

import base64
import hashlib
import json
import textwrap
from dataclasses import asdict
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from platxa_secrets.core import leaks, token_format
from platxa_secrets.core.leaks import Finding, find_leaks
from tests.core.helpers import secret_forms

KEY = Fernet.generate_key().decode()
TOKEN = Fernet(KEY).encrypt(b"CANARY-7d1e").decode()
CIPHERTEXT = f"pxs1:7f3a09c2:{TOKEN}"
API_TOKEN, API_PARTS = token_format.new_token()


def _pem(label: str) -> str:
    """A freshly generated private key in the PEM flavour that `label` names."""
    pkcs8 = serialization.PrivateFormat.PKCS8
    none = serialization.NoEncryption()
    if label == "RSA PRIVATE KEY":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        form = serialization.PrivateFormat.TraditionalOpenSSL
        return key.private_bytes(serialization.Encoding.PEM, form, none).decode()
    if label == "EC PRIVATE KEY":
        ec_key = ec.generate_private_key(ec.SECP256R1())
        form = serialization.PrivateFormat.TraditionalOpenSSL
        return ec_key.private_bytes(serialization.Encoding.PEM, form, none).decode()
    ed = ed25519.Ed25519PrivateKey.generate()
    if label == "OPENSSH PRIVATE KEY":
        form = serialization.PrivateFormat.OpenSSH
        return ed.private_bytes(serialization.Encoding.PEM, form, none).decode()
    if label == "ENCRYPTED PRIVATE KEY":
        locked = serialization.BestAvailableEncryption(b"passphrase")
        return ed.private_bytes(serialization.Encoding.PEM, pkcs8, locked).decode()
    return ed.private_bytes(serialization.Encoding.PEM, pkcs8, none).decode()


PEM_LABELS = [
    "RSA PRIVATE KEY",
    "EC PRIVATE KEY",
    "OPENSSH PRIVATE KEY",
    "PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
]


def _body(pem: str) -> str:
    return "".join(pem.strip().splitlines()[1:-1])


@pytest.mark.parametrize(
    ("text", "kind", "preview"),
    [
        (KEY, leaks.FERNET_KEY, "…="),
        (TOKEN, leaks.FERNET_TOKEN, "gAAAAA…"),
        (CIPHERTEXT, leaks.CIPHERTEXT, "pxs1:7f3a09c2:…"),
        (API_TOKEN, leaks.API_TOKEN, f"pxs_{API_PARTS.id}_…"),
    ],
    ids=["fernet-key", "fernet-token", "ciphertext", "api-token"],
)
def test_each_shape_is_found_where_it_is(text: str, kind: str, preview: str) -> None:
    content = f"first line\n  value = '{text}'  # trailing\n"

    found = find_leaks(content)

    assert [(f.kind, f.line, f.column, f.preview) for f in found] == [
        (kind, 2, 12, preview)
    ]
    assert found[0].fingerprint == leaks.fingerprint(text)


@pytest.mark.parametrize("label", PEM_LABELS)
def test_each_private_key_flavour_is_found(label: str) -> None:
    pem = _pem(label)
    assert f"-----BEGIN {label}-----" in pem

    found = find_leaks(f"# deploy key\n{pem}")

    assert [(f.kind, f.line, f.column, f.preview) for f in found] == [
        (leaks.PRIVATE_KEY, 2, 1, label)
    ]


def test_a_private_key_inside_a_diff_or_json_string_is_found() -> None:
    pem = _pem("PRIVATE KEY")
    escaped = json.dumps({"key": pem})

    assert [f.kind for f in find_leaks(escaped)] == [leaks.PRIVATE_KEY]


def test_the_token_of_a_ciphertext_is_reported_once() -> None:
    found = find_leaks(f"{CIPHERTEXT} {TOKEN}")

    assert [(f.kind, f.column) for f in found] == [
        (leaks.CIPHERTEXT, 1),
        (leaks.FERNET_TOKEN, len(CIPHERTEXT) + 2),
    ]


def test_a_key_shaped_line_inside_a_private_key_is_not_a_second_leak() -> None:
    body = base64.b64encode(bytes(range(48))).decode()
    pem = f"-----BEGIN PRIVATE KEY-----\n{body}\n{KEY}\n-----END PRIVATE KEY-----"

    assert [f.kind for f in find_leaks(pem)] == [leaks.PRIVATE_KEY]


def _near_miss_token() -> str:
    body = API_TOKEN[: -(token_format.CHECKSUM_LENGTH + 1)]
    wrong = "000000" if not API_TOKEN.endswith("000000") else "000001"
    return f"{body}_{wrong}"


def _non_canonical_key() -> str:
    # 43rd character with its two low bits set: no encoder writes that
    last = "B" if KEY[42] != "B" else "D"
    return KEY[:42] + last + "="


@pytest.mark.parametrize(
    "text",
    [
        _near_miss_token(),
        base64.urlsafe_b64encode(bytes(31)).decode(),  # 44 chars, 31 bytes
        base64.urlsafe_b64encode(bytes(33)).decode(),  # 44 chars, no '='
        KEY[:-2] + "=",  # 42 + '='
        "x" + KEY,  # part of a longer run
        KEY.replace("=", "A="),  # 44 + '='
        _non_canonical_key(),
        TOKEN[:-8] + "=",  # truncated: not whole AES blocks
        "g" + "B" * 119,  # version byte 0x81
        "-----BEGIN PRIVATE KEY----- is the header to look for.",
        "-----BEGIN PUBLIC KEY-----\n" + "A" * 64 + "\n-----END PUBLIC KEY-----",
        "sha256 " + "ab" * 32,
        "\n-----BEGIN CERTIFICATE-----\n"
        + base64.b64encode(bytes(48)).decode()
        + f"\n{KEY}\n-----END CERTIFICATE-----",
    ],
    ids=[
        "token-checksum",
        "base64-31-bytes",
        "base64-33-bytes",
        "short-key",
        "key-in-run",
        "long-key",
        "non-canonical-key",
        "truncated-token",
        "wrong-version",
        "pem-header-in-prose",
        "public-key",
        "hex-digest",
        "certificate-line",
    ],
)
def test_look_alikes_are_not_reported(text: str) -> None:
    assert find_leaks(f"value: {text}\n") == []


def test_a_bad_kid_ciphertext_still_reports_its_token() -> None:
    found = find_leaks(f"pxs1:Bad-Kid:{TOKEN}")

    assert [f.kind for f in found] == [leaks.FERNET_TOKEN]


def test_lines_with_the_allow_marker_are_skipped() -> None:
    content = f"a = '{KEY}'  # pxs-scan: allow\nb = '{API_TOKEN}'\n"

    assert [(f.kind, f.line) for f in find_leaks(content)] == [(leaks.API_TOKEN, 2)]


def test_shapes_inside_base64_are_found_with_their_encoding() -> None:
    encoded = base64.b64encode(f"token={API_TOKEN}\n".encode()).decode()
    manifest = f"kind: Secret\ndata:\n  token: {encoded}\n"

    found = find_leaks(manifest)

    assert [(f.kind, f.line, f.column, f.encoding) for f in found] == [
        (leaks.API_TOKEN, 3, 10, "base64")
    ]
    assert found[0].fingerprint == leaks.fingerprint(API_TOKEN)


def test_bytes_are_accepted_and_undecodable_bytes_do_not_stop_the_search() -> None:
    content = b"\xff\xfe junk\n" + KEY.encode() + b"\n"

    assert [(f.kind, f.line) for f in find_leaks(content)] == [(leaks.FERNET_KEY, 2)]


def test_the_legacy_keys_file_holds_one_fernet_key(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "legacy-odoo" / "legacy_keys.txt").read_bytes()

    found = find_leaks(content)

    assert [(f.kind, f.line, f.column) for f in found] == [(leaks.FERNET_KEY, 2, 1)]


def test_findings_never_hold_the_matched_text() -> None:
    pem = _pem("PRIVATE KEY")
    content = "\n".join([KEY, TOKEN, CIPHERTEXT, API_TOKEN, pem])
    # Previews show the public parts only (the kid, the token's id).
    secrets = [KEY, TOKEN, API_PARTS.secret, _body(pem)]

    found = find_leaks(content)

    assert {f.kind for f in found} == set(leaks.KINDS)
    shown = [str(found), repr(found), json.dumps([asdict(f) for f in found])]
    shown += [str(f) for f in found]
    for form in secret_forms(*secrets):
        for text in shown:
            assert form not in text


def test_finding_str_is_place_kind_and_fingerprint() -> None:
    finding = Finding(leaks.FERNET_KEY, 3, 7, "0123abcd", "…=")

    assert str(finding) == "3:7: fernet-key [0123abcd]"


def _key_with_both_alphabets_apart() -> str:
    """A fresh key that reads differently in the standard alphabet."""
    while True:
        key = Fernet.generate_key().decode()
        if {"-", "_"} & set(key) and _looks_random(key):
            return key


def _looks_random(key: str) -> bool:
    return (
        any(c.isupper() for c in key)
        and any(c.islower() for c in key)
        and any(not c.isalpha() for c in key[:-1])
    )


PLAIN_KEY = _key_with_both_alphabets_apart()
UNPADDED = PLAIN_KEY[:-1]
STANDARD = PLAIN_KEY.replace("-", "+").replace("_", "/")


def test_a_token_followed_by_an_underscore_is_found() -> None:
    found = find_leaks(f"OLD = '{API_TOKEN}_old'\nNEXT = {API_TOKEN}_2\n")

    assert [(f.kind, f.line, f.column) for f in found] == [
        (leaks.API_TOKEN, 1, 8),
        (leaks.API_TOKEN, 2, 8),
    ]
    assert found[0].fingerprint == leaks.fingerprint(API_TOKEN)


@pytest.mark.parametrize(
    ("content", "preview"),
    [
        (f"PLATXA_SECRETS_MASTER_KEY={UNPADDED}\n", "… (no padding)"),
        (f"fernet_key: {STANDARD}\n", "…= (standard base64)"),
        (f"secret = '{STANDARD[:-1]}'\n", "… (standard base64, no padding)"),
        (f"master_key:\n  {UNPADDED}\n", "… (no padding)"),
        (f"[keys]\ntoken =\n    {STANDARD}\n", "…= (standard base64)"),
        (f"{UNPADDED}\n", "… (no padding)"),  # a key file
    ],
    ids=["env", "yaml", "quoted", "yaml-block", "ini-continued", "key-file"],
)
def test_other_forms_of_a_fernet_key_are_found_near_a_key_word(
    content: str, preview: str
) -> None:
    found = find_leaks(content)

    assert [(f.kind, f.preview) for f in found] == [(leaks.FERNET_KEY, preview)]


def _sha256_b64(data: bytes) -> str:
    """A base64 digest that reads differently from its url-safe form."""
    for counter in range(1000):
        digest = base64.b64encode(hashlib.sha256(data + bytes([counter])).digest())
        text = digest.decode()
        if {"+", "/"} & set(text) and _looks_random(text):
            return text
    raise AssertionError("no digest with + or /")


DIGEST = _sha256_b64(b"some file")
# 43 characters that decode to 32 bytes as an encoder writes them
TEST_NAME = "test_a_fresh_key_is_stored_in_the_key_files"


@pytest.mark.parametrize(
    "content",
    [
        f"value {UNPADDED}\n",  # no key word
        f"data: {STANDARD}\n",
        f"key digest: {STANDARD}\n",  # a hash word vetoes
        f"master_key_sha256 = {UNPADDED}\n",
        f'<script integrity="sha256-{DIGEST}" src="app.js">\n',
        f'"key": "sha256-{DIGEST}"\n',
        f"example.com/secret v1.0.0 h1:{DIGEST}\n",  # go.sum
        f"key = {PLAIN_KEY[:-1].lower()}\n",  # one case only: not random
        f"def {TEST_NAME}(key): ...\n",
        f"master_key:\n  note {UNPADDED}\n",  # not alone below the opening
        f"{PLAIN_KEY[:-2]}B\n",  # non-canonical: low bits set
    ],
    ids=[
        "no-key-word",
        "standard-no-key-word",
        "hash-word",
        "sha256-in-name",
        "sri-integrity",
        "sri-under-key",
        "go-sum",
        "lower-case",
        "test-name",
        "not-alone-below",
        "non-canonical",
    ],
)
def test_digest_shaped_values_are_not_taken_for_keys(content: str) -> None:
    assert [f for f in find_leaks(content) if f.kind == leaks.FERNET_KEY] == []


def test_a_long_name_is_a_key_only_when_written_as_one() -> None:
    assert [f.kind for f in find_leaks(f"x = {TEST_NAME}=")] == [leaks.FERNET_KEY]
    assert find_leaks(f"key = {TEST_NAME}\n") == []


def _wrapped_base64(data: bytes, indent: str = "") -> list[str]:
    """What `base64` (76 characters a line) writes for `data`."""
    return [indent + line for line in base64.encodebytes(data).decode().split()]


def test_a_private_key_base64_encoded_over_many_lines_is_found() -> None:
    pem = _pem("RSA PRIVATE KEY").encode()
    lines = _wrapped_base64(pem)
    assert len(lines) > 20 and len(lines[0]) == 76
    folded = "\n".join(["kind: Secret", "data:", "  tls.key: >-"])
    folded += "\n" + "\n".join("    " + line for line in lines) + "\n"
    env = f'TLS_KEY="{lines[0]}\n' + "\n".join(lines[1:]) + '"\nNEXT=1\n'
    inline = f"  tls.key: {lines[0]}\n" + "\n".join(f"    {x}" for x in lines[1:])

    places = {
        name: [(f.kind, f.line, f.column, f.preview, f.encoding) for f in found]
        for name, found in [
            ("folded", find_leaks(folded)),
            ("env", find_leaks(env)),
            ("inline", find_leaks(inline)),
        ]
    }

    kind, label = leaks.PRIVATE_KEY, "RSA PRIVATE KEY"
    assert places == {
        "folded": [(kind, 4, 5, label, "base64")],
        "env": [(kind, 1, 10, label, "base64")],
        "inline": [(kind, 1, 12, label, "base64")],
    }


def test_base64_values_one_per_line_are_each_decoded_when_they_do_not_join() -> None:
    other, other_parts = token_format.new_token()
    first = base64.b64encode(f"a={API_TOKEN}\n".encode()).decode()
    second = base64.b64encode(f"b={other}\n".encode()).decode()
    assert first.endswith("=") and second.endswith("=")
    content = f"{first.rstrip('=')}\n{second.rstrip('=')}\n"

    found = find_leaks(content)

    assert [(f.line, f.preview) for f in found] == [
        (1, f"pxs_{API_PARTS.id}_…"),
        (2, f"pxs_{other_parts.id}_…"),
    ]


def _xxd(data: bytes) -> str:
    """What `xxd -p` writes: hex, 60 characters a line."""
    return "\n".join(textwrap.wrap(data.hex(), 60)) + "\n"


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (_xxd(API_TOKEN.encode()), leaks.API_TOKEN),
        (_xxd(f"{KEY}\n".encode()), leaks.FERNET_KEY),
        (f"KEY_HEX={KEY.encode().hex()}\n", leaks.FERNET_KEY),
        (f"blob: {_xxd(f'x = {TOKEN}'.encode())}", leaks.FERNET_TOKEN),
    ],
    ids=["xxd-token", "xxd-key", "one-line", "after-a-prefix"],
)
def test_hex_encoded_tokens_and_keys_are_found(content: str, kind: str) -> None:
    found = find_leaks(content)

    assert [(f.kind, f.line, f.encoding) for f in found] == [(kind, 1, "hex")]


def test_a_value_encoded_twice_is_found_and_three_times_is_not() -> None:
    once = f"token: {API_TOKEN}\n".encode()
    twice = base64.b64encode(base64.b64encode(once)).decode()
    hex_in_base64 = base64.b64encode(once.hex().encode()).decode()
    thrice = base64.b64encode(twice.encode()).decode()

    assert [(f.kind, f.encoding) for f in find_leaks(f"v: {twice}")] == [
        (leaks.API_TOKEN, "base64 in base64")
    ]
    assert [f.encoding for f in find_leaks(f"v: {hex_in_base64}")] == ["hex in base64"]
    assert find_leaks(f"v: {thrice}") == []


@pytest.mark.parametrize(
    "encoding", ["utf-16", "utf-16-le", "utf-16-be"], ids=["bom", "le", "be"]
)
def test_utf16_text_is_decoded_not_skipped(encoding: str) -> None:
    content = f"# settings\r\n$token = '{API_TOKEN}'\r\n".encode(encoding)

    assert leaks.decode_file(content) is not None
    found = find_leaks(content)

    assert [(f.kind, f.line, f.column) for f in found] == [(leaks.API_TOKEN, 2, 11)]


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"\xff\xfe\x00\x00" + "utf-32 text".encode("utf-32-le"),
        b"\x00\x01\x02\x03" * 100,
    ],
    ids=["png", "utf-32", "zeros"],
)
def test_binary_content_is_not_taken_for_text(content: bytes) -> None:
    assert leaks.decode_file(content) is None
