"""The values of a Secret: `data` decoded, `stringData` encoded, checked.

`data` is standard base64, decoded as strictly as Go decodes it (line
breaks ignored, nothing else); `stringData` is text stored as UTF-8.
A value that is the text of a Python bytes object is refused in both.
The decoded secret must then pass the rules of its type and the 1 MiB
limit of the API server.
"""

from __future__ import annotations

import binascii
import re

from platxa_secrets.core.names import check_key, check_size
from platxa_secrets.core.secret_types import check_type_rules
from platxa_secrets.errors import ValidationError
from platxa_secrets.services.manifests._errors import (
    Located,
    as_mapping,
    fail,
    kind_of,
    relocated,
)

_BASE64_CHARS = re.compile(r"[A-Za-z0-9+/=]*")
_BYTES_LITERAL = re.compile(r"""\s*b(['"]).*\1\s*""", re.DOTALL)
_BYTES_LITERAL_RAW = re.compile(rb"""\s*b(['"]).*\1\s*""", re.DOTALL)
_SIMPLE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def read_data(section: object, source: str) -> dict[str, bytes]:
    """Decode `data`: each value standard base64, refused with a reason."""
    data: dict[str, bytes] = {}
    for key, value in _entries(section, source, "data").items():
        path = _path("data", key)
        value = _text(value, source, path, "must be a base64 string")

        decoded = _b64decode(value, source, path)
        if _BYTES_LITERAL_RAW.fullmatch(decoded):
            raise _bytes_literal(source, path, decoded=True)

        data[key] = decoded
    return data


def _text(value: object, source: str, path: str, rule: str, hint: str = "") -> str:
    """The value as text; a non-string or the text of a bytes object refused."""
    if not isinstance(value, str):
        raise fail(source, path, f"{rule}, got {kind_of(value)}{hint}")

    if _BYTES_LITERAL.fullmatch(value):
        raise _bytes_literal(source, path)
    return value


def read_string_data(section: object, source: str) -> dict[str, bytes]:
    """Encode `stringData`: each value text, stored as UTF-8."""
    data: dict[str, bytes] = {}
    for key, value in _entries(section, source, "stringData").items():
        path = _path("stringData", key)
        value = _text(value, source, path, "must be a string", " (quote it)")

        encoded = _utf8(value)
        if encoded is None:
            raise fail(source, path, "holds a lone surrogate, not text")

        data[key] = encoded
    return data


def check_content(
    secret_type: str, data: dict[str, bytes], target: str, source: str
) -> None:
    """Apply the typed-Secret rules and the 1 MiB limit, naming the source."""
    try:
        check_type_rules(secret_type, data, target)
    except ValidationError as exc:
        key = exc.context.get("key")
        path = _path("data", key) if isinstance(key, str) else "type"
        raise relocated(exc, source, path) from None

    try:
        check_size(data, target)
    except ValidationError as exc:
        raise relocated(exc, source, "data") from None


def _utf8(value: str) -> bytes | None:
    """Encode text as UTF-8, or None for a lone surrogate.

    None rather than an exception: the codec error holds the whole
    value (`.object`), and must not become the context of ours.
    """
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        return None


def _entries(section: object, source: str, field: str) -> dict[str, object]:
    """Return a `data`-like mapping with every key checked."""
    if section is None:
        return {}

    entries = as_mapping(section, source, field)
    for key in entries:
        if not isinstance(key, str):
            kind = kind_of(key)
            raise fail(source, field, f"has a key that is {kind}, not a string")
        with Located(source):
            check_key(key, field=f"{field} key")
    return entries


def _b64decode(value: str, source: str, path: str) -> bytes:
    """Decode standard base64 strictly, ignoring CR and LF like Go does."""
    text = value.replace("\r", "").replace("\n", "")
    if not text.isascii() or not _BASE64_CHARS.fullmatch(text):
        raise fail(
            source,
            path,
            "is not standard base64: only A-Z, a-z, 0-9, '+', '/' and the "
            "'=' padding are allowed (no spaces, no url-safe '-' or '_')",
        )

    if len(text) % 4:
        raise fail(
            source,
            path,
            f"is not standard base64: {len(text)} characters is not a multiple "
            "of 4 (is the '=' padding missing?)",
        )

    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error:
        pass

    # Raised outside the handler, so binascii's error is not its context.
    raise fail(source, path, "is not standard base64: the '=' padding is misplaced")


def _bytes_literal(source: str, path: str, *, decoded: bool = False) -> ValidationError:
    """Build the error for a value that is the text of a Python bytes object."""
    shape = "decodes to" if decoded else "is written as"
    return fail(
        source,
        path,
        f"{shape} a Python bytes literal (b'...'): str() of a bytes object "
        "was probably written instead of the value itself",
    )


def _path(section: str, key: str) -> str:
    """Name a key of a section: data.password, or data[tls.crt] when dotted."""
    if _SIMPLE_KEY.fullmatch(key):
        return f"{section}.{key}"
    return f"{section}[{key}]"
