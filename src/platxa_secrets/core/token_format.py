"""The API token format: `pxs_<id>_<secret>_<checksum>`.

    pxs_k3v9q2m7x4ab_Zr8QpL2v...40 characters..._1a2B3c

- `id`: 12 characters `[a-z0-9]`, public, the row to look up;
- `secret`: 40 characters base62 (about 238 bits from `secrets`); only
  its SHA-256 is stored;
- `checksum`: 6 characters base62 of the CRC-32 of everything before it.

The prefix lets scanners find a leaked token; the checksum lets them
(and the server) reject a typo or a random look-alike without a lookup.
The checksum is not a security measure: the secret's hash is.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import zlib
from dataclasses import dataclass

from platxa_secrets.errors import AuthenticationError

PREFIX = "pxs_"
ID_LENGTH = 12
SECRET_LENGTH = 40
CHECKSUM_LENGTH = 6

_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# For scanners: the shape, then `is_token` to check the checksum.
PATTERN = re.compile(r"pxs_[a-z0-9]{12}_[A-Za-z0-9]{40}_[A-Za-z0-9]{6}(?![A-Za-z0-9_])")
_EXACT = re.compile(r"pxs_([a-z0-9]{12})_([A-Za-z0-9]{40})_([A-Za-z0-9]{6})")


@dataclass(frozen=True)
class ParsedToken:
    """A token whose shape and checksum are right; not yet authenticated."""

    id: str
    secret: str

    def __repr__(self) -> str:
        return f"ParsedToken(id={self.id!r})"

    def secret_sha256(self) -> str:
        return hashlib.sha256(self.secret.encode("ascii")).hexdigest()


def new_token() -> tuple[str, ParsedToken]:
    """A fresh token's text and its parts."""
    token_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(ID_LENGTH))
    secret = "".join(secrets.choice(_BASE62) for _ in range(SECRET_LENGTH))
    body = f"{PREFIX}{token_id}_{secret}"
    return f"{body}_{checksum(body)}", ParsedToken(token_id, secret)


def checksum(body: str) -> str:
    """Six base62 digits of the CRC-32 of `body`."""
    value = zlib.crc32(body.encode("ascii"))
    digits = []
    for _ in range(CHECKSUM_LENGTH):
        value, digit = divmod(value, 62)
        digits.append(_BASE62[digit])
    return "".join(reversed(digits))


def is_token(text: str) -> bool:
    """True when `text` is exactly a token with a matching checksum."""
    match = _EXACT.fullmatch(text)
    if match is None:
        return False
    body = text[: -(CHECKSUM_LENGTH + 1)]
    return checksum(body) == match.group(3)


def parse_token(text: str) -> ParsedToken:
    """Split a token after checking its shape and checksum.

    Raises AuthenticationError with a fixed message: the text is a
    credential and is never echoed.
    """
    match = _EXACT.fullmatch(text)
    if match is None:
        raise AuthenticationError("invalid token", reason="malformed token")

    body = text[: -(CHECKSUM_LENGTH + 1)]
    if checksum(body) != match.group(3):
        raise AuthenticationError("invalid token", reason="token checksum mismatch")

    return ParsedToken(match.group(1), match.group(2))
