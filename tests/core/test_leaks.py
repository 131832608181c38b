"""Leak detection: every shape is found, look-alikes are not, nothing leaks."""

from __future__ import annotations

import base64
import json
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
