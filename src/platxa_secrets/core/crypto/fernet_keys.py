"""Parse Fernet keys from people and files, with reasons when they are bad.

A Fernet key is 32 random bytes written as 44 characters of url-safe
base64 (the last one `=`). Keys arrive by hand: pasted into an
environment variable, a file, a config file. The common mistakes each get
their own message so an operator can fix them without guessing — and no
message contains the key or any part of it.

Legacy keys: older Platxa code turned any configured string into a
Fernet key by taking its first 32 characters, padding with spaces and
base64-encoding them. `derive_legacy_key` reproduces that so old tokens
stay readable until they are migrated.
"""

from __future__ import annotations

import base64
import binascii
import re

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.hmac import HMAC

from platxa_secrets.core.text import decode_or_none
from platxa_secrets.errors import ConfigError

KEY_LENGTH = 44
RAW_KEY_BYTES = 32
_URLSAFE = re.compile(r"[A-Za-z0-9_-]*={0,2}")
_STANDARD_ONLY = re.compile(r"[+/]")
_QUOTES = ("'", '"', "`")
_KID_LABEL = b"platxa-secrets key id v1"


def parse_fernet_key(text: str | bytes, source: str) -> bytes:
    """Validate one Fernet key and return it in the form `Fernet()` takes.

    `source` names where the key came from ("PLATXA_SECRETS_MASTER_KEY
    entry 2"); it is the only thing echoed in an error. Surrounding
    whitespace (a trailing newline from `echo` or an editor) is stripped,
    not rejected.
    """
    if isinstance(text, bytes):
        decoded = decode_or_none(text, "ascii")
        if decoded is None:
            raise ConfigError(
                f"{source} contains non-ASCII bytes; a Fernet key is 44 "
                "characters of url-safe base64",
                field=source,
            )
        text = decoded

    key = text.strip()
    if not key:
        raise ConfigError(f"{source} is empty", field=source)

    if key[0] in _QUOTES and key[-1] == key[0]:
        raise ConfigError(
            f"{source} is wrapped in quotes; remove the quotes around the key",
            field=source,
        )

    if _STANDARD_ONLY.search(key):
        raise ConfigError(
            f"{source} uses the standard base64 alphabet ('+' or '/'); a Fernet "
            "key uses the url-safe alphabet ('-' and '_')",
            field=source,
        )

    if not _URLSAFE.fullmatch(key):
        raise ConfigError(
            f"{source} is not url-safe base64 (only A-Z, a-z, 0-9, '-', '_' "
            "and trailing '=' are allowed)",
            field=source,
        )

    raw = _decode(key, source)
    if len(raw) != RAW_KEY_BYTES:
        if _looks_double_encoded(raw):
            raise ConfigError(
                f"{source} is base64-encoded twice; decode it once and supply "
                "the 44-character key",
                field=source,
            )
        raise ConfigError(
            f"{source} decodes to {len(raw)} bytes; a Fernet key is "
            f"{RAW_KEY_BYTES} bytes ({KEY_LENGTH} characters of base64)",
            field=source,
        )
    return base64.urlsafe_b64encode(raw)


def derive_legacy_key(raw: str) -> bytes:
    """Turn a legacy configured string into the Fernet key old code used."""
    return base64.urlsafe_b64encode(raw[:32].ljust(32).encode("utf-8")[:32])


def parse_legacy_key_line(line: str, source: str) -> bytes:
    """Accept a Fernet key, or a raw legacy string that old code derived.

    A line that is a well-formed Fernet key is used as it is; anything else
    is treated as the raw string older Platxa code padded and encoded.
    """
    candidate = line.strip()
    if not candidate:
        raise ConfigError(f"{source} is empty", field=source)

    try:
        return parse_fernet_key(candidate, source)
    except ConfigError:
        return derive_legacy_key(candidate)


def parse_legacy_keys(lines: list[str], source: str) -> list[bytes]:
    """Every non-blank line as a legacy key; line numbers count blank lines."""
    return [
        parse_legacy_key_line(line, f"{source} line {number}")
        for number, line in enumerate(lines, start=1)
        if line.strip()
    ]


def key_id(key: bytes, length: int = 8) -> str:
    """A short identifier derived from a key without revealing it.

    It is an HMAC of a fixed label under the key, so it names the key in
    logs and rows yet says nothing about the key's bytes.
    """
    mac = HMAC(base64.urlsafe_b64decode(key), hashes.SHA256())
    mac.update(_KID_LABEL)
    return mac.finalize().hex()[:length]


def _decode(key: str, source: str) -> bytes:
    padded = key + "=" * (-len(key) % 4)
    try:
        return base64.urlsafe_b64decode(padded)
    except (binascii.Error, ValueError):
        raise ConfigError(
            f"{source} is not valid base64 (its length or padding is wrong)",
            field=source,
        ) from None


def _looks_double_encoded(raw: bytes) -> bool:
    """True when the decoded bytes are themselves a base64 Fernet key."""
    try:
        inner = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        return False
    if len(inner) != KEY_LENGTH or not _URLSAFE.fullmatch(inner):
        return False
    try:
        return len(base64.urlsafe_b64decode(inner)) == RAW_KEY_BYTES
    except (binascii.Error, ValueError):
        return False
