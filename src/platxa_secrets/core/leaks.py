"""Find leaked keys, tokens and ciphertexts in text, without keeping them.

Each shape is first found by a pattern, then verified, so a look-alike
is not reported:

| kind           | shape                           | verified by                  |
|----------------|---------------------------------|------------------------------|
| `fernet-key`   | 43 url-safe base64 chars + `=`  | decodes to exactly 32 bytes  |
| `fernet-token` | `gAAAAA…` (url-safe base64)     | version 0x80, length, blocks |
| `ciphertext`   | `pxs1:<kid>:<fernet token>`     | the same token checks        |
| `api-token`    | `pxs_<id>_<secret>_<checksum>`  | the CRC-32 checksum          |
| `private-key`  | `-----BEGIN … PRIVATE KEY-----` | a base64 body follows        |

A run of base64 that decodes to text (a Kubernetes Secret's `data`) is
decoded once and searched as well; its findings say `encoding="base64"`.

A finding says where and what, never the matched text: a fingerprint
(the first 8 hex digits of a SHA-256 of the match, to tell two leaks
apart or to baseline one) and a preview holding only a public part (a
token's id, a ciphertext's kid, a PEM label). A line that carries
`pxs-scan: allow` is skipped, for examples and tests that must hold a
key-shaped string.

Nothing here reads files or logs; the scan service does both.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from platxa_secrets.core import token_format
from platxa_secrets.core.crypto.ciphertext import parse_unverified
from platxa_secrets.core.crypto.fernet_keys import RAW_KEY_BYTES
from platxa_secrets.errors import CryptoError

ALLOW_MARKER = "pxs-scan: allow"

FERNET_KEY = "fernet-key"
FERNET_TOKEN = "fernet-token"
CIPHERTEXT = "ciphertext"
API_TOKEN = "api-token"
PRIVATE_KEY = "private-key"
KINDS = (FERNET_KEY, FERNET_TOKEN, CIPHERTEXT, API_TOKEN, PRIVATE_KEY)

_B64 = r"A-Za-z0-9+/_\-"
_FERNET_KEY = re.compile(rf"(?<![{_B64}])[A-Za-z0-9_-]{{43}}=(?![{_B64}=])")
# The smallest Fernet token is 73 bytes: 100 characters with padding.
_FERNET_TOKEN = re.compile(rf"(?<![{_B64}])gAAAAA[A-Za-z0-9_-]{{90,}}={{0,2}}")
_CIPHERTEXT = re.compile(r"pxs1:([a-z0-9]{4,32}):(gAAAAA[A-Za-z0-9_-]{90,}={0,2})")
_PRIVATE_KEY = re.compile(
    r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY)-----"
    # a body, after at most a few header lines (Proc-Type, DEK-Info)
    r"(?=[\s\S]{0,200}?([A-Za-z0-9+/]{40,}))"
)
_PEM_SPAN = 20_000
_BASE64_RUN = re.compile(rf"(?<![{_B64}])[{_B64}]{{12,}}={{0,2}}(?![{_B64}=])")
# the shortest shape worth decoding for: a Fernet key, base64-encoded
_NESTED_MIN = 56


@dataclass(frozen=True)
class Finding:
    """One leak: where, what kind, and nothing of the matched text.

    `fingerprint` tells two leaks apart without revealing either;
    `preview` shows a public part only (`pxs_k3v9q2m7x4ab_…`).
    """

    kind: str
    line: int
    column: int
    fingerprint: str
    preview: str
    encoding: str | None = None

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.kind} [{self.fingerprint}]"


@dataclass(frozen=True)
class _Match:
    kind: str
    start: int
    end: int
    fingerprint: str
    preview: str


def find_leaks(content: str | bytes) -> list[Finding]:
    """Every verified key, token, ciphertext and private key in `content`.

    Findings come in the order they appear; one inside another (the
    token of a `pxs1:` ciphertext) is reported once, as the outer one.
    """
    text = as_text(content)
    lines = LineIndex(text)
    found: list[Finding] = []

    for match in _matches(text):
        if not lines.scannable(match.start):
            continue
        line, column = lines.locate(match.start)
        found.append(
            Finding(match.kind, line, column, match.fingerprint, match.preview)
        )

    for start, decoded in base64_runs(text, _NESTED_MIN):
        inner = _decoded_text(decoded)
        if inner is None or not lines.scannable(start):
            continue
        line, column = lines.locate(start)
        found.extend(
            Finding(m.kind, line, column, m.fingerprint, m.preview, "base64")
            for m in _matches(inner)
        )

    return sorted(found, key=lambda f: (f.line, f.column))


def as_text(content: str | bytes) -> str:
    """Text of `content`; undecodable bytes kept (surrogateescape), not lost."""
    if isinstance(content, bytes):
        return content.decode("utf-8", "surrogateescape")
    return content


def scannable(line: str) -> bool:
    """False when the line opts out of the scan with the allow marker."""
    return ALLOW_MARKER not in line


def fingerprint(matched: str | bytes) -> str:
    """The first 8 hex digits of SHA-256: enough to tell leaks apart."""
    data = (
        matched.encode("utf-8", "surrogateescape")
        if isinstance(matched, str)
        else matched
    )
    return hashlib.sha256(data).hexdigest()[:8]


def base64_runs(text: str, min_length: int) -> Iterator[tuple[int, bytes]]:
    """Each base64-looking run of at least `min_length` chars, decoded.

    Standard and url-safe alphabets are accepted, not mixed; a run that
    is not whole base64 (wrong length, stray characters) is passed over.
    """
    for match in _BASE64_RUN.finditer(text):
        run = match.group()
        if len(run) < min_length or len(run) % 4:
            continue

        urlsafe = "-" in run or "_" in run
        if urlsafe and ("+" in run or "/" in run):
            continue

        try:
            decoded = base64.b64decode(run, altchars=b"-_" if urlsafe else None)
        except (binascii.Error, ValueError):
            continue
        yield match.start(), decoded


def _matches(text: str) -> list[_Match]:
    """Verified matches of every kind, outermost first, none nested."""
    found: list[_Match] = []
    for finder in _FINDERS:
        found.extend(finder(text))
    found.sort(key=lambda m: (m.start, -m.end))

    kept: list[_Match] = []
    for match in found:
        if kept and match.start < kept[-1].end:
            continue
        kept.append(match)
    return kept


def _fernet_keys(text: str) -> Iterator[_Match]:
    for match in _FERNET_KEY.finditer(text):
        key = match.group()
        raw = base64.urlsafe_b64decode(key)
        if len(raw) != RAW_KEY_BYTES or base64.urlsafe_b64encode(raw) != key.encode():
            continue  # not what an encoder writes: a look-alike
        yield _Match(FERNET_KEY, match.start(), match.end(), fingerprint(key), "…=")


def _fernet_tokens(text: str) -> Iterator[_Match]:
    for match in _FERNET_TOKEN.finditer(text):
        token = match.group()
        if _is_fernet_token(token):
            preview = "gAAAAA…"
            yield _Match(FERNET_TOKEN, *match.span(), fingerprint(token), preview)


def _ciphertexts(text: str) -> Iterator[_Match]:
    for match in _CIPHERTEXT.finditer(text):
        if _is_fernet_token(match.group(2)):
            preview = f"pxs1:{match.group(1)}:…"
            yield _Match(CIPHERTEXT, *match.span(), fingerprint(match.group()), preview)


def _api_tokens(text: str) -> Iterator[_Match]:
    for match in token_format.PATTERN.finditer(text):
        token = match.group()
        if token_format.is_token(token):
            preview = token[: len(token_format.PREFIX) + token_format.ID_LENGTH + 1]
            yield _Match(API_TOKEN, *match.span(), fingerprint(token), f"{preview}…")


def _private_keys(text: str) -> Iterator[_Match]:
    for match in _PRIVATE_KEY.finditer(text):
        label = match.group(1)
        end_marker = f"-----END {label}-----"
        end = text.find(end_marker, match.end(), match.end() + _PEM_SPAN)
        stop = end + len(end_marker) if end >= 0 else match.end(2)
        yield _Match(
            PRIVATE_KEY, match.start(), stop, fingerprint(match.group(2)), label
        )


def _is_fernet_token(token: str) -> bool:
    try:
        parse_unverified(token, "scanned text")
    except CryptoError:
        return False
    return True


def _decoded_text(decoded: bytes) -> str | None:
    """Decoded bytes as text, or None when they are binary (a key, a token)."""
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(c < " " and c not in "\t\r\n" for c in text):
        return None
    return text


_FINDERS: tuple[Callable[[str], Iterator[_Match]], ...] = (
    _fernet_keys,
    _fernet_tokens,
    _ciphertexts,
    _api_tokens,
    _private_keys,
)


class LineIndex:
    """Offsets to 1-based line and column, with the allow marker checked.

    The index of line starts is built on the first lookup: most texts
    have no finding and never need it.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts: list[int] | None = None

    def locate(self, offset: int) -> tuple[int, int]:
        starts = self._line_starts()
        index = bisect.bisect_right(starts, offset) - 1
        return index + 1, offset - starts[index] + 1

    def scannable(self, offset: int) -> bool:
        start = self._text.rfind("\n", 0, offset) + 1
        end = self._text.find("\n", offset)
        return scannable(self._text[start : end if end >= 0 else len(self._text)])

    def _line_starts(self) -> list[int]:
        if self._starts is None:
            self._starts = [0]
            self._starts.extend(m.end() for m in re.finditer("\n", self._text))
        return self._starts
