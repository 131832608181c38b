"""The ciphertext format, parsed and checked before any decryption.

    pxs1:<kid>:<fernet-token>

`pxs1` is the format version, `<kid>` names the data key that encrypted
the value (so decryption goes to one key, not a search), and the token is
an ordinary Fernet token. Example (token shortened)::

    pxs1:7f3a09c2:gAAAAABn2k...Yw==

A bare Fernet token without the prefix is *legacy*: older code wrote it.
It is still accepted; the keyring tries every key that may decrypt and
reports the value as legacy so re-encryption can rewrite it.

The plaintext inside a `pxs1` token is framed to bind it to its context
(the identity of what it protects, such as `tenant-a/odoo/3/DB_PASSWORD`)::

    0x01 | len(context) as 2 bytes big-endian | context | value

Fernet authenticates the whole frame, so a ciphertext copied onto
another row fails the context check on decrypt.

Shape checks happen first, each with its own reason, so a damaged value
is reported as damaged rather than as "wrong key": url-safe base64,
version byte 0x80, minimum length, whole AES blocks, nothing trailing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from platxa_secrets.core.text import decode_or_none
from platxa_secrets.errors import CryptoError

PREFIX = "pxs1"
_KID = re.compile(r"[a-z0-9]{4,32}")
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_FERNET_VERSION = 0x80
# version (1) + timestamp (8) + IV (16) + one AES block (16) + HMAC (32)
_MIN_TOKEN_BYTES = 73
_FRAME_VERSION = 1
# url-safe base64 digits 0-15: a second character whose top two bits are 0
_FIRST_SIXTEEN = frozenset("ABCDEFGHIJKLMNOP")


@dataclass(frozen=True)
class ParsedCiphertext:
    """A ciphertext whose shape has been checked but not its authenticity."""

    kid: str | None
    token: bytes

    @property
    def legacy(self) -> bool:
        return self.kid is None

    def __repr__(self) -> str:
        return f"ParsedCiphertext(kid={self.kid!r}, legacy={self.legacy})"


def format_ciphertext(kid: str, token: bytes) -> str:
    return f"{PREFIX}:{kid}:{token.decode('ascii')}"


def parse_unverified(ciphertext: str | bytes, target: str) -> ParsedCiphertext:
    """Check the shape of a ciphertext; raise `CryptoError` naming the flaw.

    `target` names what the ciphertext belongs to for the message. Nothing
    here proves authenticity; that is the keyring's job.
    """
    text = _as_text(ciphertext, target)
    if not text:
        raise CryptoError(f"ciphertext of {target} is empty", target=target)

    kid: str | None = None
    token = text
    if ":" in text:
        prefix, _, rest = text.partition(":")
        if prefix != PREFIX:
            raise CryptoError(
                f"ciphertext of {target} has an unknown format prefix; this "
                f"version reads '{PREFIX}:' and bare Fernet tokens",
                target=target,
            )
        kid, _, token = rest.partition(":")
        if not _KID.fullmatch(kid):
            raise CryptoError(
                f"ciphertext of {target} has a malformed key id", target=target
            )

    _check_token(token, target)
    return ParsedCiphertext(kid, token.encode("ascii"))


def frame(context: str, value: bytes) -> bytes:
    """Prefix a value with the context it is bound to."""
    encoded = context.encode("utf-8")
    if len(encoded) > 0xFFFF:
        raise CryptoError("encryption context is longer than 65535 bytes")
    return bytes([_FRAME_VERSION]) + len(encoded).to_bytes(2, "big") + encoded + value


def unframe(plaintext: bytes, context: str, target: str) -> bytes:
    """Check the bound context and return the value."""
    if len(plaintext) < 3 or plaintext[0] != _FRAME_VERSION:
        raise CryptoError(
            f"ciphertext of {target} decrypts to an unknown frame", target=target
        )

    size = int.from_bytes(plaintext[1:3], "big")
    bound = plaintext[3 : 3 + size]
    if len(bound) != size:
        raise CryptoError(f"ciphertext of {target} is truncated", target=target)

    if bound != context.encode("utf-8"):
        raise CryptoError(
            f"ciphertext of {target} is bound to "
            f"{bound.decode('utf-8', 'replace')!r}: it was copied from another "
            "row",
            target=target,
        )
    return plaintext[3 + size :]


def _as_text(ciphertext: str | bytes, target: str) -> str:
    if isinstance(ciphertext, str):
        return ciphertext
    text = decode_or_none(ciphertext, "ascii")
    if text is None:
        raise CryptoError(
            f"ciphertext of {target} contains non-ASCII bytes", target=target
        )
    return text


def _check_token(token: str, target: str) -> None:
    if not _TOKEN_CHARS.fullmatch(token):
        raise CryptoError(
            f"ciphertext of {target} is not url-safe base64 or has trailing characters",
            target=target,
        )

    if len(token) % 4:
        raise CryptoError(
            f"ciphertext of {target} has a length that is not a multiple of 4 "
            "(truncated or padded wrongly)",
            target=target,
        )

    # The checks below read the base64 text without decoding it (Fernet
    # decodes it once more anyway): the first character and the top two
    # bits of the second carry the version byte, and the length and the
    # padding give the decoded size.
    if token[0] != "g" or token[1] not in _FIRST_SIXTEEN:
        raise CryptoError(
            f"ciphertext of {target} is not a Fernet token (version byte is not 0x80)",
            target=target,
        )

    size = len(token) * 3 // 4 - (len(token) - len(token.rstrip("=")))
    if size < _MIN_TOKEN_BYTES:
        raise CryptoError(
            f"ciphertext of {target} is {size} bytes, shorter than the "
            f"{_MIN_TOKEN_BYTES} of the smallest Fernet token (truncated)",
            target=target,
        )

    if (size - 57) % 16:
        raise CryptoError(
            f"ciphertext of {target} does not hold whole 16-byte AES blocks "
            "(truncated or damaged)",
            target=target,
        )
