"""Is a 43-character run of base64 a Fernet key, and how is it written?

A Fernet key is 32 random bytes in url-safe base64 with one `=`:

    canonical          Xy3…(43 characters)…Q=     always reported
    no padding         Xy3…(43 characters)…Q      reported near a key word
    standard alphabet  Xy+…/…Q= or without `=`    reported near a key word

The canonical form is distinctive enough on its own. The others are
also exactly how a SHA-256 digest looks in base64 (Subresource
Integrity, `go.sum`, JWK thumbprints, PKCE challenges), so they are
reported only when

- the characters look random (both cases, and a digit or symbol: a long
  identifier has not all three; a random key lacks them about once in
  7000 draws);
- a key word (key, secret, fernet, master, token, password, credential)
  stands on the key's line, or on the line above when that line opens a
  value (`master_key:`, `KEY=`, `|`) and the key stands alone, or the
  key is the whole text (a key file); and
- no hash word (sha256, hash, digest, checksum, integrity, fingerprint,
  thumbprint, `h1:`) is there.

A key of any form written right after a digest label (`sha256-`, `h1:`)
is a digest and is never reported. Cryptography's Fernet accepts the
standard alphabet as it is, and a key that lost its `=` (an `.env`
parser that splits on `=`) is one character from working, so both are
leaks; a random 32-byte value under a key word that is not a Fernet key
is a leaked secret all the same.
"""

from __future__ import annotations

import base64
import binascii
import re

from platxa_secrets.core.crypto.fernet_keys import RAW_KEY_BYTES

_B64 = r"A-Za-z0-9+/_\-"
PATTERN = re.compile(rf"(?<![{_B64}])[{_B64}]{{43}}=?(?![{_B64}=])")
CANONICAL = "…="
_DIGEST_LABEL = re.compile(r"(?:\bh1:|sha-?(?:256|384|512)[-:=])$", re.IGNORECASE)
_KEY_WORDS = re.compile(r"key|secret|fernet|master|token|passw|credential", re.I)
_HASH_WORDS = re.compile(
    r"sha-?\d|hash|digest|checksum|integrity|fingerprint|thumbprint|\bh1:", re.I
)
# How a line opens a value continued below it (YAML, .env, INI).
_OPENS_VALUE = (":", "=", "|", ">", "|-", ">-")


def judge(text: str, match: re.Match[str]) -> str | None:
    """The preview of the key `match` found in `text`, or None.

    The preview names the form (`…=` canonical, `… (no padding)`, …).
    """
    key, start = match.group(), match.start()
    form = _form(key)
    if form is None or _DIGEST_LABEL.search(text[max(0, start - 10) : start]):
        return None
    if form == CANONICAL:
        return form
    if _looks_random(key) and _near_key_words(text, start, match.end()):
        return form
    return None


def _form(key: str) -> str | None:
    """How a 32-byte key is written, or None if it is not one.

    Only what an encoder writes counts: the unused low bits of the last
    character must be zero, and the alphabets must not be mixed.
    """
    body = key.removesuffix("=")
    standard = "+" in body or "/" in body
    if standard and ("-" in body or "_" in body):
        return None

    altchars = None if standard else b"-_"
    try:
        raw = base64.b64decode(body + "=", altchars, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != RAW_KEY_BYTES:
        return None
    if base64.b64encode(raw, altchars).decode() != body + "=":
        return None

    padded = key.endswith("=")
    if not standard:
        return CANONICAL if padded else "… (no padding)"
    return "…= (standard base64)" if padded else "… (standard base64, no padding)"


def _looks_random(key: str) -> bool:
    return (
        any(c.isupper() for c in key)
        and any(c.islower() for c in key)
        and any(not c.isalpha() for c in key)
    )


def _near_key_words(text: str, start: int, end: int) -> bool:
    if text.strip() == text[start:end]:
        return True

    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    around = [text[line_start:start], text[end : line_end if line_end >= 0 else None]]
    alone = not "".join(around).strip(" \t\r'\",")
    if alone and line_start > 0:
        above = text[text.rfind("\n", 0, line_start - 1) + 1 : line_start - 1]
        if above.rstrip().endswith(_OPENS_VALUE):
            around.append(above)

    context = " ".join(around)
    return bool(_KEY_WORDS.search(context)) and not _HASH_WORDS.search(context)
